"""The phone player in Debian's Chromium, headless at a phone's size, against ``yoga-skill serve``.

Each test starts its own server and browser (a fresh profile: no cache, no service worker, no
remembered choices). Nothing is timed: every wait is for a state of the page, and bounded.
Screenshots of each state land in ``tests/browser/screenshots/`` (git-ignored) to look at.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, ROUTINE
from player_browser import (
    LIGHTHOUSE,
    LIGHTHOUSE_TARGETS,
    PHONE,
    Server,
    chrome,
    have_browser,
    lighthouse,
    serving,
)

MISSING = have_browser()
if MISSING and os.environ.get("BROWSER_TESTS") == "require":  # make test: never skip
    raise RuntimeError(MISSING)
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

SHOTS = REPO / "tests" / "browser" / "screenshots"
DEFAULT = "hold-5-full-steps-var"

LOOK = """
const $ = (id) => document.getElementById(id);
const audio = $("audio");
const meta = navigator.mediaSession && navigator.mediaSession.metadata;
return {
  state: document.body.dataset.state || "",
  session: document.body.dataset.session || "",
  time: Number(document.body.dataset.time || 0),
  clip: audio.dataset.clip || "",
  paused: audio.paused,
  at: audio.currentTime,
  title: meta ? meta.title : null,
  artist: meta ? meta.artist : null,
  number: $("number").textContent,
  pose: $("pose").textContent,
  side: $("side").textContent,
  doing: $("doing").textContent,
  caption: $("caption").textContent,
  play: $("play-label").textContent,
  summary: $("summary").textContent,
  storage: $("storage").textContent,
  status: $("status").textContent,
  resume: !$("resume").hidden,
  controlled: Boolean(navigator.serviceWorker && navigator.serviceWorker.controller),
};
"""


def look(driver: Any) -> dict[str, Any]:
    return dict(driver.execute_script(LOOK))


def wait_for(
    driver: Any, test: Callable[[dict[str, Any]], bool], why: str, timeout: float = 45
) -> dict[str, Any]:
    """The page's state once ``test`` holds; fails (with the last state) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        state = look(driver)
        if test(state):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {why}; the page: {state}")
        time.sleep(0.1)


def shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def click(driver: Any, element_id: str) -> None:
    driver.find_element("id", element_id).click()


def timeline_of(server: Server, name: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.base}/player/timelines/{name}.json", timeout=10) as r:
        return dict(json.loads(r.read()))


def section_clip(timeline: dict[str, Any], index: int) -> str:
    start = timeline["sections"][index]["start"]
    return str(next(c["clip"] for c in timeline["cues"] if c["start"] >= start))


def playing(state: dict[str, Any]) -> bool:
    return state["state"] == "playing" and ".mp3" in state["clip"] and not state["paused"]


