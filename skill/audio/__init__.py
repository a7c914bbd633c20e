"""Prerendered narration: speak every line of the routine to MP3 clips that Alexa can play.

At run time, with no audio library: ``manifest`` reads ``audio/manifest.json`` and ``clips`` finds
the clip that plays a block of narration in a response.

The tools (the ``audio`` extra): ``catalogue`` lists every block the skill can say, ``engines``
turns text into PCM (gTTS online, piper offline), ``processing`` trims, normalises loudness and
encodes Alexa-ready MP3 (and decodes it again), ``mp3check`` checks a file against Alexa's SSML
audio rules, ``render`` keeps ``audio/clips/*.mp3`` and ``audio/manifest.json`` in step with the
catalogue, re-rendering only what changed, and ``player`` plays or exports the whole routine
from the clips.
"""

from skill.resources import AUDIO_DIR

__all__ = ["AUDIO_DIR"]
