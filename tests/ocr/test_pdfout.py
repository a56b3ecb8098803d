"""The searchable PDF: pages in order whether merged in one go or in chunks joined by pdfunite
(or in memory where pdfunite is absent).

(That the text lies over the right place of each page is tested in test_searchable.py.)"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

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


@pytest.mark.parametrize(("chunk", "pdfunite"), [(50, True), (2, True), (2, False)])
@pytest.mark.integration
def test_pages_come_out_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int,
                                 pdfunite: bool) -> None:
    monkeypatch.setattr(pdfout, "CHUNK", chunk)
    if not pdfunite:  # poppler-utils absent: the chunks are joined in memory by pikepdf
        monkeypatch.setattr(pdfout.shutil, "which", lambda name: None)
    original = born_digital_pdf(tmp_path / "orig.pdf", [[f"Page number {i} of the stack"] for i in range(5)])
    parts = [pdfout.OriginalPage(i) for i in range(5)]
    out = pdfout.assemble(parts, original, tmp_path / "out.pdf")
    assert texts(out) == [f"Page number {i} of the stack" for i in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orig.pdf", "out.pdf"]  # no chunk or .part files


def test_original_pages_are_taken_by_index_and_text_laid_over_pages(tmp_path: Path) -> None:
    original = born_digital_pdf(tmp_path / "orig.pdf", [["First original"], ["Second original"]])
    text_only = one_page_pdfs(tmp_path, 2)  # stand-ins for Tesseract's text-only pages
    identity = pdfout.image_to_page(box=(0, 0, 612, 792), page_rotate=0, shown=(612, 792),
                                    prepared=(612, 792), turn=0, straighten=0.0)
    picture = tmp_path / "page.jpg"
    Image.new("L", (1275, 1650), 255).save(picture, format="JPEG")
    parts = [pdfout.OriginalPage(1), pdfout.ImagePage(picture, text_only[0]),
             pdfout.OverlaidPage(0, text_only[1], identity, (612, 792))]
    out = pdfout.assemble(parts, original, tmp_path / "out.pdf")
    assert [t.split() for t in texts(out)] == [
        "Second original".split(), "Page number 0 of the stack".split(),
        "First original Page number 1 of the stack".split()]
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 3


@pytest.mark.parametrize("page_rotate", [0, 90, 180, 270])
@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_image_to_page_undoes_turns_and_straightening(page_rotate: int, turn: int) -> None:
    """A point's journey: page -> shown (page /Rotate) -> turned -> straightened, and back."""
    import math

    box = (10.0, 20.0, 622.0, 812.0)  # 612 x 792 pt, not at the origin
    raw = (1275, 1650)  # the unrotated page at 150 dpi
    sideways = page_rotate % 180 == 90
    shown = (raw[1], raw[0]) if sideways else raw
    skew = 3.0

    def turn_cw(p, size, degrees):  # y-up pixel coordinates, about the centre
        a = math.radians(-degrees)
        w, h = size
        out = (h, w) if degrees % 180 == 90 else (w, h)
        x, y = p[0] - w / 2, p[1] - h / 2
        return (x * math.cos(a) - y * math.sin(a) + out[0] / 2,
                x * math.sin(a) + y * math.cos(a) + out[1] / 2), out

    point_raw = (300.0, 1200.0)
    shown_point, _ = turn_cw(point_raw, raw, page_rotate)
    turned_point, turned = turn_cw(shown_point, shown, turn)
    a = math.radians(skew)
    w2 = turned[0] * math.cos(a) + turned[1] * math.sin(a)
    h2 = turned[0] * math.sin(a) + turned[1] * math.cos(a)
    x, y = turned_point[0] - turned[0] / 2, turned_point[1] - turned[1] / 2
    prepared_point = (x * math.cos(a) - y * math.sin(a) + w2 / 2, x * math.sin(a) + y * math.cos(a) + h2 / 2)

    m = pdfout.image_to_page(box=box, page_rotate=page_rotate, shown=shown, prepared=(w2, h2),
                             turn=turn, straighten=skew)
    px, py = prepared_point
    user = (m[0] * px + m[2] * py + m[4], m[1] * px + m[3] * py + m[5])
    expected = (box[0] + point_raw[0] * 612 / raw[0], box[1] + point_raw[1] * 792 / raw[1])
    assert user == pytest.approx(expected, abs=1e-6)
