"""The ``yoga-skill`` command line."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from skill.audio import AUDIO_DIR
from skill.settings import DEFAULT_LOCALE, LOCALES, Settings
from skill.web import logs

AUDIO_EXTRA = "pip install 'post-run-yoga[audio]'"
PUBLISH_EXTRA = "pip install 'post-run-yoga[publish]'"
AUDIO_EXTRA_MODULES = frozenset(
    {"gtts", "lameenc", "miniaudio", "mutagen", "numpy", "pyloudnorm", "requests", "soxr"}
)
"""What the ``audio`` extra installs: rendering and playing the clips, not the skill."""


class CliError(Exception):
    """A mistake on the command line or in its inputs: one line, exit status 2."""


@contextlib.contextmanager
def _audio_tools(command: str) -> Iterator[None]:
    """Around the lazy imports of an audio command: without the ``audio`` extra, one line."""
    try:
        yield
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in AUDIO_EXTRA_MODULES:
            raise
        raise CliError(
            f"{command} needs the audio tools ({exc.name} is not installed): {AUDIO_EXTRA}"
        ) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def _interactive_lines(stdin: TextIO, stdout: TextIO) -> Iterator[str]:
    while True:
        if stdin.isatty():
            stdout.write("you> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            return
        yield line


def cmd_dialog(args: argparse.Namespace) -> int:
    from skill.alexa.builder import skill_for
    from skill.local.dialog import Dialog, print_turn

    if args.script:
        try:
            lines: Sequence[str] | Iterator[str] = Path(args.script).read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read script {args.script}: {exc}") from exc
    else:
        if sys.stdin.isatty() and not args.json:
            print("Talk to post run yoga. Try: start post run yoga. Ctrl-D to leave.")
        lines = _interactive_lines(sys.stdin, sys.stdout)
    logs.configure_brief()
    try:
        skill = skill_for(Settings.from_env())
    except ValueError as exc:  # a bad YOGA_* setting
        raise CliError(str(exc)) from None
    dialog = Dialog(skill, locale=args.locale)
    for turn in dialog.run(lines):
        print_turn(turn, sys.stdout, args.json)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from skill.web.server import serve

    if not 0 < args.port < 65536:
        raise CliError(f"--port must be between 1 and 65535, not {args.port}")
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, not {args.workers}")
    try:
        serve(args.host, args.port, args.workers, dev=args.dev)
    except ValueError as exc:  # a bad YOGA_* setting
        raise CliError(str(exc)) from exc
    return 0


def cmd_render_audio(args: argparse.Namespace) -> int:
    with _audio_tools("render-audio"):
        from skill.audio.catalogue import catalogue
        from skill.audio.engines import EngineUnavailable, engine_by_name
        from skill.audio.lexicon import load_lexicon
        from skill.audio.render import RenderError, render
    from skill.routine.content import load_routine

    if args.jobs < 1:
        raise CliError(f"--jobs must be at least 1, not {args.jobs}")
    specs = catalogue(load_routine(), args.locale)
    try:
        engine = engine_by_name(args.engine)
        lexicon = load_lexicon(args.locale)
        report = render(specs, Path(args.out), engine, jobs=args.jobs, lexicon=lexicon)
    except EngineUnavailable as exc:
        raise CliError(str(exc)) from None
    except RenderError as exc:
        raise CliError(str(exc)) from None
    print(report.summary())
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    with _audio_tools("play"):
        from skill.audio.player import export, playback, timeline
    from skill.routine.coach import Coach
    from skill.routine.content import load_routine
    from skill.routine.state import MAX_BREATHS, MIN_BREATHS, Mode

    if not MIN_BREATHS <= args.breaths <= MAX_BREATHS:
        raise CliError(
            f"--breaths must be between {MIN_BREATHS} and {MAX_BREATHS}, not {args.breaths}"
        )
    export_to = Path(args.export) if args.export else None
    if export_to is not None and (export_to.is_dir() or not export_to.parent.is_dir()):
        raise CliError(f"cannot write {export_to}: {export_to.parent} is not a directory")
    routine = load_routine()
    coach = Coach(routine)
    try:
        start_at = timeline.resolve_part(coach, args.start_at) if args.start_at else None
        clips = timeline.load_clips(Path(args.audio_dir))

        def timeline_for(mode: Mode) -> timeline.Timeline:
            session = timeline.Session(mode, args.breaths, start_at, not args.no_variations)
            return timeline.build_timeline(routine, clips, session)

        chosen = timeline_for(args.mode)
        missing = timeline.missing_files(chosen)
        if missing:
            raise CliError(
                f"clip file {missing[0]} is missing ({len(missing)} in all); "
                "run yoga-skill render-audio"
            )
        if args.dry_run:
            for line in timeline.format_timeline(chosen):
                print(line)
            return 0
        if export_to is not None:
            result = export.export_mp3(chosen, export_to, _export_progress(sys.stderr))
            print(
                f"wrote {result.path}: {timeline.clock(result.duration)} "
                f"({result.duration:.1f} s), {result.bytes / 1e6:.1f} MB"
            )
            return 0
        timelines = {args.mode: chosen}
        other: Mode = "flow" if args.mode == "hold" else "hold"
        with contextlib.suppress(timeline.PlayerError):  # then f and h do nothing
            other_timeline = timeline_for(other)
            if not timeline.missing_files(other_timeline):
                timelines[other] = other_timeline
        playback.play(timelines, args.mode, coach=coach)
    except timeline.PlayerError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_export_player(args: argparse.Namespace) -> int:
    from skill.audio.player.timeline import PlayerError
    from skill.web.player_site import player_site

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"cannot write the player to {out}: not a directory")
    try:
        count = player_site(Path(args.audio_dir)).export(out)
    except (OSError, PlayerError) as exc:
        raise CliError(str(exc)) from None
    print(f"wrote the phone player to {out}: the page and {count} session timelines")
    return 0


def cmd_build_models(args: argparse.Namespace) -> int:
    from skill.local.grammar import GrammarError, first_stale, write_all

    try:
        if args.check:
            stale = first_stale()
            if stale is not None:
                print(
                    f"yoga-skill: {stale.path.name} differs from what grammar.yaml gives: "
                    "run yoga-skill build-models",
                    file=sys.stderr,
                )
                return 1
            return 0
        built = write_all()
    except GrammarError as exc:
        raise CliError(str(exc)) from None
    for model in built:
        print(f"{model.path.name}: {model.samples} samples, {len(model.text.encode()):,} bytes")
    return 0


def cmd_package(args: argparse.Namespace) -> int:
    try:
        from skill.publish.content import PublishError
        from skill.publish.package import SKILL_PACKAGE_DIR, make_package
    except ImportError as exc:
        raise CliError(
            f"package needs the publishing tools ({exc.name} is not installed): {PUBLISH_EXTRA}"
        ) from None
    try:
        outcome = make_package(check=args.check)
    except (PublishError, OSError) as exc:
        raise CliError(str(exc)) from None
    where = SKILL_PACKAGE_DIR.name
    for path in outcome.stale:
        print(f"yoga-skill: {where}/{path} differs from its sources: run yoga-skill package")
    for problem in outcome.report.problems:
        print(f"yoga-skill: {where}: {problem}", file=sys.stderr)
    if outcome.stale or not outcome.report.valid:
        return 1 if args.check else 2
    if outcome.zip_path is not None:
        print(f"wrote {outcome.zip_path} ({outcome.zip_path.stat().st_size:,} bytes)")
    for page in outcome.site:
        print(f"wrote {page}")
    if outcome.report.ready:
        print(f"{where}/ is complete: ready for certification")
    else:
        print(f"{where}/ is a draft; not set yet: " + "; ".join(outcome.report.missing))
    return 0


def _export_progress(stream: TextIO) -> Callable[[str, int, int], None]:
    tty = stream.isatty()

    def progress(stage: str, done: int, total: int) -> None:
        if tty and stage == "decoding":
            stream.write(f"\rdecoding clips {done}/{total}" + ("\n" if done == total else ""))
        elif stage == "decoding" and done == 1:
            stream.write(f"decoding {total} clips...\n")
        elif stage == "encoding" and done == 0:
            stream.write("encoding...\n")
        stream.flush()

    return progress


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="yoga-skill", description="Post-run yoga, an Alexa skill.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    dialog = sub.add_parser("dialog", help="talk to the skill locally, with no device")
    dialog.add_argument("--script", help="a file with one utterance per line")
    dialog.add_argument("--json", action="store_true", help="one JSON object per turn")
    dialog.add_argument("--locale", default=DEFAULT_LOCALE, choices=LOCALES)
    dialog.set_defaults(func=cmd_dialog)
    serve = sub.add_parser("serve", help="serve the webhook on gunicorn")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--dev", action="store_true", help="local use: no verification, loopback")
    serve.set_defaults(func=cmd_serve)
    render_audio = sub.add_parser("render-audio", help="prerender every spoken line as MP3 clips")
    render_audio.add_argument(
        "--engine",
        default="gtts",
        choices=("gtts", "offline", "hibari", "piper"),
        help="gtts: Google's voice (needs its endpoint); offline (hibari's heart, the committed"
        " clips' voice) or piper (joe): on this machine",
    )
    render_audio.add_argument("--jobs", type=int, default=2, help="clips rendered at once")
    render_audio.add_argument("--locale", default=DEFAULT_LOCALE, choices=LOCALES)
    render_audio.add_argument("--out", default=str(AUDIO_DIR), help="the audio directory")
    render_audio.set_defaults(func=cmd_render_audio)
    play = sub.add_parser("play", help="play the routine from the clips: no Alexa, no network")
    play.add_argument("--mode", default="hold", choices=("hold", "flow"))
    play.add_argument("--breaths", type=int, default=5, help="breaths in each hold (1 to 15)")
    play.add_argument("--from", dest="start_at", metavar="POSE", help="start at this pose")
    play.add_argument("--no-variations", action="store_true", help="say no to the variations")
    play_out = play.add_mutually_exclusive_group()
    play_out.add_argument("--dry-run", action="store_true", help="print the timeline only")
    play_out.add_argument("--export", metavar="FILE.mp3", help="write the session as one MP3")
    play.add_argument("--audio-dir", default=str(AUDIO_DIR), help="the audio directory")
    play.set_defaults(func=cmd_play)
    player = sub.add_parser(
        "export-player", help="write the phone player as static files (for S3; no clips)"
    )
    player.add_argument("out", metavar="DIR", help="the folder to write (the site's root)")
    player.add_argument("--audio-dir", default=str(AUDIO_DIR), help="the audio directory")
    player.set_defaults(func=cmd_export_player)
    models = sub.add_parser(
        "build-models", help="write interaction_models/<locale>.json from grammar.yaml"
    )
    models.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a model file is stale"
    )
    models.set_defaults(func=cmd_build_models)
    package = sub.add_parser(
        "package",
        help="regenerate and check skill-package/, write the zip for import and the pages",
    )
    package.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if skill-package/ is stale or breaks a rule",
    )
    package.set_defaults(func=cmd_package)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"yoga-skill: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
