"""Page images handed to Tesseract as PBM/PGM are read whatever their first pixels are.

leptonica reads a PNM header with fscanf, which also swallows raster bytes with the value of a white
space character; a page whose first byte was one ("read error in 4") failed to OCR: found on an
upside-down colour scan whose turned page began with a dark speck (`tesseract.save_pnm`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.ocr import tesseract

from .pages import TEXT, draw_page, words_of

pytestmark = pytest.mark.integration

WHITESPACE = (9, 10, 11, 12, 13, 32)


def _first_byte(image: Image.Image, value: int) -> Image.Image:
    """The page with its first raster byte set to `value` (PBM: 8 pixels, a set bit black; PGM: one pixel)."""
    page = image.copy()
    if page.mode == "1":
        for x in range(8):
            page.putpixel((x, 0), 0 if value >> (7 - x) & 1 else 255)
    else:
        page.putpixel((0, 0), value)
    return page


@pytest.mark.parametrize("mode", ["1", "L"])
@pytest.mark.parametrize("value", WHITESPACE)
def test_a_page_whose_first_byte_looks_like_white_space_is_read(mode: str, value: int, tmp_path: Path) -> None:
    page = _first_byte(draw_page(TEXT[:1]).convert(mode), value)
    plain = tmp_path / "plain.pnm"
    page.save(plain, format="PPM")
    assert plain.read_bytes()[-((page.width + 7) // 8 if mode == "1" else page.width) * page.height] == value

    saved = tesseract.save_pnm(page, tmp_path / "page.pnm")
    found = tesseract.recognize(saved, tmp_path / "out", languages="eng", dpi=300, timeout=60, make_pdf=False)

    assert words_of(TEXT[0]) <= words_of(found.text)
    changed = [i for i, (a, b) in enumerate(zip(plain.read_bytes(), saved.read_bytes(), strict=True)) if a != b]
    assert len(changed) == 1  # only the first raster byte, to the nearest value leptonica reads as a pixel
