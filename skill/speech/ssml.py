"""SSML for Alexa: built from narration blocks within Alexa's limits on breaks (10 s each) and
clips (5 and 240 s a response), and read back as text."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from skill.speech.narration import Block, is_aside

MAX_BREAK_MS = 10_000
MAX_AUDIO_TAGS = 5
MAX_AUDIO_SECONDS = 240.0

ClipLookup = Callable[[Block], "tuple[str, float] | None"]
"""Given a block of lines, the URL and seconds of its prerendered clip, or None."""


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities (as ``xml.sax.saxutils.escape``, whose import
    brings urllib.request, http.client and email with it: a fifth of a cold start)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An XML attribute value in quotes, escaped (as ``xml.sax.saxutils.quoteattr``)."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


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
    clip while Alexa's limits allow (5 clips, 240 s); the rest is spoken by Alexa. When not
    every clip fits, the routine's own words take the clips first and the asides around them
    (a change of mode, the hint to say next: :func:`~skill.speech.narration.is_aside`) what
    is left, each in the order said."""
    said = list(blocks)
    found = [_clips_for(block, clips) if clips else [] for block in said]
    playing = [False] * len(said)
    audio_tags = 0
    audio_seconds = 0.0
    for asides in (False, True):
        for i, block in enumerate(said):
            seconds = sum(clip[1] for clip in found[i])
            if (
                found[i]
                and is_aside(block) == asides
                and audio_tags + len(found[i]) <= MAX_AUDIO_TAGS
                and audio_seconds + seconds <= MAX_AUDIO_SECONDS
            ):
                playing[i] = True
                audio_tags += len(found[i])
                audio_seconds += seconds
    body: list[str] = []
    for i, block in enumerate(said):
        if playing[i]:
            for url, _, pause in found[i]:
                body.append(f"<audio src={quoteattr(url)}/>")
                body.append(breaks(pause) if pause else " ")
        else:
            body.append(_spoken(block))
    return "<speak>" + "".join(body).strip() + "</speak>"


def plain_text(ssml: str) -> str:
    """What the SSML says, as one line of text: its words with runs of whitespace made one
    space, each ``<audio>`` clip as ``[audio URL]``, and no pauses (breaks are left out).
    Text that is not well-formed XML comes back as it is."""
    from xml.etree import ElementTree  # for logs, tests and the local dialog, not for answers

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
