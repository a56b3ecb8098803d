"""The searchable copy: the invisible text lies over the same words in the page image people see.

Each case goes through the real engine (Tesseract, pdfium, pikepdf). The searchable PDF is then
rendered by pdfium as a viewer would; Tesseract finds a word in that rendering, and pdfium's text
layer must put the same word in the same place, whatever the page went through before OCR: a
tilt straightened, a page turned the right way up, a page /Rotate, a crop box, an image file.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytesseract
import pytest
from PIL import Image

from pipeline.ocr import preprocess
from pipeline.ocr.engine import OcrEngine

from .pages import TEXT, document, draw_page, save_pdf

pytestmark = pytest.mark.integration

WORD = "cardiology"
RENDER_SCALE = 150 / 72  # render the output at 150 dpi
TOLERANCE_PX = 12  # 2 mm at 150 dpi


def page_image(skew: float = 0.0, turn: int = 0) -> Image.Image:
    image = draw_page(TEXT + ["Signed by the attending physician"], width=1700)
    if skew:
        image = image.rotate(skew, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return preprocess.turn(image, turn)


def scanner_pdf(image: Image.Image, path: Path, rotate: int = 0, crop: bool = False) -> Path:
    save_pdf([image], path)
    if rotate or crop:
        with pikepdf.open(path, allow_overwriting_input=True) as pdf:
            page = pdf.pages[0]
            if rotate:
                page.Rotate = rotate
            if crop:  # a crop box that is not the media box: the page is rendered, not decoded
                x0, y0, x1, y1 = (float(v) for v in page.mediabox)
                page.CropBox = [x0 + 20, y0 + 15, x1 - 10, y1 - 5]
            pdf.save(path)
    return path


def text_layer_centre(page: pdfium.PdfPage, word: str) -> tuple[float, float]:
    """Where the text layer puts `word`, in the rendered bitmap's pixels."""
    textpage = page.get_textpage()
    searcher = textpage.search(word, match_case=False)
    found = searcher.get_next()
    assert found is not None, f"{word!r} is not in the text layer"
    first, count = found
    boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
    x = (min(b[0] for b in boxes) + max(b[2] for b in boxes)) / 2
    y = (min(b[1] for b in boxes) + max(b[3] for b in boxes)) / 2
    width, height = (round(v * RENDER_SCALE) for v in page.get_size())
    dx, dy = ctypes.c_int(), ctypes.c_int()
    assert pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y,
                                      ctypes.byref(dx), ctypes.byref(dy))
    return dx.value, dy.value


def image_centre(page: pdfium.PdfPage, word: str) -> tuple[float, float]:
    """Where `word` is seen on the rendered page (Tesseract on pdfium's rendering)."""
    bitmap = page.render(scale=RENDER_SCALE, grayscale=True).to_pil()
    data = pytesseract.image_to_data(bitmap, output_type=pytesseract.Output.DICT, config="--dpi 150")
    for i, text in enumerate(data["text"]):
        if text.strip(".,:;").lower() == word:
            return (data["left"][i] + data["width"][i] / 2, data["top"][i] + data["height"][i] / 2)
    raise AssertionError(f"{word!r} is not visible on the rendered page")


def assert_text_over_image(pdf_path: Path) -> None:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        page = pdf[0]
        seen = image_centre(page, WORD)
        layer = text_layer_centre(page, WORD)
        assert abs(seen[0] - layer[0]) < TOLERANCE_PX and abs(seen[1] - layer[1]) < TOLERANCE_PX, (
            f"text layer at {layer}, image shows the word at {seen}")
    finally:
        pdf.close()


@pytest.mark.parametrize("case", ["straight", "tilted 4°", "upside down", "page /Rotate 90",
                                  "crop box (rendered)", "tilted and cropped"])
def test_text_layer_lies_over_the_scan(engine: OcrEngine, tmp_path: Path, case: str) -> None:
    path = tmp_path / "scan.pdf"
    match case:
        case "straight":
            scanner_pdf(page_image(), path)
        case "tilted 4°":
            scanner_pdf(page_image(skew=4.0), path)
        case "upside down":
            scanner_pdf(page_image(turn=180), path)
        case "page /Rotate 90":  # stored sideways, shown upright by the viewer
            scanner_pdf(page_image(turn=270), path, rotate=90)
        case "crop box (rendered)":
            scanner_pdf(page_image(), path, crop=True)
        case "tilted and cropped":
            scanner_pdf(page_image(skew=-3.0), path, crop=True)

    result = engine.recognize(document(path), tmp_path / "work")

    assert result.searchable_pdf is not None
    assert_text_over_image(result.searchable_pdf)
    if case == "upside down":
        assert result.pages[0].rotation == 180


def test_the_scan_itself_is_kept_in_the_searchable_copy(engine: OcrEngine, tmp_path: Path) -> None:
    path = scanner_pdf(page_image(skew=2.0), tmp_path / "scan.pdf")

    result = engine.recognize(document(path), tmp_path / "work")

    assert result.searchable_pdf is not None
    with pikepdf.open(path) as original, pikepdf.open(result.searchable_pdf) as copy:
        def images(pdf: pikepdf.Pdf) -> list[bytes]:
            return [x.read_raw_bytes() for x in pdf.pages[0].get_images().values()]
        assert images(copy) == images(original)  # the scanner's own bytes, not re-encoded


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_text_layer_lies_over_an_image_file_page(engine: OcrEngine, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"scan{suffix}"
    page_image(skew=-4.0).save(path, dpi=(300, 300))

    result = engine.recognize(document(path), tmp_path / "work")

    assert result.searchable_pdf is not None
    assert_text_over_image(result.searchable_pdf)
