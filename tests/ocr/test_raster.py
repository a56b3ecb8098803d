"""Page rasterizing: a scanner's page decoded directly agrees with pdfium's render of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest

from pipeline.ocr import raster

from .pages import TEXT, born_digital_pdf, draw_page, save_pdf


@pytest.fixture(autouse=True)
def _forget_open_documents():
    raster.close_cached()
    yield
    raster.close_cached()


def pdfium_render(path: Path, index: int, dpi: int):
    pdf = pdfium.PdfDocument(str(path))
    try:
        return pdf[index].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        pdf.close()


def close_to(a, b) -> bool:
    """Same size give or take a pixel of rounding, and nearly the same grey levels."""
    width, height = min(a.width, b.width), min(a.height, b.height)
    diff = np.abs(np.asarray(a, dtype=int)[:height, :width] - np.asarray(b, dtype=int)[:height, :width])
    return abs(a.width - b.width) <= 1 and abs(a.height - b.height) <= 1 and diff.mean() < 6


@pytest.mark.parametrize("dpi", [300, 200])
def test_scanned_page_decodes_like_pdfium_renders_it(tmp_path: Path, dpi: int) -> None:
    path = save_pdf([draw_page(TEXT)], tmp_path / "scan.pdf")
    assert raster._scanned_image(path, "scan.pdf", 0, dpi, 10**9) is not None  # the direct path
    direct = raster.render_page(path, "scan.pdf", raster.PDF, 0, dpi, 10**9)
    assert direct.info["dpi"] == (dpi, dpi)
    assert close_to(direct, pdfium_render(path, 0, dpi))


def test_page_rotate_entry_is_honoured(tmp_path: Path) -> None:
    path = save_pdf([draw_page(TEXT)], tmp_path / "scan.pdf")
    rotated = tmp_path / "rotated.pdf"
    with pikepdf.open(path) as pdf:
        pdf.pages[0].obj.Rotate = 90
        pdf.save(rotated)
    direct = raster.render_page(rotated, "rotated.pdf", raster.PDF, 0, 300, 10**9)
    assert close_to(direct, pdfium_render(rotated, 0, 300))


def test_a_page_with_more_than_one_image_is_rendered(tmp_path: Path) -> None:
    digital = born_digital_pdf(tmp_path / "d.pdf", [["Some real text on a page of its own"]])
    assert raster._scanned_image(digital, "d.pdf", 0, 300, 10**9) is None
    page = raster.render_page(digital, "d.pdf", raster.PDF, 0, 300, 10**9)
    assert page.width == 2550 and abs(page.height - 3300) <= 1
