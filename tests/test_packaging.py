"""The built package: what the sdist and the wheel carry, and the wheel installed elsewhere.

The sdist and the wheel are built once for the module, as a release would build them: the sdist
from the checkout, then the wheel from the unpacked sdist (``python -m build``), so a wheel built
this way proves the sdist holds all it needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

SCRIPT = ["start post run yoga", "next", "stop"]
INTENTS = ["LaunchRequest", "AMAZON.NextIntent", "AMAZON.StopIntent"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (path,) = dist.glob("post_run_yoga-*-py3-none-any.whl")
    return path


@pytest.fixture(scope="module")
def sdist(dist: Path) -> Path:
    (path,) = dist.glob("post_run_yoga-*.tar.gz")
    return path


def source_files(folder: str, pattern: str) -> set[str]:
    return {
        path.relative_to(REPO).as_posix()
        for path in (REPO / folder).rglob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_carries_the_package_and_its_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = {name for name in archive.namelist() if not name.endswith("/")}
        manifest = json.loads(archive.read("skill/_data/audio/manifest.json"))
    package = {name for name in names if ".dist-info/" not in name}
    models = {
        f"skill/_data/interaction_models/{path.name}"
        for path in (REPO / "interaction_models").glob("*.*")
    }
    assert len(models) == 6  # five locales, and the grammar they are built from
    expected = (
        source_files("skill", "*.py")
        | source_files("skill", "*.yaml")
        | source_files("skill/web/static", "*")
        | source_files("skill/web/player", "*")  # the phone player's page, script and icons
        | source_files("skill/publish", "*.svg")  # the icon's source, for `yoga-skill package`
        | source_files("skill/screens/apl", "*.json")  # the screens' APL documents
        | {"skill/py.typed", "skill/_data/audio/manifest.json"}
        | models
    )
    assert package == expected
    for needed in (
        "skill/routine/routines/post_run.yaml",
        "skill/speech/prompts/en.yaml",
        "skill/web/static/try.html",
        "skill/_data/interaction_models/en-GB.json",
    ):
        assert needed in package
    # The same manifest as the checkout's, and none of the clips it names.
    assert manifest == json.loads((REPO / "audio/manifest.json").read_text(encoding="utf-8"))
    assert not [name for name in names if name.endswith((".mp3", ".pyc", ".sqlite3"))]
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    assert "yoga-skill = skill.cli:main" in entry_points


def test_sdist_leaves_the_clips_out_but_keeps_what_the_wheel_needs(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {member.name.partition("/")[2] for member in archive.getmembers()}
    assert "audio/manifest.json" in names
    assert "pyproject.toml" in names
    assert {n for n in names if n.startswith("interaction_models/") and n.endswith(".json")} == {
        f"interaction_models/{path.name}" for path in (REPO / "interaction_models").glob("*.json")
    }
    assert not [name for name in names if name.startswith("audio/clips")]
    assert not [name for name in names if name.startswith(("tests/", "bench/", ".venv/"))]
    assert sdist.stat().st_size < 1_000_000  # the clips are 20 MB


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment holding the wheel; its dependencies come from this one's
    site-packages through a .pth file (whose own .pth files, such as the editable install's path
    to the checkout, are not read)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "_deps_from_test_venv.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--disable-pip-version-check",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "YOGA_", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


def test_installed_wheel_imports_the_package_and_data_from_the_venv(
    installed: Path, tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import json, skill, skill.resources as r; "
            "print(json.dumps([skill.__file__, str(r.INTERACTION_MODELS_DIR), str(r.AUDIO_DIR)]))",
        ],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    package, models, audio = (Path(p) for p in json.loads(result.stdout))
    for path in (package, models, audio):
        assert path.is_relative_to(installed), path
        assert not path.is_relative_to(REPO), path
    assert (models / "en-GB.json").is_file()
    assert (audio / "manifest.json").is_file()


def test_installed_command_holds_a_conversation_from_another_folder(
    installed: Path, tmp_path: Path
) -> None:
    script = tmp_path / "script.txt"
    script.write_text("\n".join(SCRIPT) + "\n", encoding="utf-8")
    result = subprocess.run(
        [str(installed / "bin" / "yoga-skill"), "dialog", "--script", script.name, "--json"],
        cwd=tmp_path,
        env=clean_env(YOGA_PERSISTENCE="none"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["utterance"] for t in turns] == SCRIPT
    assert [t["intent"] for t in turns] == INTENTS
    assert "Spinal roll" in turns[0]["speech"]
    assert turns[1]["sessionAttributes"]["yoga"] != turns[0]["sessionAttributes"]["yoga"]
    assert turns[-1]["shouldEndSession"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.txt"]  # nothing left behind


# ---------------------------------------------------------------- the checkout's own runner


def test_make_run_keeps_progress_inside_the_checkout_in_an_ignored_file() -> None:
    env = {k: v for k, v in clean_env().items() if not k.startswith("MAKE")}
    result = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (serve,) = [line for line in result.stdout.splitlines() if "yoga-skill serve" in line]
    db = REPO / "instance" / "progress.sqlite3"
    assert serve.startswith(f'YOGA_DB="{db}" ')
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", str(db.relative_to(REPO))],
        cwd=REPO,
        check=False,
    )
    assert ignored.returncode == 0, f"{db} is not git-ignored"
