"""The phone player: a web page that plays the routine from the prerendered clips, offline.

The page (``skill/web/player/``) never rebuilds the session: it reads the timeline that
``yoga-skill play`` plays (:mod:`skill.audio.player.timeline`), exported here as JSON, one file
per choice of session (:class:`~skill.audio.choice.Choice`), at
``player/timelines/<choice>.json``. The same paths are served by the webhook (``yoga-skill
serve``: made when asked, the latest remembered) and
written as files by :meth:`PlayerSite.export` (``yoga-skill export-player``) for a static host
(the SAM template's bucket), so the page works unchanged on both. Every path is relative to the
site's root, where the page is:

- ``index.html`` (served at ``/``), ``sw.js`` (the service worker: its scope is the site);
- ``player/`` the page's script, style, web app manifest and icons;
- ``player/timelines/<choice>.json`` a session's timeline;
- ``audio/clips/<id>.mp3`` the clips (the webhook's ``/audio/``; ``audio/`` on the bucket).

Templates name what is filled in as ``%%NAME%%``: the version (a hash of everything the page
is made of, which names the service worker's cache and busts the browser's), and the
options the skill offers (its focus areas, the range of breaths).
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from skill.audio.choice import Choice, every_choice
from skill.audio.manifest import load_manifest
from skill.routine.coach import Coach
from skill.routine.content import Routine, load_routine
from skill.routine.state import (
    DEFAULT_BREATHS,
    MAX_BREATHS,
    MIN_BREATHS,
)
from skill.web.player_routes import add_player  # re-exported: the routes live there

if TYPE_CHECKING:
    from skill.audio.player.timeline import Clip, PlayerError, Timeline

# The timeline (skill.audio.player.timeline) and the skill's icon (skill.publish.content) are
# imported when the player is first asked for: the webhook's cold start needs neither.

PLAYER_DIR = Path(__file__).resolve().parent / "player"
TIMELINE_VERSION = 1

ASSETS: dict[str, str] = {
    "player.js": "text/javascript",
    "player.css": "text/css",
    "app.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
    "apple-touch-icon.png": "image/png",
}
"""The files of ``player/`` the page is made of, with their media types."""
ICONS: dict[str, int] = {"icon-192.png": 192, "icon-512.png": 512, "apple-touch-icon.png": 180}
"""The PNG icons, drawn from the skill's icon (:data:`ICON_SOURCE`), and their sizes."""


def source_of(name: str) -> Path:
    """Where an asset is kept: the icon is the skill's own, the rest are in ``player/``."""
    from skill.publish.content import ICON_SOURCE

    return ICON_SOURCE if name == "icon.svg" else PLAYER_DIR / name


def __getattr__(name: str) -> Any:
    if name == "PlayerError":  # re-exported (see __all__), from the timeline's module
        from skill.audio.player.timeline import PlayerError

        return PlayerError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


IMMUTABLE = "public, max-age=31536000, immutable"
REMEMBERED = 64
"""Timelines a server keeps made (about 12 kB each)."""
TEMPLATED = frozenset({"app.webmanifest"})
_TOKEN = re.compile(r"%%[A-Z_]+%%")


def clip_url(clip: Clip, entry: Mapping[str, Any]) -> str:
    """A clip's address from the site's root, with the hash of its text and voice: a clip
    rendered again has a new address, so no browser plays a stale one from its cache."""
    version = str(entry.get("hash", ""))[:12]
    file = str(entry.get("file") or f"clips/{clip.id}.mp3")  # clips of the same words share one
    return f"audio/{file}" + (f"?v={version}" if version else "")


