"""Draw the phone player's PNG icons from the skill's icon, ``skill/publish/icon.svg``.

Run it after changing the icon (``.venv/bin/python tests/browser/render_icons.py``) and commit
the PNGs; ``tests/test_player_site.py`` fails while they differ from the icon. The icon fills
its square and keeps what matters inside the middle circle, so the 512-pixel one is also the
web app manifest's maskable icon; ``apple-touch-icon.png`` is what iOS puts on a home screen.
"""

from __future__ import annotations

from skill.publish.icons import render_png
from skill.web.player_site import ICONS, PLAYER_DIR


def main() -> None:
    for name, size in ICONS.items():
        (PLAYER_DIR / name).write_bytes(render_png(size))
        print(f"wrote {PLAYER_DIR / name}")


if __name__ == "__main__":
    main()
