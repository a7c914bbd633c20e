"""Alexa's rules for what a skill sends, as the tests check them: responses, SSML and clips.

The skill keeps within these limits by construction (``skill.speech.ssml``, ``skill.audio``);
these checks are the tests' independent reading of Alexa's documentation.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from skill.speech.ssml import MAX_AUDIO_TAGS, MAX_BREAK_MS

MAX_RESPONSE_BYTES = 24 * 1024
"""The largest response Alexa accepts, as JSON."""
MAX_SPEECH_CHARS = 8000
"""The longest output speech Alexa accepts, in characters of SSML."""

_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


def check_ssml(ssml: str) -> list[str]:
    """Everything about this SSML that Alexa would reject; empty when it is fine."""
    problems = []
    if len(ssml) > MAX_SPEECH_CHARS:
        problems.append(f"{len(ssml)} characters, over {MAX_SPEECH_CHARS}")
    try:
        root = ElementTree.fromstring(ssml)
    except ElementTree.ParseError as exc:
        return [*problems, f"not well-formed: {exc}"]
    if root.tag != "speak":
        problems.append(f"root element is <{root.tag}>, not <speak>")
    audio = 0
    for element in root.iter():
        if element.tag == "break":
            match = _TIME.match(element.get("time", ""))
            if not match:
                problems.append(f"break without a valid time: {element.attrib}")
                continue
            value = float(match.group(1)) * (1 if match.group(2) == "ms" else 1000)
            if value > MAX_BREAK_MS:
                problems.append(f"break of {value:.0f} ms, over {MAX_BREAK_MS}")
        elif element.tag == "audio":
            audio += 1
            if not element.get("src", "").startswith("https://"):
                problems.append(f"audio src is not https: {element.get('src')}")
        elif element.tag not in ("speak", "p", "s", "emphasis", "prosody", "say-as"):
            problems.append(f"unexpected element <{element.tag}>")
    if audio > MAX_AUDIO_TAGS:
        problems.append(f"{audio} audio tags, over {MAX_AUDIO_TAGS}")
    return problems


def check_clip(path: str | Path) -> list[str]:
    """Every Alexa SSML-audio rule the MP3 at ``path`` breaks; an empty list means it's fine."""
    from skill.audio.mp3check import check_info, read_info  # the audio extra

    path = Path(path)
    if not path.is_file():
        return [f"{path}: file not found"]
    try:
        info = read_info(path)
    except ValueError as exc:
        return [str(exc)]
    return check_info(info)
