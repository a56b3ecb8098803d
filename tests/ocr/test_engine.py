"""The OCR engine end to end with real Tesseract, pdfium and pikepdf on pages drawn at test time."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from pipeline.ocr import preprocess
from pipeline.ocr.engine import OcrEngine
from pipeline.settings import OcrMode, load_settings

from .pages import TEXT, born_digital_pdf, document, draw_page, save_pdf, words_of

pytestmark = pytest.mark.integration


def pdf_text(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def test_png_page_text_words_confidence_and_searchable_pdf(engine: OcrEngine, tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    draw_page(TEXT).save(path, dpi=(300, 300))

    result = engine.recognize(document(path), tmp_path / "work")

    assert len(result.pages) == 1
    page = result.pages[0]
    assert words_of(" ".join(TEXT)) <= words_of(page.text)
    assert page.source == "ocr" and page.rotation == 0 and page.confidence > 85
    assert result.reasons == ()
    assert result.engine.startswith("tesseract 5")
    aspirin = next(w for w in page.words if w.text == "aspirin")
    assert aspirin.line == 4 and aspirin.confidence > 80
    left, top, width, height = aspirin.box
    assert 80 < left < page.width and 80 + 3 * 64 - 10 < top < 80 + 3 * 64 + 40 and width > 60
    assert result.searchable_pdf is not None and result.searchable_pdf.parent == tmp_path / "work"
    assert "aspirin" in pdf_text(result.searchable_pdf)[0]
    # the scratch folder is gone; only the searchable PDF is left in the workdir
    assert list((tmp_path / "work").iterdir()) == [result.searchable_pdf]


def test_multipage_tiff_pages_come_back_in_order(engine: OcrEngine, tmp_path: Path) -> None:
    words = ["alpha", "bravo", "charlie", "delta", "echo"]
    images = [draw_page([f"Page marker {w} of the scan"]) for w in words]
    path = tmp_path / "batch.tif"
    images[0].save(path, save_all=True, append_images=images[1:], dpi=(300, 300))

    result = engine.recognize(document(path), tmp_path)

    assert [p.number for p in result.pages] == [1, 2, 3, 4, 5]
    assert [w in p.text for w, p in zip(words, result.pages, strict=True)] == [True] * 5
    texts = pdf_text(result.searchable_pdf)
    assert [w in t for w, t in zip(words, texts, strict=True)] == [True] * 5


@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_sideways_and_upside_down_pages_are_turned(engine: OcrEngine, tmp_path: Path,
                                                   clockwise: int) -> None:
    # The sheet went in turned by `clockwise`; the engine must turn it back the other way.
    path = tmp_path / f"turned{clockwise}.png"
    preprocess.turn(draw_page(TEXT * 3), clockwise).save(path)

    page = engine.recognize(document(path), tmp_path).pages[0]

    assert page.rotation == 360 - clockwise
    assert words_of(" ".join(TEXT)) <= words_of(page.text)
    assert page.confidence > 80


def test_an_upside_down_page_with_one_line_is_turned_though_too_short_for_orientation_detection(
        engine: OcrEngine, tmp_path: Path) -> None:
    # the last sheet of a stack fed upside down, holding only its foot line
    path = tmp_path / "last-sheet.png"
    preprocess.turn(draw_page(["DOE, JANE   DOB 01/02/1980   MRN 10000001   Printed 12/01/2026"]), 180).save(path)

    page = engine.recognize(document(path), tmp_path).pages[0]

    assert page.rotation == 180
    assert {"DOE,", "JANE", "01/02/1980", "10000001"} <= set(page.text.split())


def test_a_skewed_page_is_straightened_and_the_angle_recorded(engine: OcrEngine, tmp_path: Path) -> None:
    path = tmp_path / "skewed.png"
    preprocess.straighten(draw_page(TEXT * 3), 4.0).save(path)

    page = engine.recognize(document(path), tmp_path).pages[0]

    assert page.skew == pytest.approx(-4.0, abs=0.3)
    assert page.rotation == 0
    assert words_of(" ".join(TEXT)) <= words_of(page.text)


def test_born_digital_pdf_uses_its_text_layer_unless_forced(engine: OcrEngine, tmp_path: Path) -> None:
    lines = ["Operative report", "Procedure: laparoscopic cholecystectomy", "Surgeon notes follow"]
    path = born_digital_pdf(tmp_path / "digital.pdf", [lines])

    result = engine.recognize(document(path), tmp_path / "auto")
    page = result.pages[0]
    assert page.source == "text-layer" and page.confidence == 100.0
    assert page.text.splitlines()[:3] == lines
    word = next(w for w in page.words if w.text == "laparoscopic")
    assert word.line == 2
    # drawn at x = 72 pt + the width of "Procedure: ", baseline 702 pt above the bottom of 792
    from reportlab.pdfbase.pdfmetrics import stringWidth

    left, top, width, height = word.box
    assert left == pytest.approx((72 + stringWidth("Procedure: ", "Helvetica", 12)) * 300 / 72, abs=8)
    assert top + height == pytest.approx((792 - 702) * 300 / 72, abs=15)  # bottom ~ baseline
    assert width == pytest.approx(stringWidth("laparoscopic", "Helvetica", 12) * 300 / 72, abs=8)
    assert "cholecystectomy" in pdf_text(result.searchable_pdf)[0]

    with OcrEngine(mode=OcrMode.FORCE, workers=1) as forced:
        result = forced.recognize(document(path), tmp_path / "force")
    assert result.pages[0].source == "ocr" and "cholecystectomy" in result.pages[0].text
    # the copy keeps the page's own text, not that and an OCR layer over it
    assert pdf_text(result.searchable_pdf)[0].split() == " ".join(lines).split()


def test_mixed_pdf_keeps_digital_pages_and_ocrs_scanned_ones(engine: OcrEngine,
                                                             tmp_path: Path) -> None:
    import pikepdf

    digital = born_digital_pdf(tmp_path / "d.pdf", [["Referral letter from the clinic",
                                                     "Please see this patient soon"]])
    scanned = save_pdf([draw_page(["Scanned laboratory report page"])], tmp_path / "s.pdf")
    mixed = tmp_path / "mixed.pdf"
    with pikepdf.open(digital) as a, pikepdf.open(scanned) as b:
        a.pages.extend(b.pages)
        a.save(mixed)

    result = engine.recognize(document(mixed), tmp_path / "work")

    assert [p.source for p in result.pages] == ["text-layer", "ocr"]
    assert "laboratory" in result.pages[1].text
    texts = pdf_text(result.searchable_pdf)
    assert "Referral" in texts[0] and "laboratory" in texts[1]


def scan_with_hidden_ocr_layer(path: Path, hidden_lines: list[str]) -> Path:
    """A scanned page carrying someone else's invisible OCR layer (text render mode 3)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = draw_page(TEXT, width=2550)
    pdf = canvas.Canvas(str(path), pagesize=letter)
    pdf.drawImage(ImageReader(image), 0, 792 - image.height * 72 / 300, width=612,
                  height=image.height * 72 / 300)
    text = pdf.beginText(72, 700)
    text.setTextRenderMode(3)
    text.setFont("Helvetica", 12)
    for line in hidden_lines:
        text.textLine(line)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    return path


