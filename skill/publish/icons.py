"""The skill's icon: ``skill/publish/icon.svg`` rendered to the PNG sizes the store shows.

cairosvg draws the SVG (it needs the cairo library: Debian's ``libcairo2``, which the Makefile
installs when it is missing); Pillow reads the PNGs back for the package's checks.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from skill.publish.content import ICON_SOURCE

ICON_SIZES: Mapping[str, int] = {"smallIconUri": 108, "largeIconUri": 512}
"""Each manifest field's icon, and its width and height in pixels."""
ICON_FILES: Mapping[str, str] = {"smallIconUri": "smallIcon.png", "largeIconUri": "largeIcon.png"}
"""Each manifest field's file name, under ``assets/images/`` in the package."""


def render_png(size: int, source: Path = ICON_SOURCE) -> bytes:
    """The SVG drawn at ``size`` x ``size`` pixels, as PNG bytes."""
    import cairosvg  # the publish extra: only packaging needs it

    png: bytes = cairosvg.svg2png(
        bytestring=source.read_bytes(), output_width=size, output_height=size
    )
    return png


@dataclass(frozen=True)
class PngFacts:
    width: int
    height: int
    opaque: bool
    """Every pixel fully opaque: the Alexa app crops icons to a circle on its own colours."""


def read_png(data: bytes) -> PngFacts:
    """What a PNG is, decoded for real; ``ValueError`` if it is not a PNG."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError(f"not a PNG but {image.format}")
            image.load()
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"not a readable PNG: {exc}") from None
    alpha = rgba.getchannel("A").getextrema()
    return PngFacts(rgba.width, rgba.height, alpha[0] == 255)
