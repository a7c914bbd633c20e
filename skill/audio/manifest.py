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


def read_manifest(audio_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest's clips by id; raises :class:`ManifestError` if it is missing or broken."""
    path = Path(audio_dir) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read the clip manifest {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        raise ManifestError(f"the clip manifest {path} is not version {MANIFEST_VERSION}")
    clips = data.get("clips")
    if not isinstance(clips, list):
        raise ManifestError(f"the clip manifest {path} has no list of clips")
    return {
        c["id"]: c
        for c in clips
        if isinstance(c, dict) and isinstance(c.get("id"), str) and CLIP_ID.match(c["id"])
    }


def load_manifest(audio_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest's clips by id; empty if there is none (or it is unreadable)."""
    try:
        return read_manifest(audio_dir)
    except ManifestError:
        return {}
