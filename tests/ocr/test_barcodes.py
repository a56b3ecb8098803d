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


@pytest.mark.parametrize("fmt,scale", [("Code128", 2), ("QRCode", 3), ("DataMatrix", 4)])
def test_small_symbols_on_a_scanned_300_dpi_page_are_read_with_full_size_boxes(fmt: str, scale: int) -> None:
    """300-dpi pages are read at half resolution: thin bars on a slightly blurred, grainy scan."""
    from PIL import ImageFilter

    page = draw_page(TEXT + [""] * 8)
    assert page.info["dpi"] == (300, 300)
    code = symbol("MRN 00417233", fmt, scale)
    page.paste(code, (700, 420))
    rng = np.random.default_rng(7)
    grainy = np.asarray(page.filter(ImageFilter.GaussianBlur(0.7)), dtype=np.int16)
    grainy = np.clip(grainy + rng.normal(0, 12, grainy.shape), 0, 255).astype(np.uint8)
    scan = Image.fromarray(grainy, mode="L")
    scan.info["dpi"] = (300, 300)

    found = read_barcodes(scan, 1)

    assert [(b.format, b.text) for b in found] == [(fmt, "MRN 00417233")]
    left, top, width, height = found[0].box
    # the box is in the page's own pixels, around where the symbol was pasted
    assert abs(left - 700) < 40 and abs(top - 420) < 40
    assert abs(width - code.width) < 60 and (fmt == "Code128" or abs(height - code.height) < 60)
