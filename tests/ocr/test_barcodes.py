"""Barcodes read from page images: QR, Code 128 and Data Matrix, upright and turned."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from pipeline.ocr import preprocess
from pipeline.ocr.barcodes import read_barcodes
from .pages import TEXT, draw_page


def symbol(payload: str, fmt: str, scale: int) -> Image.Image:
    made = zxingcpp.create_barcode(payload, getattr(zxingcpp.BarcodeFormat, fmt))
    return Image.fromarray(np.asarray(made.to_image(scale=scale))).convert("L")


@pytest.mark.parametrize("fmt,scale", [("QRCode", 6), ("Code128", 3), ("DataMatrix", 8)])
@pytest.mark.parametrize("clockwise", [0, 90])
def test_reads_each_symbology_from_a_page(fmt: str, scale: int, clockwise: int) -> None:
    page = draw_page(TEXT + [""] * 8)
    code = symbol("MRN 00417233", fmt, scale)
    page.paste(code, (700, 420))
    page = preprocess.turn(page, clockwise)

    found = read_barcodes(page, 3)

    assert [(b.format, b.text, b.page) for b in found] == [(fmt, "MRN 00417233", 3)]
    left, top, width, height = found[0].box
    assert 0 <= left < page.width and 0 <= top < page.height and width > 0 and height > 0


def test_a_page_without_barcodes_gives_none() -> None:
    assert read_barcodes(draw_page(TEXT), 1) == ()
