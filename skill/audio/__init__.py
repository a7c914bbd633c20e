"""Prerendered narration: speak every line of the routine to MP3 clips that Alexa can play.

At run time, with no audio library: ``manifest`` reads ``audio/manifest.json`` and ``clips`` finds
the clip that plays a block of narration in a response.

The tools (the ``audio`` extra): ``catalogue`` lists every block the skill can say, ``engines``
turns text into PCM (gTTS online, hibari or piper offline), ``lexicon`` says how the voices are
to say the yoga and anatomy words, ``processing`` trims, normalises loudness, keeps true peaks
down and encodes Alexa-ready MP3 (and decodes it again), ``mp3check`` checks a file against
Alexa's SSML audio rules, ``render`` keeps ``audio/clips/*.mp3`` and ``audio/manifest.json`` in
step with the catalogue, re-rendering only what changed, ``player`` plays or exports the whole
routine from the clips, and ``audiocheck`` (``make audio-check``) measures how well a speech
recogniser hears them.
"""

from skill.resources import AUDIO_DIR

__all__ = ["AUDIO_DIR"]
