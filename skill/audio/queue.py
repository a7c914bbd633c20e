"""The whole session as a queue of streams for Alexa's audio player, and tokens that name them.

Pure: the queue is read off the offline player's :class:`~skill.audio.player.timeline.Timeline`
(the same clips in the same order as ``yoga-skill play``), with no audio library and no files
read beyond the clip manifest, so it runs on Lambda too.

**Silences.** Alexa's audio player plays streams, not silence, so the timeline's pauses become
streams too: committed silent MP3s of a few standard lengths (:data:`SILENCE_MS`, in
``audio/silence/``), as many as add up to the pause. The long rests (the closing relaxation, 12 s
a breath) are made of 24 s and 12 s pieces; the 2.5 s after a pose's steps and the 1.5 s between
flow cues are a piece each. Pauses shorter than the shortest piece (0.4 s after an introduction or
a tip) are not queued: the device's change from one stream to the next leaves a gap of its own,
and a stream for them would add a second. Silent streams rather than clips padded with silence
keep one set of clips for every use (SSML, the phone player, the export) and cost about 240 KB;
rather than an offset into one long silent stream, because a queue of whole streams needs no
seeking and resumes the same way as a clip.

**Tokens.** Each stream's token names the session's settings and the stream's place:
``pry1:<mode>-<breaths>-<plan>-<steps|brief>-<var|novar>:<index>:<check>`` (the settings in the
phone player's timeline names), where ``check`` is a digest of what plays there, so a token made
before the clips changed is recognised as stale. Tokens come back in requests and are untrusted:
:meth:`Queues.find` parses them strictly and answers ``None`` for anything else.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from skill.audio.choice import Choice, ChoiceError
from skill.audio.player.timeline import (
    CLOSING,
    WELCOME,
    Clip,
    Cue,
    PlayerError,
    SectionKey,
    Timeline,
    build_timeline,
)
from skill.routine.content import Routine

SILENCE_DIR = "silence"
SILENCE_MS: tuple[int, ...] = (24_000, 12_000, 2_500, 1_500)
"""The committed silent streams, longest first: ``audio/silence/<ms>.mp3``."""
TOKEN_PREFIX = "pry1"
MAX_TOKEN_CHARS = 200
"""Alexa allows 1,024; ours are at most 47 characters. Anything longer is not ours."""
BACK_GRACE_SECONDS = 3.0
"""Seconds into a pose side after which "previous" starts it again (as the phone player)."""
CACHE_SIZE = 32
"""Queues kept built (a few milliseconds each to build; about 100 streams each)."""

_TOKEN = re.compile(rf"{TOKEN_PREFIX}:([a-z0-9_-]{{1,80}}):(0|[1-9][0-9]{{0,4}}):([0-9a-f]{{8}})")


def silence_pieces(seconds: float) -> tuple[int, ...]:
    """The silent streams (in ms) that make a pause: greedy over :data:`SILENCE_MS`, after
    rounding the pause to half a second; what is left under the shortest piece is not played."""
    left = round(seconds * 2) * 500
    pieces: list[int] = []
    for piece in SILENCE_MS:
        while left >= piece:
            pieces.append(piece)
            left -= piece
    return tuple(pieces)


def silence_path(ms: int) -> str:
    """A silent stream's path under the audio folder (and its base URL)."""
    return f"{SILENCE_DIR}/{ms}.mp3"


# --------------------------------------------------------------------------------- settings


# --------------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class Item:
    """One stream of the queue: a clip, or a piece of the silence after one."""

    index: int
    """Its place in the queue."""
    cue: int
    """The timeline cue it plays, or whose pause it is part of."""
    path: str
    """Under the audio folder: ``clips/<id>.mp3`` or ``silence/<ms>.mp3``."""
    duration: float
    """Seconds (a clip's measured length, a silence's nominal one)."""
    start: float
    """Seconds from the start of the session, as the timeline counts them."""
    section: SectionKey
    title: str
    """For a screen: the pose's name (or "Welcome", "Closing")."""
    subtitle: str
    """For a screen: the side, or what is being done."""
    silence_ms: int = 0
    """For a silent stream, its length; 0 for a clip."""
    clip_id: str = ""

    @property
    def check(self) -> str:
        what = f"{self.cue}:{self.clip_id or 'silence'}:{self.silence_ms}"
        return hashlib.sha256(what.encode()).hexdigest()[:8]


