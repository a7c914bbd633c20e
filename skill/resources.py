"""Where the skill's data lives: the interaction models and the clip manifest.

In the source tree they sit at the top of the repository (``interaction_models/``, ``audio/``),
as the design brief lays out; a built wheel carries copies under ``skill/_data/``, put there at
build time (see ``pyproject.toml``), so an installed package works from any folder.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = PACKAGE_DIR / "_data"


def data_dir(name: str) -> Path:
    """The folder ``name`` from the wheel's bundled data, else from the source tree."""
    bundled = _BUNDLED / name
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / name


INTERACTION_MODELS_DIR = data_dir("interaction_models")
AUDIO_DIR = data_dir("audio")
"""The prerendered clips (``clips/*.mp3``, in the source tree only) and ``manifest.json``."""