def opened(driver: Any, server: Server, path: str = "/") -> dict[str, Any]:
    driver.get(server.base + path)
    return wait_for(driver, lambda s: "min" in s["summary"], "the session to be chosen")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One server for the tests that leave it running."""
    with serving() as running:
        yield running


@pytest.fixture
def own_server() -> Iterator[Server]:
    """A server of the test's own, to stop."""
    with serving() as running:
        yield running


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    driver = chrome(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def severe_console_messages(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


# ---------------------------------------------------------------------- playing


def test_start_plays_a_clip_and_time_advances(server: Server, browser: Any) -> None:
    state = opened(browser, server)
    assert state["state"] == "ready" and state["play"] == "Start"
    assert state["summary"].startswith("The full routine, slow holds of 5 breaths: ")
    assert not browser.find_element("id", "play").get_attribute("disabled")
    assert browser.find_element("id", "next").get_attribute("disabled")
    width = browser.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], "the page scrolls sideways on a phone"
    wait_for(browser, lambda s: s["storage"].startswith("Stored for offline use"), "the clips")
    shot(browser, "1-ready")

    click(browser, "play")
    state = wait_for(browser, lambda s: playing(s) and s["at"] > 0, "a clip to play")
    assert state["play"] == "Pause"
    assert state["clip"].startswith("audio/clips/welcome")
    assert state["title"] == "Welcome"
    first = state["time"]
    later = wait_for(browser, lambda s: s["time"] > first + 0.5, "the time to advance")
    assert later["clip"] == state["clip"]
    shot(browser, "2-playing-welcome")

    click(browser, "play")
    paused = wait_for(browser, lambda s: s["state"] == "paused", "the pause")
    assert paused["paused"] and paused["play"] == "Resume"
    assert severe_console_messages(browser) == []


def test_next_and_back_change_the_clip_and_the_lock_screen_title(
    server: Server, browser: Any
) -> None:
    timeline = timeline_of(server, DEFAULT)
    first, second = ROUTINE.poses[0], ROUTINE.poses[1]
    opened(browser, server)
    click(browser, "play")
    welcome = wait_for(browser, playing, "a clip to play")

    click(browser, "next")
    state = wait_for(browser, lambda s: playing(s) and s["clip"] != welcome["clip"], "next")
    assert state["clip"] == section_clip(timeline, 1)
    assert state["title"] == state["pose"] == first.name
    assert state["number"] == f"Pose 1 of {timeline['poses']}"
    shot(browser, "3-playing-pose")

    browser.find_element("tag name", "body").send_keys("n")  # the keys work too
    state = wait_for(browser, lambda s: playing(s) and s["clip"] == section_clip(timeline, 2), "n")
    assert state["title"] == second.name

    click(browser, "play")  # paused, moves land on a pose side's start exactly
    wait_for(browser, lambda s: s["state"] == "paused", "the pause")
    click(browser, "back")
    state = wait_for(browser, lambda s: s["pose"] == first.name, "back")
    assert state["time"] == pytest.approx(timeline["sections"][1]["start"], abs=0.01)
    assert state["title"] == first.name
    click(browser, "play")
    state = wait_for(browser, lambda s: playing(s) and s["at"] > 0, "playing after back")
    assert state["clip"] == section_clip(timeline, 1)

    click(browser, "repeat")
    state = wait_for(browser, lambda s: playing(s) and s["pose"] == first.name, "repeat")
    assert state["clip"] == section_clip(timeline, 1)


def test_a_whole_session_plays_every_clip_in_order(server: Server, browser: Any) -> None:
    opened(browser, server)
    browser.find_element("css selector", "#plan option[value=calves]").click()
    click(browser, "fewer")
    click(browser, "fewer")
    click(browser, "brief")
    name = "hold-3-calves-brief-var"
    wait_for(browser, lambda s: s["session"] == name and "Calves" in s["summary"], "the choice")
    timeline = timeline_of(server, name)
    shot(browser, "4-chosen-calves")
    browser.execute_script(
        """
        const audio = document.getElementById("audio");
        window.played = [];
        window.labels = new Set();
        audio.addEventListener("playing", () => window.played.push(audio.dataset.clip));
        new MutationObserver(() => window.labels.add(document.getElementById("doing").textContent))
          .observe(document.getElementById("doing"), {childList: true, characterData: true,
                                                      subtree: true});
        audio.defaultPlaybackRate = 16;  // the whole session in a few seconds
        """
    )
    click(browser, "play")
    state = wait_for(browser, lambda s: s["state"] == "finished", "the end", timeout=180)
    assert state["play"] == "Start again"
    assert state["caption"] == "Well done. That's the session finished."
    assert state["time"] == pytest.approx(timeline["total"], abs=0.01)
    played = [c for c in browser.execute_script("return window.played") if c]
    heard = [c for i, c in enumerate(played) if i == 0 or c != played[i - 1]]
    expected = [c["clip"] for c in timeline["cues"]]
    assert [c for i, c in enumerate(expected) if i == 0 or c != expected[i - 1]] == heard
    labels = set(browser.execute_script("return [...window.labels]"))
    assert labels & {"Breath 1 of 3", "Breath 2 of 3", "Breath 3 of 3"}
    assert browser.execute_script("return localStorage.getItem('pry.place')") is None
    shot(browser, "5-finished")


# ---------------------------------------------------------------------- remembering


def test_choices_and_the_place_are_offered_back(server: Server, browser: Any) -> None:
    timeline = timeline_of(server, "flow-5-quick-steps-var")
    opened(browser, server)
    browser.find_element("css selector", "#plan option[value=quick]").click()
    browser.find_element("css selector", "input[name=mode][value=flow]").click()
    wait_for(browser, lambda s: "A quick session, a dynamic flow" in s["summary"], "the choice")
    click(browser, "play")
    wait_for(browser, playing, "a clip to play")
    click(browser, "next")
    click(browser, "next")
    click(browser, "play")
    paused = wait_for(
        browser,
        lambda s: s["state"] == "paused" and s["pose"] == timeline["sections"][2]["pose"],
        "the pause at the second pose",
    )

    browser.refresh()
    state = wait_for(browser, lambda s: s["resume"], "the offer to carry on")
    assert state["play"] == "Carry on"
    assert browser.find_element("id", "plan").get_attribute("value") == "quick"
    assert browser.find_element("css selector", "input[value=flow]").is_selected()
    assert state["pose"] == paused["pose"]
    text = browser.find_element("id", "resume-text").text
    assert text.startswith(f"You stopped in {paused['pose']}")
    shot(browser, "6-carry-on")

    click(browser, "afresh")
    state = wait_for(browser, lambda s: not s["resume"] and s["play"] == "Start", "afresh")
    assert state["time"] == 0
    browser.refresh()
    state = opened(browser, server)
    assert not state["resume"]


def test_changing_the_style_mid_session_keeps_the_pose_side(server: Server, browser: Any) -> None:
    opened(browser, server)
    click(browser, "play")
    wait_for(browser, playing, "a clip to play")
    click(browser, "play")
    for _ in range(3):
        click(browser, "next")
    before = wait_for(browser, lambda s: s["side"] == "Right side", "a two-sided pose")
    browser.find_element("css selector", "input[name=mode][value=flow]").click()
    after = wait_for(browser, lambda s: "dynamic flow" in s["summary"], "the flow")
    assert (after["pose"], after["side"]) == (before["pose"], before["side"])
    assert after["time"] < before["time"]  # a flow is quicker to get there


# ---------------------------------------------------------------------- offline


def test_after_one_visit_it_loads_and_plays_with_the_server_gone(
    own_server: Server, browser: Any
) -> None:
    server = own_server
    opened(browser, server)
    wait_for(browser, lambda s: s["storage"].startswith("Stored for offline use"), "the clips")
    wait_for(browser, lambda s: s["controlled"], "the service worker")
    click(browser, "play")
    wait_for(browser, lambda s: playing(s) and s["at"] > 0, "a clip to play")
    click(browser, "next")
    click(browser, "play")
    before = wait_for(browser, lambda s: s["state"] == "paused", "the pause")

    server.stop()
    browser.refresh()
    state = wait_for(browser, lambda s: s["resume"] and "min" in s["summary"], "the page offline")
    assert state["pose"] == before["pose"]
    shot(browser, "7-offline-reloaded")
    click(browser, "play")
    state = wait_for(browser, lambda s: playing(s) and s["at"] > 0, "a stored clip to play")
    first = state["time"]
    wait_for(browser, lambda s: s["time"] > first + 0.5, "the time to advance offline")
    click(browser, "next")
    wait_for(browser, lambda s: playing(s) and s["pose"] != before["pose"], "next offline")
    shot(browser, "8-offline-playing")

    browser.find_element("css selector", "#plan option[value=hips]").click()
    state = wait_for(browser, lambda s: "isn't stored" in s["status"], "the unstored session")
    assert state["state"] == "playing"  # the stored session carries on
    shot(browser, "9-offline-not-stored")


# ---------------------------------------------------------------------- the console


def test_the_development_console_moved_and_says_nothing_for_an_empty_box(
    own_server: Server, browser: Any
) -> None:
    server = own_server
    browser.get(server.base + "/try")
    log = browser.find_element("id", "log")
    box = browser.find_element("id", "u")
    browser.find_element("css selector", "#f button").click()
    wait_for_text(browser, lambda: log.text, "Type what you would say first")
    assert browser.find_elements("css selector", "#log .you") == []  # nothing was said
    box.send_keys("start post run yoga\n")
    wait_for_text(browser, lambda: log.text, ROUTINE.poses[0].name)
    shot(browser, "10-console")

    server.stop()
    box.send_keys("next\n")
    text = wait_for_text(browser, lambda: log.text, "isn't answering")
    assert "make run" in text
    assert box.get_attribute("value") == "next"  # kept, to say again
    shot(browser, "11-console-server-gone")


def wait_for_text(driver: Any, text: Callable[[], str], wanted: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while wanted not in (found := text()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {wanted!r}; the page says {found!r}")
        time.sleep(0.1)
    return found


@pytest.mark.parametrize("size", [PHONE, (1280, 900)], ids=["phone", "desktop"])
def test_dark_and_desktop(server: Server, tmp_path: Path, size: tuple[int, int]) -> None:
    browser = chrome(tmp_path / "profile", size=size)
    try:
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
        )
        opened(browser, server)
        click(browser, "play")
        wait_for(browser, playing, "a clip to play")
        click(browser, "next")
        wait_for(browser, lambda s: s["pose"] == ROUTINE.poses[0].name, "the first pose")
        background = browser.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        assert background == "rgb(14, 21, 20)"
        width = browser.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
        assert width[0] <= width[1]
        shot(browser, f"12-dark-{size[0]}")
    finally:
        browser.quit()


# ---------------------------------------------------------------------- Lighthouse


def test_lighthouse_accessibility_and_best_practices(server: Server, tmp_path: Path) -> None:
    """The categories whose scores don't depend on the machine's speed (``make lighthouse``
    measures performance too)."""
    if not LIGHTHOUSE.is_file():
        if os.environ.get("BROWSER_TESTS") == "require":
            raise AssertionError("lighthouse is not installed (make test installs it)")
        pytest.skip("lighthouse is not installed (make lighthouse installs it)")
    wanted = ["accessibility", "best-practices"]
    scores, short = lighthouse(server.base + "/", wanted, tmp_path / "report.json")
    for category in wanted:
        assert scores[category] >= LIGHTHOUSE_TARGETS[category], (category, scores, short)
