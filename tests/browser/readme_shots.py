"""The README's pictures of the phone player: ``docs/player/*.png``, at a phone's size.

``.venv/bin/python tests/browser/readme_shots.py`` serves the skill on loopback, drives the page
in headless Chromium (as the browser tests do) and writes three small PNGs: a hold with its
breath count, the session choices, and the page reloaded with the server gone.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the browser harness

from player_browser import REPO, chrome, serving  # noqa: E402
from test_player_browser import click, opened, playing, wait_for  # noqa: E402

DOCS = REPO / "docs" / "player"


def save(driver: Any, name: str) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(driver.get_screenshot_as_png())) as shot:
        small = shot.convert("RGB").quantize(colors=64, dither=Image.Dither.NONE)
        small.save(DOCS / f"{name}.png", optimize=True)
    print(f"wrote {DOCS / name}.png")


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    with serving() as server, tempfile.TemporaryDirectory() as profile:
        driver = chrome(Path(profile) / "profile")
        try:
            opened(driver, server)
            wait_for(driver, lambda s: s["storage"].startswith("Stored"), "the clips", 120)
            wait_for(driver, lambda s: s["controlled"], "the service worker")
            driver.execute_script("document.getElementById('audio').defaultPlaybackRate = 8")
            click(driver, "play")
            wait_for(driver, playing, "a clip")
            for _ in range(4):
                click(driver, "next")
            wait_for(driver, lambda s: s["doing"] == "Breath 2 of 5", "a hold", 120)
            click(driver, "play")
            wait_for(driver, lambda s: s["state"] == "paused", "the pause")
            driver.execute_script("document.getElementById('audio').defaultPlaybackRate = 1")
            click(driver, "play")
            wait_for(driver, playing, "playing")
            driver.execute_script("window.scrollTo(0, 0)")
            save(driver, "playing")
            click(driver, "play")
            driver.execute_script("document.querySelector('.choose').scrollIntoView()")
            save(driver, "choices")
            server.stop()
            driver.refresh()
            wait_for(driver, lambda s: s["resume"], "the page offline")
            driver.execute_script("window.scrollTo(0, 0)")
            save(driver, "offline")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
