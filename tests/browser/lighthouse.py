"""Lighthouse against the phone player, in Debian's Chromium, on Lighthouse's phone profile.

``make lighthouse`` runs it: it starts ``yoga-skill serve`` on loopback, runs Lighthouse (npm,
installed in ``tests/browser/node_modules``) with its default mobile settings (a mid-range
phone, simulated slow 4G), prints each category's score, writes the JSON reports to
``tests/browser/lighthouse/`` (git-ignored), and exits 1 when a score is under its target.
``--only accessibility,best-practices`` runs just those (deterministic, and quicker).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the browser harness

from player_browser import LIGHTHOUSE, LIGHTHOUSE_TARGETS, lighthouse, serving  # noqa: E402

REPORTS = HERE / "lighthouse"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(LIGHTHOUSE_TARGETS), help="categories, comma-separated"
    )
    args = parser.parse_args(argv)
    categories = [c for c in args.only.split(",") if c]
    unknown = set(categories) - set(LIGHTHOUSE_TARGETS)
    if unknown:
        parser.error(f"unknown categories: {', '.join(sorted(unknown))}")
    if not LIGHTHOUSE.is_file():
        print("lighthouse is not installed: make lighthouse installs it", file=sys.stderr)
        return 2
    REPORTS.mkdir(exist_ok=True)
    passed = True
    with serving(dev=False) as server:
        scores, failed = lighthouse(server.base + "/", categories, REPORTS / "player.json")
    if failed:
        print(f"audits under full marks: {', '.join(failed)}")
    for category in categories:
        target = LIGHTHOUSE_TARGETS[category]
        ok = scores[category] >= target
        passed = passed and ok
        mark = "ok" if ok else f"UNDER {target}"
        print(f"lighthouse {category}: {scores[category]} ({mark})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
