"""Prerendered narration: speak every line of the routine to MP3 clips that Alexa can play.

``engines`` turns text into PCM (gTTS online, piper offline), ``processing`` trims, normalises
loudness and encodes Alexa-ready MP3 (and decodes it again), ``mp3check`` checks a file against
Alexa's SSML audio rules, and ``render`` keeps ``audio/clips/*.mp3`` and ``audio/manifest.json``
in step with the routine's text, re-rendering only what changed.
"""

from skill.resources import AUDIO_DIR

__all__ = ["AUDIO_DIR"]
