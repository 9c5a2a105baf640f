"""Known signatures for tests: a drawn signature as the signature pad sends it (a real PNG made with Pillow)."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw


def drawn_png(width: int = 300, height: int = 100) -> bytes:
    """A black stroke on white, like a finger's signature."""
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).line([(10, 70), (80, 20), (150, 80), (290, 30)], fill="black", width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(png: bytes | None = None) -> str:
    return "data:image/png;base64," + base64.b64encode(png or drawn_png()).decode("ascii")
