"""Which prerendered clip plays a block of narration, for ``<audio>`` in skill responses.

Reads only ``audio/manifest.json`` (no audio libraries), so it runs on Lambda too.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

from skill.audio.manifest import ManifestError, read_manifest
from skill.resources import AUDIO_DIR
from skill.speech.narration import Block, block_id
from skill.speech.ssml import ClipLookup


class AudioConfigError(ValueError):
    """YOGA_AUDIO_BASE_URL or the manifest cannot be used; one line for the operator."""


def clip_lookup(base_url: str, audio_dir: Path = AUDIO_DIR) -> ClipLookup:
    """A lookup from blocks to (URL, seconds) of their clips under ``base_url``.

    A block plays as a clip only if the manifest has it with exactly the block's text, so a
    stale clip is never played in place of changed words: Alexa speaks those instead.
    """
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.netloc:
        raise AudioConfigError(f"YOGA_AUDIO_BASE_URL must be an https:// URL, not {base_url!r}")
    try:
        entries = read_manifest(audio_dir)
        base = base_url.rstrip("/")
        clips = {
            clip_id: (str(e["text"]), str(e["file"]), float(e["duration"]))
            for clip_id, e in entries.items()
        }
    except (ManifestError, KeyError, TypeError, ValueError) as exc:
        raise AudioConfigError(
            str(exc)
            if isinstance(exc, ManifestError)
            else f"the clip manifest has a broken entry: {exc!r}"
        ) from None
    urls: dict[str, str] = {}  # made when first played: a session plays a few dozen of hundreds

    def lookup(block: Block) -> tuple[str, float] | None:
        clip_id = block_id(block)
        found = clips.get(clip_id)
        if found is None or found[0] != " ".join(line.text for line in block):
            return None
        url = urls.get(clip_id)
        if url is None:
            url = urls[clip_id] = f"{base}/{quote(found[1])}"
        return url, found[2]

    return lookup
