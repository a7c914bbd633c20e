"""The clip manifest, ``audio/manifest.json``: every prerendered clip's id, text and file.

Reading it needs no audio library, so the webhook and the Lambda (which play clips by URL) and
the timeline use this module; only rendering writes the manifest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
CLIPS_DIR = "clips"
CLIP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ManifestError(ValueError):
    """The manifest cannot be read; one line for the operator."""


_read: dict[Path, tuple[bytes, dict[str, dict[str, Any]]]] = {}
"""The last manifest parsed from each path, with the bytes it was parsed from."""


def read_manifest(audio_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest's clips by id; raises :class:`ManifestError` if it is missing or broken.

    The same bytes are parsed once (the skill reads the file for its clip lookup and for its
    screens' timings, each a quarter-megabyte parse in a cold start): every call gets its own
    dict, but the entries in it are shared, so they are never to be changed."""
    path = Path(audio_dir) / MANIFEST_NAME
    try:
        raw = path.read_bytes()
        known = _read.get(path)
        if known is not None and known[0] == raw:
            return dict(known[1])
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read the clip manifest {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        raise ManifestError(f"the clip manifest {path} is not version {MANIFEST_VERSION}")
    clips = data.get("clips")
    if not isinstance(clips, list):
        raise ManifestError(f"the clip manifest {path} has no list of clips")
    entries = {
        c["id"]: c
        for c in clips
        if isinstance(c, dict) and isinstance(c.get("id"), str) and CLIP_ID.match(c["id"])
    }
    _read[path] = (raw, entries)
    return dict(entries)


def load_manifest(audio_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest's clips by id; empty if there is none (or it is unreadable)."""
    try:
        return read_manifest(audio_dir)
    except ManifestError:
        return {}