class PlayQueue:
    """The streams of one session, in order, with the moves between them."""

    def __init__(self, choice: Choice, timeline: Timeline, clip_paths: Mapping[str, str]) -> None:
        self.choice = choice
        self.timeline = timeline
        items: list[Item] = []
        for number, cue in enumerate(timeline.cues):
            items.append(self._clip_item(len(items), number, cue, clip_paths[cue.clip_id]))
            at = cue.start + cue.duration
            for ms in silence_pieces(cue.pause):
                items.append(
                    Item(
                        index=len(items),
                        cue=number,
                        path=silence_path(ms),
                        duration=ms / 1000,
                        start=round(at, 3),
                        section=cue.section,
                        title=cue.pose,
                        subtitle=_subtitle(cue),
                        silence_ms=ms,
                    )
                )
                at += ms / 1000
        self.items: tuple[Item, ...] = tuple(items)
        firsts: dict[SectionKey, int] = {}
        for item in self.items:
            firsts.setdefault(item.section, item.index)
        self._section_firsts = firsts
        self._sections: tuple[SectionKey, ...] = tuple(firsts)

    @staticmethod
    def _clip_item(index: int, number: int, cue: Cue, path: str) -> Item:
        return Item(
            index=index,
            cue=number,
            path=path,
            duration=cue.duration,
            start=cue.start,
            section=cue.section,
            title=cue.pose,
            subtitle=_subtitle(cue),
            clip_id=cue.clip_id,
        )

    def __len__(self) -> int:
        return len(self.items)

    @property
    def duration(self) -> float:
        """Seconds from the first stream's start to the last one's end."""
        last = self.items[-1]
        return last.start + last.duration

    @property
    def last_side(self) -> int | None:
        """The session's last pose side (the closing relaxation), if it has one."""
        sides = [key for key in self._sections if isinstance(key, int)]
        return sides[-1] if sides else None

    def near_the_end(self, item: Item) -> bool:
        """Whether ``item`` is in the last pose side or the closing: where a play-through that
        is about to finish has got to."""
        last = self.last_side
        end = self.first_of(CLOSING) if last is None else self.first_of(last)
        return end is not None and item.index >= end.index

    def token(self, item: Item) -> str:
        return f"{TOKEN_PREFIX}:{self.choice.name}:{item.index}:{item.check}"

    def after(self, item: Item) -> Item | None:
        """The stream that follows, or ``None`` after the last."""
        following = item.index + 1
        return self.items[following] if following < len(self.items) else None

    @property
    def sections(self) -> tuple[SectionKey, ...]:
        """The welcome, each pose side (a segment's index) and the closing, in order."""
        return self._sections

    def first_of(self, section: SectionKey) -> Item | None:
        index = self._section_firsts.get(section)
        return None if index is None else self.items[index]

    def start_at(self, segment: int | None) -> Item:
        """Where to start for a runner at ``segment``: its first stream, else the first of the
        next pose side this session has; from the top for ``None``."""
        if segment is not None:
            for key in self._sections:
                if isinstance(key, int) and key >= segment:
                    return self.items[self._section_firsts[key]]
            closing = self.first_of(CLOSING)
            if closing is not None:
                return closing
        return self.items[0]

    def next_section(self, item: Item) -> Item | None:
        """The first stream of the next pose side (or the closing); ``None`` from the closing."""
        here = self._sections.index(item.section)
        if here + 1 >= len(self._sections):
            return None
        return self.items[self._section_firsts[self._sections[here + 1]]]

    def previous_section(self, item: Item, offset_ms: int = 0) -> Item:
        """Back a pose side; this side again if it has played for over
        :data:`BACK_GRACE_SECONDS` (or it is the first)."""
        here = self._sections.index(item.section)
        first = self.items[self._section_firsts[item.section]]
        into = item.start + max(0, offset_ms) / 1000 - first.start
        if into > BACK_GRACE_SECONDS or here == 0:
            return first
        return self.items[self._section_firsts[self._sections[here - 1]]]

    def url(self, base_url: str, item: Item) -> str:
        return f"{base_url.rstrip('/')}/{quote(item.path)}"


def _subtitle(cue: Cue) -> str:
    if cue.side:
        return f"{cue.side.capitalize()} side"
    return cue.doing.capitalize() if cue.section not in (WELCOME, CLOSING) else ""


# --------------------------------------------------------------------------------- queues


class Queues:
    """The queues of every session, built when first asked for and kept (the latest
    :data:`CACHE_SIZE`), and tokens read back to their streams."""

    def __init__(
        self,
        routine: Routine,
        clips: Callable[[], Mapping[str, Clip]],
        audio_dir: Path,
    ) -> None:
        self.routine = routine
        self._clips = clips
        self._root = Path(audio_dir).resolve()
        self._areas = frozenset(area.id for area in routine.focus_areas)
        self._built: OrderedDict[Choice, PlayQueue] = OrderedDict()

    def queue(self, choice: Choice) -> PlayQueue:
        """The queue of a session; :class:`~skill.audio.player.timeline.PlayerError` if the
        clips cannot make it."""
        found = self._built.get(choice)
        if found is not None:
            self._built.move_to_end(choice)
            return found
        clips = self._clips()
        timeline = build_timeline(self.routine, clips, choice.session)
        paths = {
            cue.clip_id: clips[cue.clip_id].file.relative_to(self._root).as_posix()
            for cue in timeline.cues
        }
        built = PlayQueue(choice, timeline, paths)
        self._built[choice] = built
        while len(self._built) > CACHE_SIZE:
            self._built.popitem(last=False)
        return built

    def _choice(self, name: str) -> Choice | None:
        try:
            return Choice.parse(name, self._areas)
        except ChoiceError:
            return None

    def choice_of(self, token: object) -> Choice | None:
        """The session a token of ours names, even when its place is stale (the clips changed
        since it was made): where to look for the runner's place again. ``None`` for
        anything that is not one of ours."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            return None
        found = _TOKEN.fullmatch(token)
        return None if found is None else self._choice(found.group(1))

    def find(self, token: object) -> tuple[PlayQueue, Item] | None:
        """The queue and stream a token names; ``None`` for a token that is not ours, names no
        session, is out of range or is stale (what plays there changed)."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            return None
        found = _TOKEN.fullmatch(token)
        if found is None:
            return None
        name, index_text, check = found.groups()
        choice = self._choice(name)
        if choice is None:
            return None
        try:
            queue = self.queue(choice)
        except PlayerError:  # clips missing or stale: no queue, so no stream
            return None
        index = int(index_text)
        if index >= len(queue) or queue.items[index].check != check:
            return None
        return queue, queue.items[index]
