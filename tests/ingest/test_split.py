"""Batch splitting on generated batches read back as the pipeline reads them (poppler-free raster
of the saved PDF / TIFF, zxing-cpp barcodes), and the split rules on page marks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from pipeline.ingest.split import SplitRules, mark_page, split_pages
from pipeline.ocr.barcodes import read_barcodes
from pipeline.ocr.raster import close_cached, page_count, render_page
from pipeline.records import CoverSheet, PageKind, PageMark
from pipeline.synth.batches import SEPARATOR_TEXT, batch_pages
from pipeline.synth.patients import generate_patients
from pipeline.synth.render import save_scan

RULES = SplitRules(separator_barcode=SEPARATOR_TEXT)
MEDIA = {".pdf": "application/pdf", ".tif": "image/tiff"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Six documents (two each by patch T, separator barcode, cover sheet), blank backs on about
    half the sheets; the same pages saved as a PDF and as a multi-page TIFF."""
    images, truth = batch_pages(generate_patients(12, seed=7), seed=11, documents=6, blank_backs=0.5, max_pages=1)
    folder = tmp_path_factory.mktemp("batch")
    files = {suffix: save_scan(images, folder / f"batch{suffix}") for suffix in MEDIA}
    yield files, truth
    close_cached()


def _marks(path: Path, rules: SplitRules = RULES) -> list[PageMark]:
    media_type = MEDIA[path.suffix]
    marks = []
    for index in range(page_count(path, path.name, media_type)):
        image = render_page(path, path.name, media_type, index, 300, 200_000_000)
        marks.append(mark_page(index + 1, image, read_barcodes(image, index + 1), rules))
    return marks


@pytest.mark.integration
@pytest.mark.parametrize("suffix", list(MEDIA))
def test_a_batch_splits_into_its_documents_page_for_page(batch, suffix) -> None:
    files, truth = batch
    assert {d.separation for d in truth.documents} == {"patch", "barcode", "cover"}
    assert PageKind.BLANK in truth.kinds
    marks = _marks(files[suffix])
    assert [m.kind for m in marks] == list(truth.kinds)
    parts = split_pages("b" * 64, marks, RULES)
    assert [p.pages for p in parts] == [d.pages for d in truth.documents]
    assert [p.cover for p in parts] == [d.cover for d in truth.documents]
    for part in parts:
        assert part.batch_sha256 == "b" * 64 and part.reasons == ()
        assert part.first_page <= part.pages[0] and part.last_page >= part.pages[-1]
        assert all(truth.kinds[n - 1] is PageKind.BLANK for n in part.dropped)
    covered = {n for p in parts for n in (*p.pages, *p.dropped)}
    separators = {n for n, kind in enumerate(truth.kinds, 1) if kind is PageKind.SEPARATOR}
    # every page is in a part, a separator, or a blank back of a separator sheet: nothing unaccounted
    assert all(n in covered or n in separators or truth.kinds[n - 1] is PageKind.BLANK
               for n in range(1, truth.pages + 1))


@pytest.mark.integration
def test_without_the_separator_value_only_patch_and_cover_sheets_split(batch) -> None:
    files, truth = batch
    rules = SplitRules()  # no separator barcode configured: that sheet is an ordinary page
    parts = split_pages("b" * 64, _marks(files[".tif"], rules), rules)
    barcode_sheets = [max(n for n, kind in enumerate(truth.kinds, 1) if kind is PageKind.SEPARATOR and n < d.pages[0])
                      for d in truth.documents if d.separation == "barcode"]
    kept = {n for p in parts for n in p.pages}
    assert barcode_sheets and set(barcode_sheets) <= kept
    assert len(parts) < len(truth.documents)


# ------------------------------------------------------------------------------- the rules


def _page(number: int, kind: PageKind = PageKind.CONTENT, **fields) -> PageMark:
    return PageMark(number, kind, **fields)


def test_separators_are_dropped_and_blanks_left_out_but_recorded() -> None:
    S, C, B = PageKind.SEPARATOR, PageKind.CONTENT, PageKind.BLANK
    kinds = [S, B, C, B, C, S, C, S, B, S]
    parts = split_pages("x", [_page(n, k) for n, k in enumerate(kinds, 1)], SplitRules())
    assert [(p.index, p.pages, p.dropped, p.first_page, p.last_page) for p in parts] == [
        (1, (3, 5), (2, 4), 2, 5),
        (2, (7,), (), 7, 7),
    ]


def test_blank_pages_are_kept_when_dropping_is_off() -> None:
    marks = [_page(1), _page(2, PageKind.BLANK), _page(3)]
    parts = split_pages("x", marks, SplitRules(drop_blank_pages=False))
    assert [p.pages for p in parts] == [(1, 2, 3)]


