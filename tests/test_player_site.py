"""The phone player's server side: session choices, the timelines as JSON, the page's files,
the routes of the webhook and the static export (the browser tests drive the page itself)."""

from __future__ import annotations

import fnmatch
import gzip
import io
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO, ROUTINE

from skill.audio import AUDIO_DIR
from skill.audio.choice import Choice, ChoiceError, every_choice
from skill.audio.manifest import load_manifest
from skill.audio.player.timeline import Session, build_timeline, load_clips
from skill.cli import main
from skill.routine.coach import Coach
from skill.routine.state import FULL, MAX_BREATHS, MIN_BREATHS, QUICK, focus
from skill.settings import Settings
from skill.web.player_site import (
    ASSETS,
    ICONS,
    PLAYER_DIR,
    PlayerSite,
    player_site,
)
from skill.web.webhook import create_app

AREAS = frozenset(area.id for area in ROUTINE.focus_areas)
CLIPS = load_clips(AUDIO_DIR)
MANIFEST = load_manifest(AUDIO_DIR)


@pytest.fixture(scope="module")
def site() -> PlayerSite:
    return player_site(AUDIO_DIR)


@pytest.fixture(scope="module")
def client() -> Any:
    return create_app(Settings(verify=False, persistence="none")).test_client()


def timeline_json(client: Any, name: str) -> dict[str, Any]:
    response = client.get(f"/player/timelines/{name}.json")
    assert response.status_code == 200, response.data
    return dict(response.json)


# ---------------------------------------------------------------------- choices


def test_every_choice_has_its_own_name_that_reads_back() -> None:
    choices = list(every_choice(ROUTINE))
    plans = 2 + len(ROUTINE.focus_areas)
    assert len(choices) == 2 * (MAX_BREATHS - MIN_BREATHS + 1) * plans * 2 * 2
    assert len({c.name for c in choices}) == len(choices)
    for choice in choices:
        assert Choice.parse(choice.name, AREAS) == choice
    assert Choice().name == "hold-5-full-steps-var"
    assert Choice("flow", 8, focus("it_band"), True, False).name == "flow-8-it_band-brief-novar"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hold-0-full-steps-var", "breaths must be 1 to 15"),
        ("hold-16-full-steps-var", "breaths must be 1 to 15"),
        ("hold-5-elbows-steps-var", "no session 'elbows'"),
        ("sway-5-full-steps-var", "a timeline is named"),
        ("hold-5-full-steps", "a timeline is named"),
        ("hold-5-full-steps-var-", "a timeline is named"),
        ("../../etc/passwd", "a timeline is named"),
        ("HOLD-5-full-steps-var", "a timeline is named"),
        ("hold-05-full-steps-var", "a timeline is named"),
        ("hold-5-full-steps-var\n", "a timeline is named"),
    ],
)
def test_other_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(ChoiceError, match=re.escape(reason)):
        Choice.parse(name, AREAS)


# ---------------------------------------------------------------------- timelines


@pytest.mark.parametrize(
    "choice",
    [
        Choice(),
        Choice("flow", 5, QUICK),
        Choice("hold", 3, focus("calves"), brief=True),
        Choice("hold", 12, focus("hips"), variations=False),
    ],
    ids=lambda c: c.name,
)
def test_a_timeline_is_the_one_yoga_skill_play_plays(client: Any, choice: Choice) -> None:
    data = timeline_json(client, choice.name)
    session = Session(
        choice.mode, choice.breaths, None, choice.variations, choice.plan, choice.brief
    )
    timeline = build_timeline(ROUTINE, CLIPS, session)
    assert data["name"] == choice.name
    assert data["total"] == pytest.approx(timeline.total)
    assert len(data["cues"]) == len(timeline.cues)
    for cue, expected in zip(data["cues"], timeline.cues, strict=True):
        assert cue["start"] == expected.start
        assert cue["duration"] == expected.duration
        assert cue["pause"] == expected.pause
        assert cue["clip"].split("?")[0] == f"audio/{MANIFEST[expected.clip_id]['file']}"
        assert (REPO / cue["clip"].split("?")[0]).is_file()
        assert " ".join(text for _, text in cue["lines"]) == expected.text
        assert [tuple(m) for m in cue["marks"]] == list(expected.marks)
        section = data["sections"][cue["section"]]
        assert (section["pose"], section["side"]) == (expected.pose, expected.side)
    assert [s["start"] for s in data["sections"]] == [s.start for s in timeline.sections]
    unique = {MANIFEST[c.clip_id]["file"]: MANIFEST[c.clip_id] for c in timeline.cues}
    assert data["clips"] == len(unique)  # clips of the same words share a file, stored once
    assert data["bytes"] == sum(entry["bytes"] for entry in unique.values())


