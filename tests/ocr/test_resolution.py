"""Pages whose file states no resolution, or a wrong one: read at least as well as plain Tesseract.

Each page is drawn here (DejaVu Sans at 10 pt for the resolution it really has; the fax by
pipeline.synth.render), saved as a scanner, a fax machine or a phone would save it, then read by the engine and by plain
`tesseract FILE stdout` on the very same file; right words are counted against the drawn text.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.ocr import resolution
from pipeline.ocr.engine import OcrEngine
from pipeline.synth.render import FAX, render_pages

from .pages import FONT, document

LINES = [
    "Referral to cardiology clinic for chest pain",
    "Patient reports shortness of breath on exertion",
    "Blood pressure 142 over 91, pulse 88 and regular",
    "Current medication: aspirin 81 mg and metoprolol",
    "Please schedule an echocardiogram within two weeks",
    "Signed by the attending physician on the ward",
]


def sheet(dpi: int, width_inches: float = 6.0, points: float = 10.0) -> Image.Image:
    """The lines in `points`-size type on a white sheet of `width_inches`, at `dpi`."""
    size = round(points * dpi / 72)
    font = ImageFont.truetype(FONT, size)
    step = round(size * 1.7)
    margin = round(0.5 * dpi)
    image = Image.new("L", (round(width_inches * dpi), 2 * margin + step * len(LINES)), 255)
    canvas = ImageDraw.Draw(image)
    for i, line in enumerate(LINES):
        canvas.text((margin, margin + i * step), line, font=font, fill=0)
    return image


def right_words(text: str) -> int:
    want = Counter(re.findall(r"\w+", " ".join(LINES).lower()))
    return sum((want & Counter(re.findall(r"\w+", text.lower()))).values())


def plain_tesseract(path: Path) -> str:
    return subprocess.run(["tesseract", str(path), "stdout"], check=True, capture_output=True,
                          text=True, env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout


def both(engine: OcrEngine, path: Path, tmp_path: Path) -> tuple[int, int]:
    """(right words read by the pipeline, by plain tesseract)."""
    ours = engine.recognize(document(path), tmp_path / "work").text
    return right_words(ours), right_words(plain_tesseract(path))


TOTAL = right_words(" ".join(LINES))


def test_an_image_with_no_resolution_at_100_dpi(engine: OcrEngine, tmp_path: Path) -> None:
    # a copier's 100-dpi scan of small form type, slightly soft: told 300 dpi (as the pipeline
    # once did with a header-less image) Tesseract read 32 of these 45 words, as 100 dpi all 45
    path = tmp_path / "copier_export.png"
    sheet(100, points=8).filter(ImageFilter.GaussianBlur(0.7)).save(path)  # no dpi in the header
    ours, plain = both(engine, path, tmp_path)
    assert ours >= plain and ours >= 0.9 * TOTAL


def test_an_image_tagged_72_dpi_that_is_really_300(engine: OcrEngine, tmp_path: Path) -> None:
    path = tmp_path / "exported.png"
    sheet(300).save(path, dpi=(72, 72))
    ours, plain = both(engine, path, tmp_path)
    assert ours >= plain and ours >= 0.9 * TOTAL


def test_a_fax_at_204_by_98_dpi(engine: OcrEngine, tmp_path: Path) -> None:
    # the fax look (1 bit, speckles, a slight tilt) from the synthetic renderer, sent as a
    # standard-resolution fax: every other line of pixels dropped
    page = render_pages(["\n".join(LINES)], degrade=FAX, seed=3)[0]
    squashed = page.resize((page.width, round(page.height * 98 / 204)), Image.Resampling.NEAREST)
    path = tmp_path / "fax.tif"
    squashed.save(path, compression="group4", dpi=(204, 98))
    ours, plain = both(engine, path, tmp_path)
    assert ours >= plain and ours >= 0.9 * TOTAL


def test_a_phone_photo_sized_jpeg(engine: OcrEngine, tmp_path: Path) -> None:
    photo = Image.new("L", (3024, 4032), 120)  # the page on a table, 72 dpi as phones say
    page = sheet(380, width_inches=7.0)
    photo.paste(page, ((photo.width - page.width) // 2, 600))
    path = tmp_path / "IMG_0042.jpg"
    photo.save(path, quality=85, dpi=(72, 72))
    ours, plain = both(engine, path, tmp_path)
    assert ours >= plain and ours >= 0.9 * TOTAL


@pytest.mark.parametrize(("dpi", "header", "source"), [
    (100, None, "characters"),  # no header: estimated
    (300, 72, "characters"),  # a 35-inch page: not believed
    (100, 300, "characters"),  # a 100-dpi page told 300: its print would be 3 pt
    (300, 300, "header"),
    (150, 150, "header"),
])
def test_the_header_is_believed_only_when_plausible(dpi: int, header: int | None,
                                                    source: str) -> None:
    page = sheet(dpi, width_inches=8.5)
    found = resolution.page_resolution(page, header)
    assert found.source == source
    assert found.dpi == pytest.approx(dpi, rel=0.3)


def test_a_page_without_characters_is_estimated_from_its_size() -> None:
    blank = Image.new("L", (850, 1100), 255)
    assert resolution.page_resolution(blank, None) == resolution.Resolution(100, "page size")


def test_low_resolution_pages_are_enlarged_within_the_pixel_limit() -> None:
    assert resolution.enlargement(300, (2550, 3300), 10**9) == 1.0
    assert resolution.enlargement(100, (850, 1100), 10**9) == pytest.approx(resolution.READ_DPI / 100)
    assert resolution.enlargement(20, (170, 220), 10**9) == resolution.MAX_ENLARGE
    limited = resolution.enlargement(50, (850, 1100), 2 * 850 * 1100)
    assert limited == pytest.approx(2 ** 0.5, rel=0.01)


def test_the_searchable_copy_keeps_the_pages_true_size(engine: OcrEngine, tmp_path: Path) -> None:
    path = tmp_path / "letter_100dpi.png"
    sheet(100, width_inches=8.5).save(path)
    result = engine.recognize(document(path), tmp_path / "work")
    with pikepdf.open(result.searchable_pdf) as pdf:
        width_points = float(pdf.pages[0].mediabox[2]) - float(pdf.pages[0].mediabox[0])
    assert width_points == pytest.approx(8.5 * 72, rel=0.3)  # not the enlarged copy's 2x
    page = result.pages[0]
    assert (page.width, page.height) == Image.open(path).size
    assert all(w.box[0] + w.box[2] <= page.width + 1 for w in page.words)
