"""The searchable PDF: pages in order whether merged in one go or in chunks joined by pdfunite."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest

from pipeline.ocr import pdfout

from .pages import born_digital_pdf


def one_page_pdfs(tmp_path: Path, count: int) -> list[Path]:
    return [born_digital_pdf(tmp_path / f"p{i}.pdf", [[f"Page number {i} of the stack"]])
            for i in range(count)]


def texts(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range().strip() for page in pdf]
    finally:
        pdf.close()


@pytest.mark.parametrize("chunk", [50, 2])
@pytest.mark.integration
def test_pages_come_out_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(pdfout, "CHUNK", chunk)
    parts = one_page_pdfs(tmp_path, 5)
    out = pdfout.assemble(parts, None, tmp_path / "out.pdf")
    assert texts(out) == [f"Page number {i} of the stack" for i in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"p{i}.pdf" for i in range(5)] + ["out.pdf"])  # no chunk or .part files left


def test_original_pages_are_taken_by_index(tmp_path: Path) -> None:
    original = born_digital_pdf(tmp_path / "orig.pdf", [["First original"], ["Second original"]])
    scanned = one_page_pdfs(tmp_path, 1)[0]
    out = pdfout.assemble([1, scanned, 0], original, tmp_path / "out.pdf")
    assert texts(out) == ["Second original", "Page number 0 of the stack", "First original"]
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 3