def test_sections_number_the_poses_of_the_session(client: Any) -> None:
    coach = Coach(ROUTINE)
    data = timeline_json(client, "hold-5-quick-steps-var")
    numbered = {
        s["number"]: coach.segments[int(s["key"])].pose  # both sides of a pose: one number
        for s in data["sections"]
        if s["number"] is not None
    }
    quick = [i for i, p in enumerate(ROUTINE.poses) if p.id in ROUTINE.quick or p.relaxation]
    assert numbered == {n: pose for n, pose in enumerate(quick, start=1)}
    assert data["poses"] == len(quick)
    assert (data["sections"][0]["key"], data["sections"][-1]["key"]) == ("welcome", "closing")


def test_plans_and_brief_words_shape_the_session(client: Any) -> None:
    full = timeline_json(client, "hold-5-full-steps-var")
    quick = timeline_json(client, "hold-5-quick-steps-var")
    brief = timeline_json(client, "hold-5-full-brief-var")
    assert quick["total"] < full["total"] and brief["total"] < full["total"]
    assert quick["poses"] < full["poses"] == brief["poses"]
    said = " ".join(t for cue in brief["cues"] for _, t in cue["lines"])
    assert "Step 1." not in said and "Top tip" not in said
    full_said = " ".join(t for cue in full["cues"] for _, t in cue["lines"])
    assert "Step 1." in full_said


def test_a_timeline_the_clips_cannot_make_is_a_503(tmp_path: Path) -> None:
    empty = create_app(Settings(verify=False, persistence="none", audio_dir=tmp_path))
    response = empty.test_client().get("/player/timelines/hold-5-full-steps-var.json")
    assert response.status_code == 503
    assert "render-audio" in response.json["error"]


def test_bad_timeline_names_are_a_400(client: Any) -> None:
    response = client.get("/player/timelines/hold-99-full-steps-var.json")
    assert response.status_code == 400
    assert response.json == {"error": "breaths must be 1 to 15, not 99"}
    assert client.get("/player/timelines/nope.json").status_code == 400


# ---------------------------------------------------------------------- the page


def test_the_page_offers_what_the_skill_offers(client: Any, site: PlayerSite) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    page = response.data.decode()
    assert "%%" not in page
    for area in ROUTINE.focus_areas:
        assert f'<option value="{area.id}">{area.name[0].upper()}{area.name[1:]}</option>' in page
    assert '<option value="full">' in page and '<option value="quick">' in page
    assert f'data-min="{MIN_BREATHS}" data-max="{MAX_BREATHS}"' in page
    assert f'src="player/player.js?v={site.version}"' in page
    assert "Content-Security-Policy" in page
    # every control has a name a screen reader says
    for button in re.findall(r"<button[^>]*>.*?</button>", page, re.S):
        assert "aria-label=" in button or re.sub(r"<[^>]+>", "", button).strip(), button
    for select_or_input in re.findall(r"<(?:select|input)[^>]*>", page):
        assert 'id="' in select_or_input or "<label" in page