def timeline_data(
    timeline: Timeline,
    choice: Choice,
    coach: Coach,
    clips: Mapping[str, Clip],
    manifest: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The timeline as the page reads it: its sections (a pose on one side, or the welcome
    and the closing) and its cues (a clip, then a silence)."""
    numbers: dict[int, int] = {}
    sections: list[dict[str, Any]] = []
    for section in timeline.sections:
        number = None
        if isinstance(section.key, int):
            pose = coach.segments[section.key].pose
            number = numbers.setdefault(pose, len(numbers) + 1)
        sections.append({"key": str(section.key), "start": section.start, "number": number})
    cues = []
    sizes: dict[str, int] = {}
    at = -1
    for i, cue in enumerate(timeline.cues):
        if i == 0 or cue.section != timeline.cues[i - 1].section:  # as Timeline makes sections
            at += 1
            sections[at].update(pose=cue.pose, side=cue.side)
        entry = manifest.get(cue.clip_id, {})
        sizes[str(entry.get("file", cue.clip_id))] = int(entry.get("bytes", 0))
        cues.append(
            {
                "start": cue.start,
                "duration": cue.duration,
                "pause": cue.pause,
                "clip": clip_url(clips[cue.clip_id], entry),
                "section": at,
                "doing": cue.doing,
                "marks": cue.marks,
                "lines": cue.lines or ((0.0, cue.text),),
            }
        )
    return {
        "version": TIMELINE_VERSION,
        "name": choice.name,
        "mode": choice.mode,
        "breaths": choice.breaths,
        "plan": choice.plan.encode(),
        "brief": choice.brief,
        "variations": choice.variations,
        "total": round(timeline.total, 3),
        "poses": len(numbers),
        "clips": len(sizes),
        "bytes": sum(sizes.values()),
        "sections": sections,
        "cues": cues,
    }


def _fill(text: str, values: Mapping[str, str], name: str) -> str:
    for key, value in values.items():
        text = text.replace(f"%%{key}%%", value)
    left = _TOKEN.search(text)
    if left is not None:  # pragma: no cover - a template naming a value nobody gives
        raise ValueError(f"{name}: nothing fills {left.group()}")
    return text


def _title(name: str) -> str:
    return name[:1].upper() + name[1:]


class PlayerSite:
    """The page, its files and the session timelines, made from the routine and the clip
    manifest. Timelines are made when first asked for and remembered."""

    def __init__(self, routine: Routine, audio_dir: Path) -> None:
        self.routine = routine
        self.coach = Coach(routine)
        self.areas = frozenset(area.id for area in routine.focus_areas)
        self.audio_dir = audio_dir
        self._clips: dict[str, Clip] | None = None
        self._manifest: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._timelines: dict[Choice, bytes] = {}
        raw = {name: source_of(name).read_bytes() for name in ASSETS}
        page = (PLAYER_DIR / "index.html").read_text(encoding="utf-8")
        worker = (PLAYER_DIR / "sw.js").read_text(encoding="utf-8")
        digest = hashlib.sha256()
        for name in sorted(raw):
            digest.update(name.encode() + b"\0" + raw[name] + b"\0")
        options = self._focus_options()
        for part in (page, worker, options):
            digest.update(part.encode() + b"\0")
        self.version = digest.hexdigest()[:12]
        values = {
            "VERSION": self.version,
            "FOCUS_OPTIONS": options,
            "MIN_BREATHS": str(MIN_BREATHS),
            "MAX_BREATHS": str(MAX_BREATHS),
            "DEFAULT_BREATHS": str(DEFAULT_BREATHS),
            "SHELL": orjson.dumps(self.shell()).decode(),
        }
        self.assets = {
            name: _fill(data.decode(), values, name).encode() if name in TEMPLATED else data
            for name, data in raw.items()
        }
        self.page = _fill(page, values, "index.html").encode()
        self.worker = _fill(worker, values, "sw.js").encode()

    def _focus_options(self) -> str:
        return "\n".join(
            f'          <option value="{html.escape(area.id)}">{html.escape(_title(area.name))}'
            "</option>"
            for area in self.routine.focus_areas
        )

    def shell(self) -> list[str]:
        """What the service worker keeps for the page to open offline: the page and its files."""
        return ["./", *(f"player/{name}?v={self.version}" for name in ASSETS)]

    def timeline(self, choice: Choice) -> bytes:
        """The timeline of ``choice`` as JSON; :class:`PlayerError` if the clips can't make it.
        The latest :data:`REMEMBERED` are kept (a few milliseconds each to make)."""
        with self._lock:
            found = self._timelines.pop(choice, None)
            if found is not None:
                self._timelines[choice] = found  # the most recent last
                return found
            if self._clips is None:
                from skill.audio.player.timeline import load_clips

                self._clips = load_clips(self.audio_dir)
                self._manifest = load_manifest(self.audio_dir)
            clips = self._clips
        from skill.audio.player.timeline import build_timeline

        timeline = build_timeline(self.routine, clips, choice.session)
        body = orjson.dumps(timeline_data(timeline, choice, self.coach, clips, self._manifest))
        with self._lock:
            self._timelines[choice] = body
            while len(self._timelines) > REMEMBERED:
                del self._timelines[next(iter(self._timelines))]
        return body

    def export(self, out: Path, choices: Iterable[Choice] | None = None) -> int:
        """Write the site (without the clips) to ``out``: every file the page reads, and the
        timeline of each of ``choices`` (every one by default). Returns how many timelines."""
        out = Path(out)
        (out / "player" / "timelines").mkdir(parents=True, exist_ok=True)
        (out / "index.html").write_bytes(self.page)
        (out / "sw.js").write_bytes(self.worker)
        for name, data in self.assets.items():
            (out / "player" / name).write_bytes(data)
        count = 0
        for choice in every_choice(self.routine) if choices is None else choices:
            path = out / "player" / "timelines" / f"{choice.name}.json"
            path.write_bytes(self.timeline(choice))
            count += 1
        return count


@functools.cache
def player_site(audio_dir: Path) -> PlayerSite:
    """The site over the default routine and the clips in ``audio_dir``, made once."""
    return PlayerSite(load_routine(), audio_dir)


__all__ = [
    "ASSETS",
    "PlayerError",
    "PlayerSite",
    "add_player",
    "player_site",
    "timeline_data",
]