def test_a_scan_with_someone_elses_hidden_ocr_layer_is_ocrd_again(engine: OcrEngine, tmp_path: Path) -> None:
    hidden = ["Dlscharge sumrnary f0r the patlent", "scanner text of unknown quality here"]
    path = scan_with_hidden_ocr_layer(tmp_path / "scanner-ocr.pdf", hidden)

    result = engine.recognize(document(path), tmp_path / "work")

    page = result.pages[0]
    assert page.source == "ocr" and page.confidence > 80  # our own OCR, with word confidences
    assert words_of(" ".join(TEXT)) <= words_of(page.text) and "sumrnary" not in page.text
    # the copy keeps the page as it came: one text layer (the scanner's), not two
    assert pdf_text(result.searchable_pdf)[0].split() == " ".join(hidden).split()

    with OcrEngine(mode=OcrMode.SKIP, workers=1) as skipping:  # OCR off: the layer is all there is
        assert skipping.recognize(document(path), tmp_path / "skip").pages[0].source == "text-layer"


def test_skip_mode_gives_no_text_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    draw_page(TEXT).save(path)
    with OcrEngine(mode=OcrMode.SKIP, workers=1) as skipping:
        result = skipping.recognize(document(path), tmp_path)
    assert result.pages[0].text == "" and result.searchable_pdf is None
    assert result.reasons == ("no text: OCR is off (PIPELINE_OCR_MODE=skip) and the document has "
                              "no text layer",)


