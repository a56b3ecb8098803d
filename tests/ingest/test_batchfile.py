"""Cutting a batch's parts out (PDF by pikepdf, TIFF frames without loss), the part's share of the
batch's OCR, and the cover sheet as the part's first identifier. Generated pages, no OCR."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageSequence

from pipeline.ingest.batchfile import cut_pages, is_one_document, part_name, part_ocr, with_cover_sheet
from pipeline.records import Barcode, BatchPart, CoverSheet, DocumentIdentifiers, OcrPage, OcrResult, Word
from pipeline.synth.render import save_scan


def _pages(count: int) -> list[Image.Image]:
    """Pages that differ (the page number drawn large), so a wrong page is seen."""
    pages = []
    for number in range(1, count + 1):
        page = Image.new("L", (340, 440), 255)
        ImageDraw.Draw(page).rectangle((20, 20 + 30 * number, 120 + 20 * number, 60 + 30 * number), fill=0)
        page.info["dpi"] = (40, 40)
        pages.append(page)
    return pages


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batches")
    images = _pages(5)
    return images, save_scan(images, folder / "b.pdf"), save_scan(images, folder / "b.tif")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_pdf_part_holds_the_batch_pages_asked_for_and_is_cut_the_same_twice(batches, tmp_path):
    _, pdf, _ = batches
    first = cut_pages(pdf, "application/pdf", (2, 4), tmp_path / "one.pdf")
    again = cut_pages(pdf, "application/pdf", (2, 4), tmp_path / "two.pdf")
    assert _sha(first) == _sha(again)
    with pikepdf.open(pdf) as batch, pikepdf.open(first) as part:
        assert len(part.pages) == 2
        for mine, theirs in zip(part.pages, (batch.pages[1], batch.pages[3]), strict=True):
            ours = next(iter(mine.get_images().values()))
            source = next(iter(theirs.get_images().values()))
            assert ours.read_raw_bytes() == source.read_raw_bytes()  # the scanner's bytes, not re-encoded


def test_a_tiff_part_keeps_the_frames_pixels(batches, tmp_path):
    images, _, tif = batches
    part = cut_pages(tif, "image/tiff", (1, 3, 5), tmp_path / "part.tif")
    assert _sha(part) == _sha(cut_pages(tif, "image/tiff", (1, 3, 5), tmp_path / "again.tif"))
    with Image.open(part) as cut:
        frames = [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(cut)]
    with Image.open(tif) as whole:
        source = [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(whole)]
    assert len(frames) == 3
    for got, number in zip(frames, (1, 3, 5), strict=True):
        assert np.array_equal(got, source[number - 1])


def _ocr(*texts: str, confidence: float = 90.0, reasons: tuple[str, ...] = ()) -> OcrResult:
    pages = tuple(
        OcrPage(number=n, text=text, confidence=confidence if text else -1.0,
                words=tuple(Word(w, confidence, (0, 0, 1, 1), 0) for w in text.split()),
                barcodes=(Barcode(n, "QRCode", f"code {n}"),))
        for n, text in enumerate(texts, 1))
    return OcrResult(pages=pages, searchable_pdf=None, engine="fake", reasons=reasons)


def test_a_parts_ocr_is_renumbered_and_judged_on_its_own_pages():
    batch = _ocr("first page", "", "third page text", reasons=("unreadable text: mean word confidence 30 < 45",))
    part = part_ocr(batch, (3,), None, 45.0)
    assert [p.number for p in part.pages] == [1]
    assert part.pages[0].text == "third page text"
    assert part.barcodes == (Barcode(1, "QRCode", "code 3"),)
    assert part.reasons == ()  # the batch's low mean came from other pages
    assert part_ocr(batch, (2,), None, 45.0).reasons == ("unreadable text: no words found",)
    low = _ocr("faint words", confidence=20.0)
    assert part_ocr(low, (1,), None, 45.0).reasons == ("unreadable text: mean word confidence 20 < 45",)


def _part(cover: CoverSheet | None = None, pages=(1, 2), reasons=()) -> BatchPart:
    return BatchPart("ab" * 32, 2, tuple(pages), min(pages), max(pages), cover, (), tuple(reasons))


def test_the_cover_sheet_mrn_comes_first_and_a_different_printed_mrn_is_doubted():
    cover = CoverSheet("00012345", "discharge_summary", date(2024, 3, 6))
    read = DocumentIdentifiers(mrn="00099999", family_name="OKAFOR")
    ocr = _ocr("Patient: OKAFOR, ADAEZE MRN: 00099999")
    identifiers, doubts = with_cover_sheet(read, ocr, _part(cover))
    assert identifiers.mrn == "00012345"
    assert identifiers.date_of_service == date(2024, 3, 6)
    assert identifiers.family_name == "OKAFOR"
    assert len(doubts) == 1 and "differs from the cover sheet" in doubts[0]
    same = _ocr("Patient: OKAFOR, ADAEZE MRN: 00012345")
    assert with_cover_sheet(read, same, _part(cover))[1] == ()
    assert with_cover_sheet(read, ocr, None) == (read, ())
    assert with_cover_sheet(read, ocr, _part(reasons=("split in doubt",)))[1] == ("split in doubt",)


def test_only_a_split_that_found_nothing_files_the_file_whole():
    assert is_one_document((), 3)
    assert is_one_document((_part(pages=(1, 2, 3)),), 3)
    assert not is_one_document((_part(pages=(1, 3)),), 3)  # a blank page was dropped
    assert not is_one_document((_part(CoverSheet("1"), pages=(1, 2, 3)),), 3)
    assert not is_one_document((_part(pages=(1,)), _part(pages=(2, 3))), 3)


def test_a_part_is_named_after_its_batch_and_pages():
    assert part_name("box12.pdf", _part(pages=(7, 9))) == "box12.part02.p7-9.pdf"
