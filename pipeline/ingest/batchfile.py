"""A batch file's pages as the splitter needs them, and the documents cut out of it.

    mark_batch(source, name, media_type, ocr, rules, max_pixels) -> list[PageMark]
    cut_pages(source, media_type, pages, target) -> Path       the part's own file, no re-encoding
    part_ocr(ocr, pages, searchable, min_confidence) -> OcrResult   the part's share of the batch's OCR
    with_cover_sheet(identifiers, ocr, part) -> (identifiers, doubts)  the cover sheet's MRN first
    is_one_document(parts, pages)                              nothing to split: file the file whole

Where pages are marked: after the OCR engine read the whole batch. The engine already read every
page's barcodes (`OcrPage.barcodes`: separator barcodes and cover sheets); the two image measures
(patch codes, blank backs) need the page image, which is decoded once more here at the working
resolution (`pageimage.WORK_DPI`), one page at a time (and one thread at a time: `_DECODING`).
This keeps the OCR engine as it is and the marks small; the cost is one extra decode per batch
page (measured in `benchmarks/backfill.py`). A one-page file is not marked: it is one document.

A PDF part is the batch's own pages copied by pikepdf (the scanner's image streams as they are);
a TIFF part is the batch's frames saved again without loss (the same pixels; JPEG-compressed
frames are stored LZW-compressed rather than compressed twice). Both are written deterministically,
so cutting the same part again gives the same bytes (and SHA-256).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pikepdf
from PIL import Image, ImageSequence

from pipeline.errors import CorruptFileError
from pipeline.ingest.pageimage import WORK_DPI
from pipeline.ingest.split import SplitRules, mark_ocr_page
from pipeline.ocr.raster import PDF, TIFF, close_cached, render_page
from pipeline.patients import normalize
from pipeline.patients.extract import extract_identifiers
from pipeline.records import BatchPart, BatchResult, DocumentIdentifiers, OcrResult, PageMark, ProcessResult

#: the media types a batch comes in (one image file is one page: nothing to split)
BATCH_TYPES = frozenset({PDF, TIFF})
#: the page decoders keep one open file per process and pdfium is not thread-safe: batches marked
#: in several threads at once (backfill workers, Celery's thread pool) decode one page at a time
_DECODING = threading.Lock()
_LOSSLESS_TIFF = {"group4", "group3", "tiff_lzw", "tiff_adobe_deflate", "packbits", "raw"}


def mark_batch(source: Path, name: str, media_type: str, ocr: OcrResult, rules: SplitRules,
               max_pixels: int) -> list[PageMark]:
    """What every page of a batch the OCR engine has read is (separator, cover, blank, content)."""
    marks = []
    try:
        for page in ocr.pages:
            with _DECODING:
                image = render_page(source, name, media_type, page.number - 1, WORK_DPI, max_pixels)
                image.load()
            try:
                marks.append(mark_ocr_page(page, image, rules))
            finally:
                image.close()
    finally:
        with _DECODING:
            close_cached()
    return marks


def cut_pages(source: Path, media_type: str, pages: Sequence[int], target: Path) -> Path:
    """Batch pages `pages` (1-based, in order) as a file of their own at `target`."""
    if media_type == PDF:
        try:
            with pikepdf.open(source) as batch, pikepdf.new() as part:
                part.pages.extend(batch.pages[number - 1] for number in pages)
                part.save(target, deterministic_id=True)
        except pikepdf.PdfError as exc:
            raise CorruptFileError(f"{source.name}: its pages cannot be copied ({exc}); rescan the batch") from exc
        return target
    if media_type == TIFF:
        with Image.open(source) as batch:
            compression = batch.info.get("compression", "raw")
            frames = [frame.copy() for number, frame in enumerate(ImageSequence.Iterator(batch), 1)
                      if number in set(pages)]
        dpi = frames[0].info.get("dpi")
        frames[0].save(target, format="TIFF", save_all=True, append_images=frames[1:],
                       compression=compression if compression in _LOSSLESS_TIFF else "tiff_lzw",
                       **({"dpi": dpi} if dpi else {}))
        return target
    raise ValueError(f"{media_type} is not a batch type")


def part_ocr(ocr: OcrResult, pages: Sequence[int], searchable: Path | None, min_confidence: float) -> OcrResult:
    """The batch's OCR of `pages`, numbered 1.. as in the part's own file, with the part's own
    reasons (readability is judged on the part's pages; other batch reasons are kept)."""
    by_number = {page.number: page for page in ocr.pages}
    renumbered = []
    for new, old in enumerate(pages, 1):
        page = by_number[old]
        renumbered.append(replace(page, number=new,
                                  barcodes=tuple(replace(code, page=new) for code in page.barcodes)))
    result = OcrResult(pages=tuple(renumbered), searchable_pdf=searchable, engine=ocr.engine)
    reasons = [reason for reason in ocr.reasons if not reason.startswith("unreadable text")]
    if not any(page.words for page in renumbered) and not any(page.text.strip() for page in renumbered):
        reasons.append("unreadable text: no words found")
    elif 0 <= result.confidence < min_confidence:
        reasons.append(f"unreadable text: mean word confidence {result.confidence:.0f} < {min_confidence:.0f}")
    return replace(result, reasons=tuple(dict.fromkeys(reasons)))


def with_cover_sheet(identifiers: DocumentIdentifiers, ocr: OcrResult,
                     part: BatchPart | None) -> tuple[DocumentIdentifiers, tuple[str, ...]]:
    """A batch part's identifiers with its cover sheet's MRN (and date of service) first, and the
    reasons to doubt the part: the split's own, and an MRN printed on its pages that is not the
    cover sheet's. The cover MRN is still one identifier: the matcher needs a second to agree."""
    if part is None:
        return identifiers, ()
    doubts = list(part.reasons)
    if part.cover is not None:
        cover_mrn = normalize.identifier(part.cover.mrn)
        printed = extract_identifiers(replace(ocr, pages=tuple(replace(p, barcodes=()) for p in ocr.pages))).mrn
        if printed is not None and printed != cover_mrn:
            doubts.append(f"the MRN printed on the pages differs from the cover sheet's (batch pages "
                          f"{part.first_page}-{part.last_page}); check which patient this document is")
        identifiers = replace(identifiers, mrn=cover_mrn,
                              date_of_service=part.cover.date_of_service or identifiers.date_of_service)
    return identifiers, tuple(dict.fromkeys(doubts))


def is_one_document(parts: tuple[BatchPart, ...], pages: int) -> bool:
    """Whether a split found nothing to split: one part of every page, no cover sheet, no doubt
    (or no part at all: a file of blanks and separators is filed whole, to be looked at)."""
    if not parts:
        return True
    only = parts[0]
    return (len(parts) == 1 and only.cover is None and not only.reasons
            and only.pages == tuple(range(1, pages + 1)))


def whole_file(result: ProcessResult, sha256: str | None = None) -> BatchResult:
    """A file that is one document, as a batch of one."""
    return BatchResult(result.source, sha256, result.pages, (result,), (None,))


def part_name(batch_name: str, part: BatchPart) -> str:
    """`box12.pdf` part 3 on batch pages 7-9 -> `box12.part03.p7-9.pdf` (the part's title)."""
    path = Path(batch_name)
    return f"{path.stem}.part{part.index:02d}.p{part.first_page}-{part.last_page}{path.suffix or '.pdf'}"
