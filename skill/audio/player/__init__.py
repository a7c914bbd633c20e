"""Play the whole routine from the prerendered clips: no network, no Alexa, no smart speaker.

- :mod:`.timeline`: the session as a runner with no one to talk to would hear it, as a
  :class:`~.timeline.Timeline` of clips and silences; pure, and needs no audio library.
- :mod:`.export`: a timeline mixed down to one MP3.
- :mod:`.playback`: a timeline played on the sound card, with keys.
"""