def test_the_shell_is_served_and_versioned(client: Any, site: PlayerSite) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    text = worker.data.decode()
    assert f'const VERSION = "{site.version}";' in text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", text).group(1))
    assert shell == site.shell()
    for url in shell:
        response = client.get("/" + url.removeprefix("./"))
        assert response.status_code == 200, url
    fresh = client.get(f"/player/player.js?v={site.version}")
    assert fresh.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/player/player.js?v=old")
    assert stale.headers["Cache-Control"] == "no-cache"
    again = client.get("/player/player.js", headers={"If-None-Match": fresh.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/player/secrets.py").status_code == 404
    assert client.get("/player/../webhook.py").status_code == 404


def test_text_is_compressed_for_browsers_that_take_it(client: Any, site: PlayerSite) -> None:
    plain = client.get("/player/timelines/hold-5-full-steps-var.json")
    squeezed = client.get(
        "/player/timelines/hold-5-full-steps-var.json", headers={"Accept-Encoding": "gzip, br"}
    )
    assert "Content-Encoding" not in plain.headers
    assert squeezed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(squeezed.data) == plain.data
    assert len(squeezed.data) < len(plain.data) / 3
    assert squeezed.headers["Vary"] == plain.headers["Vary"] == "Accept-Encoding"
    assert squeezed.headers["ETag"] != plain.headers["ETag"]
    icon = client.get("/player/icon-512.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in icon.headers


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_web_app_manifest_names_the_app_and_its_icons(client: Any, site: PlayerSite) -> None:
    response = client.get(f"/player/app.webmanifest?v={site.version}")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"] == "Post run yoga"
    assert manifest["start_url"] == manifest["scope"] == "../"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    purposes = set()
    for icon in manifest["icons"]:
        name = icon["src"].split("?")[0]
        assert name in ASSETS
        if icon["type"] == "image/png":
            size = png_size(PLAYER_DIR / name)
            assert f"{size[0]}x{size[1]}" == icon["sizes"]
        purposes.add(icon["purpose"])
    assert purposes == {"any", "maskable"}
    assert png_size(PLAYER_DIR / "apple-touch-icon.png") == (180, 180)


def test_the_icons_are_the_skills_own(client: Any) -> None:
    from PIL import Image, ImageChops

    from skill.publish.content import ICON_SOURCE
    from skill.publish.icons import render_png

    assert client.get("/player/icon.svg").data == ICON_SOURCE.read_bytes()
    for name, size in ICONS.items():
        with (
            Image.open(PLAYER_DIR / name) as kept,
            Image.open(io.BytesIO(render_png(size))) as drawn,
        ):
            difference = ImageChops.difference(kept.convert("RGBA"), drawn.convert("RGBA"))
            worst = max(high for _, high in difference.getextrema())
        assert worst <= 8, f"{name} is not the skill's icon: run tests/browser/render_icons.py"


def test_production_serves_the_player_and_not_the_console() -> None:
    production = create_app(Settings(verify=False, persistence="none")).test_client()
    assert production.get("/").status_code == 200
    assert production.get("/try").status_code == 404
    dev = create_app(Settings(verify=False, dev=True, persistence="none")).test_client()
    assert b"<form" in dev.get("/try").data
    assert b"Post run yoga" in dev.get("/").data


def test_without_an_audio_folder_there_is_no_player() -> None:
    bare = create_app(Settings(verify=False, persistence="none", audio_dir=None)).test_client()
    assert bare.get("/").status_code == 404


# ---------------------------------------------------------------------- the static site


def test_export_player_writes_the_site_a_static_host_serves(
    tmp_path: Path, client: Any, site: PlayerSite, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert main(["export-player", str(out)]) == 0
    count = len(list(every_choice(ROUTINE)))
    assert f"the page and {count} session timelines" in capsys.readouterr().out
    assert (out / "index.html").read_bytes() == client.get("/").data
    assert (out / "sw.js").read_bytes() == client.get("/sw.js").data
    for name in ASSETS:
        assert (out / "player" / name).read_bytes() == client.get(f"/player/{name}").data
    timelines = sorted((out / "player" / "timelines").iterdir())
    assert len(timelines) == count
    sample = out / "player" / "timelines" / "flow-7-glutes-brief-novar.json"
    assert (
        sample.read_bytes() == client.get("/player/timelines/flow-7-glutes-brief-novar.json").data
    )
    for url in site.shell():
        assert (out / (url.split("?")[0].removeprefix("./") or "index.html")).is_file()


class _CfnLoader(yaml.SafeLoader):
    """template.yaml read as YAML, its intrinsic functions (``!Sub``) as ``{"Sub": ...}``."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _intrinsic)


def test_the_template_hosts_the_exported_site_beside_the_clips(
    tmp_path: Path, site: PlayerSite
) -> None:
    template = yaml.load((REPO / "template.yaml").read_text(encoding="utf-8"), _CfnLoader)
    resources = template["Resources"]
    (allow,) = [
        s
        for s in resources["AudioBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    readable = [r["Sub"].removeprefix("${AudioBucket.Arn}/") for r in allow["Resource"]]
    site.export(tmp_path, choices=[Choice()])
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            key = path.relative_to(tmp_path).as_posix()
            assert any(fnmatch.fnmatchcase(key, pattern) for pattern in readable), key
    config = resources["AudioDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["Compress"] is True
    player = template["Outputs"]["PlayerUrl"]
    assert player["Value"] == {"Sub": "https://${AudioDistribution.DomainName}/"}
    assert "yoga-skill export-player" in player["Description"]


def test_export_player_refuses_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["export-player", str(target)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_full_plan_is_the_default_session() -> None:
    assert Choice().plan == FULL and Choice().session == Session()