def test_blank_page_is_unreadable_not_an_error(engine: OcrEngine, tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    draw_page(["", "", ""]).save(path)
    result = engine.recognize(document(path), tmp_path)
    assert result.pages[0].confidence == -1.0
    assert result.reasons == ("unreadable text: no words found",)


def test_low_confidence_document_gets_a_reason_with_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    draw_page(TEXT).save(path)
    with OcrEngine(min_confidence=99.5, workers=1) as strict:
        result = strict.recognize(document(path), tmp_path)
    confidence = result.confidence
    assert 50 < confidence < 99.5
    assert result.reasons == (f"unreadable text: mean word confidence {confidence:.0f} < 100",)


def test_barcodes_on_pages_are_reported_with_their_page(engine: OcrEngine, tmp_path: Path) -> None:
    code = zxingcpp.create_barcode("MRN:55512", zxingcpp.BarcodeFormat.QRCode).to_image(scale=6)
    first, second = draw_page(TEXT + [""] * 6), draw_page(["Cover sheet"] + [""] * 8)
    second.paste(Image.fromarray(np.asarray(code)).convert("L"), (600, 200))
    path = save_pdf([first, second], tmp_path / "cover.pdf")

    result = engine.recognize(document(path), tmp_path)

    assert [(b.page, b.format, b.text) for b in result.barcodes] == [(2, "QRCode", "MRN:55512")]


def test_documents_from_several_threads_share_the_pool(engine: OcrEngine, tmp_path: Path) -> None:
    names = ["orange", "purple", "silver", "yellow"]
    docs = []
    for name in names:
        path = tmp_path / f"{name}.pdf"
        save_pdf([draw_page([f"The {name} folder"]), draw_page([f"Second {name} page"])], path)
        docs.append(document(path))
    results: dict[str, str] = {}

    def run(doc) -> None:
        results[doc.original_name] = engine.recognize(doc, tmp_path / doc.sha256[:8]).text

    threads = [threading.Thread(target=run, args=(doc,)) for doc in docs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(results) == sorted(f"{n}.pdf" for n in names)
    for name in names:
        text = results[f"{name}.pdf"]
        assert f"The {name} folder" in text and f"Second {name} page" in text
        assert all(other not in text for other in names if other != name)


def test_from_settings_takes_the_ocr_settings(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, ocr_mode="force", ocr_max_pages=7, ocr_dpi=200, workers=1)
    with OcrEngine.from_settings(settings) as built:
        assert (built.mode, built.max_pages, built.dpi, built.workers) == (OcrMode.FORCE, 7, 200, 1)


def test_fax_resolution_tiff_is_stretched_to_square_pixels(engine: OcrEngine, tmp_path: Path) -> None:
    # A fax in "normal" mode samples 204 dpi across and 98 dpi down: text arrives squashed.
    page = draw_page(TEXT, font_size=48)
    squashed = page.resize((page.width, round(page.height * 98 / 204))).convert("1")
    path = tmp_path / "fax.tif"
    squashed.save(path, compression="group4", dpi=(204, 98))

    result = engine.recognize(document(path), tmp_path)

    assert result.pages[0].height == pytest.approx(page.height, abs=2)
    assert words_of(" ".join(TEXT)) <= words_of(result.pages[0].text)


def _recognize_in_a_daemon(path: str, queue) -> None:
    from .pages import document as make_document

    with OcrEngine(workers=2) as inline:
        queue.put(inline.recognize(make_document(Path(path)), Path(path).parent / "work").text)


def test_a_daemonic_process_ocrs_in_process(tmp_path: Path) -> None:
    # Celery's prefork children are daemonic and may not start a pool of their own.
    import multiprocessing

    path = tmp_path / "scan.png"
    draw_page(TEXT).save(path)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_recognize_in_a_daemon, args=(str(path), queue), daemon=True)
    child.start()
    text = queue.get(timeout=120)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert "metoprolol" in text


def test_jpeg_exif_orientation_is_applied(engine: OcrEngine, tmp_path: Path) -> None:
    # A phone photo stored sideways with EXIF Orientation 6 ("rotate 90 clockwise to view").
    stored = preprocess.turn(draw_page(TEXT), 270)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "photo.jpg"
    stored.save(path, quality=95, exif=exif)

    page = engine.recognize(document(path), tmp_path).pages[0]

    assert page.rotation == 0 and (page.width, page.height) == (stored.height, stored.width)
    assert words_of(" ".join(TEXT)) <= words_of(page.text)


def test_every_worker_process_starts_even_when_pages_come_one_at_a_time(tmp_path: Path) -> None:
    path = save_pdf([draw_page(["A single short page"])], tmp_path / "one.pdf")
    with OcrEngine(workers=2) as fresh:
        for _ in range(3):
            fresh.recognize(document(path), tmp_path)
        assert len(fresh._pool._processes) == 2


def test_a_one_page_image_is_read_without_starting_the_pool(tmp_path: Path) -> None:
    one = tmp_path / "one.png"
    draw_page(TEXT).save(one)
    two = tmp_path / "two.tif"
    draw_page(TEXT[:2]).save(two, save_all=True, append_images=[draw_page(TEXT[2:])])
    with OcrEngine(workers=2) as fresh:
        result = fresh.recognize(document(one), tmp_path)
        assert fresh._pool is None  # nothing started for one page
        assert words_of(" ".join(TEXT)) <= words_of(result.text) and result.searchable_pdf
        # two pages, or a PDF, go to the pool, which then serves every later file
        assert "metoprolol" in fresh.recognize(document(two), tmp_path).pages[1].text
        assert fresh._pool is not None
        assert "metoprolol" in fresh.recognize(document(one), tmp_path).text