def test_a_cover_sheet_starts_a_document_unless_it_repeats_the_current_one() -> None:
    one = CoverSheet("100200", "18842-5", date(2024, 3, 1))
    two = CoverSheet("300400")
    marks = [_page(1), _page(2, PageKind.COVER, cover=one), _page(3), _page(4, PageKind.COVER, cover=one),
             _page(5), _page(6, PageKind.COVER, cover=two), _page(7, PageKind.COVER, cover=one)]
    parts = split_pages("x", marks, SplitRules())
    assert [(p.pages, p.cover) for p in parts] == [((1,), None), ((2, 3, 4, 5), one), ((6,), two), ((7,), one)]
    # a cover sheet with nothing after it is doubtful: the document may be missing
    assert parts[0].reasons == () and parts[1].reasons == ()
    assert all("cover sheet with no pages after it" in p.reasons[0] for p in parts[2:])


def test_a_change_of_identifiers_splits_only_when_asked_and_always_for_review() -> None:
    marks = [_page(1, mrn="111111"), _page(2, mrn="111111"), _page(3), _page(4, mrn="222222"),
             _page(5, birth_date=date(1950, 1, 2)), _page(6, birth_date=date(1951, 1, 2))]
    assert [p.pages for p in split_pages("x", marks, SplitRules())] == [(1, 2, 3, 4, 5, 6)]
    parts = split_pages("x", marks, SplitRules(split_on_identity_change=True))
    # page 3 reads no MRN and stays with the pages before it: the split is where the MRN changes
    assert [p.pages for p in parts] == [(1, 2, 3), (4, 5), (6,)]
    assert "before batch page 4: the MRN" in parts[0].reasons[0] and "page 2" in parts[0].reasons[0]
    assert parts[1].reasons[0] == parts[0].reasons[0]
    assert "before batch page 6: the birth date" in parts[1].reasons[-1] == parts[2].reasons[0]


def test_page_marks_follow_the_rule_order_on_real_images() -> None:
    from pipeline.ingest.patchcode import draw_patch
    from pipeline.records import Barcode

    page = Image.new("L", (1275, 1650), 255)
    page.info["dpi"] = (150, 150)
    assert mark_page(1, page, (), RULES).kind is PageKind.BLANK
    cover = (Barcode(1, "QRCode", "MRN:123456|TYPE:18842-5|DOS:2024-03-01"),)
    assert mark_page(1, page, cover, RULES).cover == CoverSheet("123456", "18842-5", date(2024, 3, 1))
    label = (Barcode(1, "Code128", "123456"),)  # a bare MRN (a patient label) is not a cover sheet
    assert mark_page(1, page, label, RULES).kind is PageKind.CONTENT
    separator = (Barcode(1, "Code128", SEPARATOR_TEXT),)
    assert mark_page(1, page, separator + cover, RULES).kind is PageKind.SEPARATOR
    page.paste(draw_patch("T", 150).convert("L"), (300, 200))
    mark = mark_page(1, page, (), RULES)
    assert mark.kind is PageKind.SEPARATOR and "T" in mark.patch
    assert mark_page(1, page, (), SplitRules(patch_codes=frozenset({"2"}))).kind is PageKind.CONTENT


def test_unknown_patch_codes_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown patch code"):
        SplitRules(patch_codes=frozenset({"9"}))


def test_an_ocr_page_gives_its_identifiers_only_when_the_identity_rule_is_on() -> None:
    from pipeline.ingest.split import mark_ocr_page
    from pipeline.records import OcrPage

    blank = Image.new("L", (850, 1100), 255)
    blank.info["dpi"] = (100, 100)
    text = "Patient: DOE, JANE\nDOB: 01/02/1980\nMRN: 4455667\nSeen in clinic today."
    page = OcrPage(number=3, text=text, confidence=91.0)
    on = mark_ocr_page(page, blank, SplitRules(split_on_identity_change=True))
    assert (on.number, on.kind, on.mrn, on.birth_date) == (3, PageKind.CONTENT, "4455667", date(1980, 1, 2))
    off = mark_ocr_page(page, blank, SplitRules())
    assert (off.kind, off.mrn, off.birth_date) == (PageKind.CONTENT, None, None)
    # the image alone says blank, and with no word read it is: specks of OCR noise are not words
    noise = mark_ocr_page(OcrPage(number=4, text=" . ~ ,", confidence=12.0), blank, SplitRules())
    assert noise.kind is PageKind.BLANK
