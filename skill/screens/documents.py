"""The APL documents, the layouts they are sized by, and the card written from a screen.

Pure data work, no SDK: the documents are read once from ``apl/*.json`` (each with the
layouts, styles and resources of ``apl/common.json``), a viewport is matched to a layout of
``layouts.yaml``, and a screen from :func:`skill.screens.datasources.screen_for` becomes the
``RenderDocument`` directive's parts or a card's title and text.
"""

# No `from __future__ import annotations` here: NamedTuple would compile each string annotation
# at every cold start (README, "Performance").

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from skill.routine.content import read_yaml

SCREENS_DIR = Path(__file__).parent
DOCUMENTS_DIR = SCREENS_DIR / "apl"
LAYOUTS_FILE = SCREENS_DIR / "layouts.yaml"
VIEWPORTS_FILE = SCREENS_DIR / "viewports.yaml"
COMMON = "common"

APL_VERSION = "2024.2"
"""The APL version every document is written for; a device must run at least this one."""

DOCUMENT_OF_KIND: Mapping[str, str] = {
    "pose": "pose",
    "flow": "flow",
    "help": "message",
    "resume": "message",
    "paused": "message",
    "ready": "message",
    "closing": "message",
}
"""Which document shows each kind of screen."""

TOKEN_PREFIX = "post-run-yoga"

MAX_CARD_CHARS = 8000
"""Alexa's limit on a card's title and text together."""
MAX_CARD_TITLE = 60
"""Kept short so the Alexa app shows the whole title on a phone."""
DEFAULT_DPI = 160


# ---------------------------------------------------------------------- documents


@cache
def load_document(name: str) -> dict[str, Any]:
    """A document as it is sent: its own file with the shared layouts, styles and resources.
    The same object is returned each time: read it, never change it."""
    document: dict[str, Any] = json.loads((DOCUMENTS_DIR / f"{name}.json").read_text("utf-8"))
    common: dict[str, Any] = json.loads((DOCUMENTS_DIR / f"{COMMON}.json").read_text("utf-8"))
    for key in ("layouts", "styles"):
        document[key] = {**common.get(key, {}), **document.get(key, {})}
    document["resources"] = [*common.get("resources", []), *document.get("resources", [])]
    return document


def document_names() -> list[str]:
    """Every document the skill sends."""
    return sorted(set(DOCUMENT_OF_KIND.values()))


def version_of(text: object) -> tuple[int, ...] | None:
    """An APL version ("1.9", "2024.2") as numbers to compare; ``None`` if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        parts = tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return None
    return parts if parts and all(part >= 0 for part in parts) else None


def runs_documents(max_version: object) -> bool:
    """Whether a device whose APL runtime goes up to ``max_version`` can show the documents.
    A device that names no version is not sent one: a card is shown instead."""
    found = version_of(max_version)
    required = version_of(APL_VERSION)
    return found is not None and required is not None and found >= required


# ---------------------------------------------------------------------- layouts


class Viewport(NamedTuple):
    """What a request says about the screen (``context.Viewport``): shape, mode, size in pixels
    (the current size, as the skill sees it) and density."""

    shape: str | None = None
    mode: str | None = None
    width: int | None = None
    height: int | None = None
    dpi: int | None = None


@cache
def layouts() -> Mapping[str, Mapping[str, Any]]:
    """The layouts of ``layouts.yaml`` by name."""
    data: dict[str, dict[str, Any]] = read_yaml(LAYOUTS_FILE)
    return data


def layout_for(viewport: Viewport | None) -> str:
    """The layout for a viewport, by the sizes of Alexa's viewport profiles (in dp: pixels at
    160 dpi). A viewport the request leaves out or gets wrong gets the medium hub's layout."""
    if viewport is None or not viewport.width or not viewport.height:
        return "medium"
    dpi = viewport.dpi if viewport.dpi and viewport.dpi > 0 else DEFAULT_DPI
    width = viewport.width * DEFAULT_DPI / dpi
    height = viewport.height * DEFAULT_DPI / dpi
    if (viewport.shape or "").upper() == "ROUND":
        return "round"
    if (viewport.mode or "").upper() == "TV":
        return "tv"
    if width < height:
        return "portrait_large" if width >= 800 else "portrait"
    if height < 600:
        return "small"
    if width < 1280:
        return "medium"
    if width < 1920:
        return "large"
    return "xlarge"


def apl_interface() -> dict[str, Any]:
    """The skill manifest's entry for the screens (``apis.custom.interfaces``): the APL
    interface and the viewports of ``viewports.yaml``."""
    viewports: list[dict[str, Any]] = read_yaml(VIEWPORTS_FILE)
    return {"type": "ALEXA_PRESENTATION_APL", "supportedViewports": viewports}


# ---------------------------------------------------------------------- the directive


def _escaped(value: Any) -> Any:
    """Datasource text as APL text markup reads it: ``&``, ``<`` and ``>`` as entities."""
    if isinstance(value, str):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


def render_parts(
    screen: Mapping[str, Any], layout: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(token, document, datasources) of the ``RenderDocument`` directive for a screen."""
    kind = str(screen["kind"])
    name = DOCUMENT_OF_KIND[kind]
    sizes = {"name": layout, **layouts()[layout]}
    datasources = {"screen": {**_escaped(dict(screen)), "layout": sizes}}
    return f"{TOKEN_PREFIX}.{kind}", load_document(name), datasources


# ---------------------------------------------------------------------- cards


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def card_for(screen: Mapping[str, Any], words: Mapping[str, Any]) -> tuple[str, str]:
    """(title, text) of a standard card for a screen: the pose, its side, its steps and the
    tip; the poses and cues of a flow; or the heading and what was said."""
    pose = screen.get("pose")
    lines: list[str] = []
    if pose and screen["kind"] in ("pose", "flow"):
        side = pose["side"]
        title = (
            str(words["card_pose_title"]).format(name=pose["name"], side=side.lower())
            if side
            else pose["name"]
        )
        progress = screen["progress"]
        lines.append(f"{progress['label']} \u00b7 {progress['plan']}")
    else:
        title = screen["heading"] or screen["title"]
        if pose:
            lines.append(
                f"{pose['name']}, {pose['side'].lower()}" if pose["side"] else pose["name"]
            )
    if screen["kind"] == "pose":
        lines.append(screen["targets"])
        lines.append("")
        for step in screen["steps"]:
            lines.append(str(words["card_step"]).format(number=step["number"], text=step["text"]))
        guide = screen["guide"]
        lines.append("")
        if guide["kind"] != "rest":
            lines.append(str(words["card_hold"]).format(breaths=guide["label"]))
        if screen["tip"]:
            lines.append(str(words["card_tip"]).format(tip=screen["tip"]))
    elif screen["kind"] == "flow":
        for item in screen["flow"]:
            lines.append("")
            lines.append(
                f"{item['name']}, {item['side'].lower()}" if item["side"] else item["name"]
            )
            lines.extend(item["cues"])
    else:
        lines.append(screen["body"])
    if screen["hint"]:
        lines += ["", screen["hint"]]
    title = _clip(title, MAX_CARD_TITLE)
    text = _clip("\n".join(lines).strip(), MAX_CARD_CHARS - len(title))
    return title, text
