"""Where on the page image each identifier was read, so the clerk can check it against the paper.

The word boxes OCR recorded in `Evidence` are in the frame of the image Tesseract read (turned
upright and straightened), not the page image the clerk sees. So they are not used: the value is
looked up in the text layer of the PDF the page image is rendered from (the searchable copy, whose
invisible words lie over the scan, see `ocr/pdfout.py`). pdfium gives the characters' boxes in page
space and maps them to the pixels of the page image (`FPDF_PageToDevice`, with the same size and
origin `pages.py` renders with), which takes care of a tilt, a /Rotate and a crop box.

When a value is on the page more than once, the place after its label ("MRN:") wins; with no
label before any of them, none is chosen. A value read from a barcode, or not found in the text
layer, gets no box: the page says it was not located.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.errors import CorruptFileError
from pipeline.records import Evidence
from pipeline.review import pages
from pipeline.store.objects import ObjectStore
from pipeline.store.rows import StoredDocument

log = logging.getLogger(__name__)

#: pixels of margin around the characters, so the box frames the text rather than cuts it
MARGIN_PX = 4
#: height and width per digit of the number tag drawn at a box's corner, in page image pixels
TAG_HEIGHT_PX = 22
TAG_DIGIT_PX = 13
#: colours cycle through this many (review.css: .hl-1 ... .hl-6)
COLOURS = 6

Box = tuple[int, int, int, int]  # left, top, right, bottom in page image pixels


@dataclass(frozen=True, slots=True)
class Region:
    """One highlighted place on a page image; several identifiers may share it (family and given name)."""

    number: int  # 1-based over the whole item: the tag on the image and next to each identifier
    page: int
    box: Box
    fields: tuple[str, ...]
    tag: Box  # the number tag, in the left margin level with the box, so it covers no text

    @property
    def colour(self) -> int:
        return (self.number - 1) % COLOURS + 1


@dataclass(frozen=True, slots=True)
class Highlights:
    regions: tuple[Region, ...] = ()
    sizes: tuple[tuple[int, tuple[int, int]], ...] = ()  # (page, (width, height) of its image) with regions

    def on_page(self, page: int) -> list[Region]:
        return [r for r in self.regions if r.page == page]

    def size(self, page: int) -> tuple[int, int] | None:
        return dict(self.sizes).get(page)

    def region_for(self, field: str) -> Region | None:
        return next((r for r in self.regions if field in r.fields), None)


def locate(pdf: pdfium.PdfDocument, evidence: Sequence[Evidence]) -> Highlights:
    """The regions of the page images where the evidence's text values are (call under `pages.open_pdf`)."""
    found: dict[tuple[int, Box], list[str]] = {}
    sizes: dict[int, tuple[int, int]] = {}
    for number, items in _by_page(evidence, len(pdf)):
        page = pdf[number - 1]
        try:
            textpage = page.get_textpage()
            size = pages.image_size(page)
            for item in items:
                box = _find(page, textpage, size, item)
                if box is None:
                    log.debug("evidence for %s not found in the text layer of page %d", item.field, number)
                    continue
                found.setdefault((number, box), []).append(item.field)
                sizes[number] = size
        finally:
            page.close()
    regions: list[Region] = []
    for number, ((page_number, box), fields) in enumerate(found.items(), start=1):
        tag = _tag(number, box, [r.tag for r in regions if r.page == page_number], sizes[page_number])
        regions.append(Region(number, page_number, box, tuple(fields), tag))
    return Highlights(tuple(regions), tuple(sorted(sizes.items())))


def _tag(number: int, box: Box, taken: Sequence[Box], size: tuple[int, int]) -> Box:
    """The tag's place: level with the box's middle at the left edge, right of any tag already there."""
    width = 8 + TAG_DIGIT_PX * len(str(number))
    top = min(max((box[1] + box[3] - TAG_HEIGHT_PX) // 2, 0), max(size[1] - TAG_HEIGHT_PX, 0))
    left = 2
    for other in sorted(taken, key=lambda t: t[0]):
        if other[1] < top + TAG_HEIGHT_PX and top < other[3] and other[0] < left + width and left < other[2]:
            left = other[2] + 3
    return (left, top, left + width, top + TAG_HEIGHT_PX)


def _by_page(evidence: Iterable[Evidence], page_count: int) -> list[tuple[int, list[Evidence]]]:
    by_page: dict[int, list[Evidence]] = {}
    for item in evidence:
        if item.source == "text" and item.page and 1 <= item.page <= page_count and item.value.strip():
            by_page.setdefault(item.page, []).append(item)
    return sorted(by_page.items())


def _find(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, size: tuple[int, int],
          item: Evidence) -> Box | None:
    """The box of the value on the page image: its occurrence after its label, else its only one.

    A value printed several times, none after its label, is not located: a box in the wrong place
    is worse than none.
    """
    searcher = textpage.search(" ".join(item.value.split()), match_case=False)
    hits = []
    while (hit := searcher.get_next()) is not None:
        if _follows_label(textpage, hit[0], item.label):
            return _pixel_box(page, textpage, size, *hit)
        hits.append(hit)
    return _pixel_box(page, textpage, size, *hits[0]) if len(hits) == 1 else None


def _follows_label(textpage: pdfium.PdfTextPage, start: int, label: str) -> bool:
    wanted = _letters(label)
    if not wanted:
        return False
    reach = len(label) + 8
    before = textpage.get_text_range(max(0, start - reach), min(start, reach))
    return _letters(before).endswith(wanted)


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _pixel_box(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, size: tuple[int, int],
               start: int, count: int) -> Box | None:
    xs: list[int] = []
    ys: list[int] = []
    end = start + count
    if end < textpage.count_chars() and _real_space(textpage, end):
        end += 1  # Tesseract's text layer ends each word with a space inside the word's box
    for index in range(start, end):
        if pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 1:
            continue  # line breaks and spaces pdfium adds have no place of their own
        left, bottom, right, top = textpage.get_charbox(index)
        if right <= left or top <= bottom:
            continue
        for x, y in ((left, bottom), (left, top), (right, bottom), (right, top)):
            px, py = _to_image(page, size, x, y)
            xs.append(px)
            ys.append(py)
    if not xs:
        return None
    width, height = size
    return (max(min(xs) - MARGIN_PX, 0), max(min(ys) - MARGIN_PX, 0),
            min(max(xs) + MARGIN_PX, width), min(max(ys) + MARGIN_PX, height))


def _real_space(textpage: pdfium.PdfTextPage, index: int) -> bool:
    return (chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index)).isspace()
            and pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 0)


def _to_image(page: pdfium.PdfPage, size: tuple[int, int], x: float, y: float) -> tuple[int, int]:
    """A point of page space in the pixels of the page image, as `pages.py` renders it (no extra rotation)."""
    dx, dy = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y,
                                      ctypes.byref(dx), ctypes.byref(dy)):
        raise pdfium.PdfiumError("FPDF_PageToDevice failed")
    return dx.value, dy.value


def for_document(store: ObjectStore, doc: StoredDocument, evidence: Sequence[Evidence]) -> Highlights:
    """The highlights of a stored document's page images; none when its pages are images, not a PDF."""
    data = pages.shown_pdf(store, doc) if _by_page(evidence, doc.pages) else None
    if data is None:
        return Highlights()
    with pages.open_pdf(data, doc.document_id) as pdf:
        try:
            return locate(pdf, evidence)
        except pdfium.PdfiumError as exc:
            raise CorruptFileError(f"document {doc.document_id}: the text layer of the stored PDF cannot be "
                                   f"read ({exc})", hint="run `pipeline audit` to check the store") from exc
