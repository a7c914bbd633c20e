"""The phone player in a real browser: ``yoga-skill serve`` on loopback, and Debian's Chromium
driven headless by its chromedriver at a phone's size.

Used by ``tests/test_player_browser.py`` and ``tests/browser/lighthouse.py``. Every wait is
bounded, and every process started here is ended here (its whole process group).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PHONE = (390, 844)
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Headless, and nothing fetched from anywhere but the page under test."""
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
LIGHTHOUSE = REPO / "tests" / "browser" / "node_modules" / "lighthouse" / "cli" / "index.js"
"""Lighthouse's command line (npm; ``make lighthouse`` and ``make test`` install it)."""
LIGHTHOUSE_TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 95, "seo": 0}
"""Each category and the score it must reach (SEO is reported, not required)."""


def have_browser() -> str | None:
    """Why the browser tests can't run here, or None."""
    if not Path(CHROMIUM).is_file() or not Path(CHROMEDRIVER).is_file():
        return "chromium and chromium-driver are not installed (make test installs them)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Server:
    """``yoga-skill serve`` on loopback."""

    base: str
    port: int
    proc: subprocess.Popen[bytes]

    def stop(self, timeout: float = 20) -> None:
        """Stop the server (its whole process group) and wait until its port is closed."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while port_open(self.port):  # a worker still finishing
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                raise RuntimeError(f"port {self.port} still open after the server stopped")
            time.sleep(0.1)


@contextlib.contextmanager
def serving(*, dev: bool = True, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``yoga-skill serve`` (one worker) on a free loopback port, until the block ends."""
    port = free_port()
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("YOGA_", "ALEXA_"))},
        "YOGA_PERSISTENCE": "none",
        **(env or {}),
    }
    args = [sys.executable, "-m", "skill.cli", "serve", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--workers", "1", *(["--dev"] if dev else [])]
    if not dev:
        environ["YOGA_VERIFY"] = "0"
    proc = subprocess.Popen(
        args,
        env=environ,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = Server(f"http://127.0.0.1:{port}", port, proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(server.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("yoga-skill serve did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        server.stop()


def chrome(profile: Path, *, size: tuple[int, int] = PHONE) -> Any:
    """Headless Chromium at ``size`` with a fresh profile in ``profile``, playing audio
    without a tap; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, AUTOPLAY, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    width, height = size
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1}}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def lighthouse(url: str, categories: list[str], report: Path) -> tuple[dict[str, int], list[str]]:
    """Lighthouse's scores (0 to 100) of ``url`` by category, on its default phone profile, and
    the audits short of full marks; the JSON report is written to ``report``."""
    subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(categories)}",
            f"--chrome-flags={' '.join(CHROME_FLAGS)}",
            "--max-wait-for-load=30000",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    result = json.loads(report.read_text(encoding="utf-8"))
    scores = {key: round(100 * (cat["score"] or 0)) for key, cat in result["categories"].items()}
    failed = sorted(
        audit["id"]
        for audit in result["audits"].values()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    )
    return scores, failed
