"""SSML for Alexa: build it from narration lines, and check it against Alexa's limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from skill.speech.narration import Block

MAX_SPEECH_CHARS = 8000
MAX_BREAK_MS = 10_000
MAX_AUDIO_TAGS = 5
MAX_AUDIO_SECONDS = 240.0
MAX_RESPONSE_BYTES = 24 * 1024

ClipLookup = Callable[[Block], "tuple[str, float] | None"]
"""Given a block of lines, the URL and seconds of its prerendered clip, or None."""


def breaks(ms: int) -> str:
    """``<break>`` tags for a pause, each within Alexa's 10 second limit."""
    out = []
    while ms > 0:
        chunk = min(ms, MAX_BREAK_MS)
        out.append(f'<break time="{chunk}ms"/>')
        ms -= chunk
    return "".join(out)


@lru_cache(maxsize=4096)
def _spoken(block: Block) -> str:
    """A block as SSML text and breaks (remembered: the same blocks are said again and again)."""
    out = []
    for line in block:
        out.append(escape(line.text))
        out.append(breaks(line.pause_ms) if line.pause_ms else " ")
    return "".join(out)


def _clips_for(block: Block, clips: ClipLookup) -> list[tuple[str, float, int]]:
    """(url, seconds, pause after) to play a block: its own clip, else one clip a line."""
    whole = clips(block)
    if whole is not None:
        return [(whole[0], whole[1], block[-1].pause_ms)]
    if len(block) == 1:
        return []
    each = [clips((line,)) for line in block]
    if not all(each):
        return []
    return [(c[0], c[1], line.pause_ms) for c, line in zip(each, block, strict=True) if c]


def to_ssml(blocks: Iterable[Block], clips: ClipLookup | None = None) -> str:
    """A ``<speak>`` document. With ``clips``, each block plays as its prerendered ``<audio>``
    clip while Alexa's limits allow (5 clips, 240 s); the rest is spoken by Alexa."""
    body: list[str] = []
    audio_tags = 0
    audio_seconds = 0.0
    for block in blocks:
        found = _clips_for(block, clips) if clips else []
        seconds = sum(clip[1] for clip in found)
        if (
            found
            and audio_tags + len(found) <= MAX_AUDIO_TAGS
            and audio_seconds + seconds <= MAX_AUDIO_SECONDS
        ):
            for url, _, pause in found:
                body.append(f"<audio src={quoteattr(url)}/>")
                body.append(breaks(pause) if pause else " ")
            audio_tags += len(found)
            audio_seconds += seconds
        else:
            body.append(_spoken(block))
    return "<speak>" + "".join(body).strip() + "</speak>"


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


def plain_text(ssml: str) -> str:
    """What the SSML says, as text (pauses shown as ' ... ' where they are long)."""
    try:
        root = ElementTree.fromstring(ssml)
    except ElementTree.ParseError:
        return ssml
    parts: list[str] = []
    for element in root.iter():
        if element.tag == "audio":
            parts.append(f"[audio {element.get('src', '')}]")
        if element.text and element.tag != "audio":
            parts.append(element.text)
        if element.tail:
            parts.append(element.tail)
    return " ".join(" ".join(parts).split())
