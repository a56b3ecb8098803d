"""Batch splitting: one scanned stack (a PDF or multi-page TIFF) into its documents.

Two steps, so a long batch never holds its page images at once:

    mark_page(number, image, barcodes, rules, mrn=None, birth_date=None) -> PageMark
    mark_ocr_page(ocr_page, image, rules) -> PageMark
        while the page image is at hand (in the OCR worker): what the page is
    split_pages(batch_sha256, marks, rules) -> tuple[BatchPart, ...]
        over the small marks: the documents, each with its batch pages and reasons

What a page is, first rule that holds:

- separator: a barcode whose text is exactly `rules.separator_barcode`, or one of
  `rules.patch_codes` read by `patchcode.patch_codes_in`. It ends the document before it
  and is left out of every part.
- cover: a patient cover sheet's barcode (`coversheet.read_cover`). It starts a document (unless
  it repeats the cover of the document it is in) and stays that document's first page; its MRN,
  type and date of service go with the part as its strongest identifier.
- blank: no barcode and `blank.ink_share_in` at or below `rules.blank_max_ink`: the back of a simplex
  sheet. Left out of the part (listed in `BatchPart.dropped`); the batch original keeps it.
- content: anything else.

With `rules.split_on_identity_change` (off by default) a content page whose MRN or birth date
(read from its text) differs from the last one read in the same document starts a new one; a
page that reads none continues the document. Such a split is never trusted: both parts carry a
reason and go to review.

A part made only of a cover sheet also carries a reason. Parts record the batch's SHA-256, the
batch pages they keep and the range they span, so the batch original (stored whole) shows where
every filed page came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from PIL import Image

from pipeline.ingest.blank import ink_share_in
from pipeline.ingest.coversheet import read_cover
from pipeline.ingest.pageimage import WORK_DPI, working_grey
from pipeline.ingest.patchcode import PATTERNS, patch_codes_in
from pipeline.patients.extract import extract_identifiers
from pipeline.records import Barcode, BatchPart, CoverSheet, OcrPage, OcrResult, PageKind, PageMark
from pipeline.settings import DEFAULT_BLANK_MAX_INK, DEFAULT_SPLIT_PATCH_CODES, Settings

_REAL_WORD = re.compile(r"[A-Za-z0-9]{3,}")  # OCR noise on a blank page gives specks, not words


@dataclass(frozen=True, slots=True)
class SplitRules:
    """Where a batch splits; `SplitRules.from_settings(settings)` at the edge."""

    patch_codes: frozenset[str] = frozenset(DEFAULT_SPLIT_PATCH_CODES.split(","))
    separator_barcode: str | None = None
    blank_max_ink: float = DEFAULT_BLANK_MAX_INK
    drop_blank_pages: bool = True
    split_on_identity_change: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.patch_codes) - set(PATTERNS)
        if unknown:
            raise ValueError(f"unknown patch code(s): {', '.join(sorted(unknown))}")

    @classmethod
    def from_settings(cls, settings: Settings) -> SplitRules:
        return cls(
            patch_codes=frozenset(c for c in settings.split_patch_codes.split(",") if c),
            separator_barcode=settings.split_separator_barcode or None,
            blank_max_ink=settings.split_blank_max_ink,
            drop_blank_pages=settings.split_drop_blank_pages,
            split_on_identity_change=settings.split_on_identity_change,
        )


def mark_page(number: int, image: Image.Image, barcodes: Iterable[Barcode], rules: SplitRules, *,
              mrn: str | None = None, birth_date: date | None = None) -> PageMark:
    """What page `number` of a batch is (see the module docstring for the order of the rules)."""
    barcodes = tuple(barcodes)
    identity = {"mrn": mrn, "birth_date": birth_date}
    wanted = rules.separator_barcode.strip() if rules.separator_barcode else None
    if wanted and any(code.text.strip() == wanted for code in barcodes):
        return PageMark(number, PageKind.SEPARATOR)
    grey, dpi = working_grey(image, WORK_DPI)  # once, for both measures
    pixels = np.asarray(grey)
    if rules.patch_codes:
        found = patch_codes_in(pixels, dpi) & rules.patch_codes
        if found:
            return PageMark(number, PageKind.SEPARATOR, patch="/".join(sorted(found)))
    for code in barcodes:
        cover = read_cover(code.text)
        if cover is not None:
            return PageMark(number, PageKind.COVER, cover=cover, **identity)
    ink = ink_share_in(pixels, dpi)
    if not barcodes and ink <= rules.blank_max_ink:
        return PageMark(number, PageKind.BLANK, ink=ink)
    return PageMark(number, PageKind.CONTENT, ink=ink, **identity)


def mark_ocr_page(page: OcrPage, image: Image.Image, rules: SplitRules) -> PageMark:
    """`mark_page` for a page the OCR stage has read: its barcodes, and (only when
    `rules.split_on_identity_change`) the MRN and birth date its text gives. A page whose text
    holds a real word is never blank, whatever the image measure says."""
    mrn = birth_date = None
    if rules.split_on_identity_change:
        found = extract_identifiers(OcrResult(pages=(page,), searchable_pdf=None, engine=""))
        mrn, birth_date = found.mrn, found.birth_date
    mark = mark_page(page.number, image, page.barcodes, rules, mrn=mrn, birth_date=birth_date)
    if mark.kind is PageKind.BLANK and _REAL_WORD.search(page.text):
        return replace(mark, kind=PageKind.CONTENT, mrn=mrn, birth_date=birth_date)
    return mark


@dataclass(slots=True)
class _Open:
    """The part being gathered."""

    pages: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    cover: CoverSheet | None = None
    reasons: list[str] = field(default_factory=list)
    seen: dict[str, tuple[int, object]] = field(default_factory=dict)  # identifier -> (page, value)


def split_pages(batch_sha256: str, marks: Sequence[PageMark], rules: SplitRules) -> tuple[BatchPart, ...]:
    """The documents in a batch, in order. Pages not in any part are separators and stray blanks."""
    parts: list[BatchPart] = []
    current = _Open()

    def close(reason_for_next: str | None = None) -> _Open:
        if current.pages:
            parts.append(_finish(batch_sha256, len(parts) + 1, current))
        opened = _Open()
        if reason_for_next:
            opened.reasons.append(reason_for_next)
        return opened

    for mark in sorted(marks, key=lambda m: m.number):
        if mark.kind is PageKind.SEPARATOR:
            current = close()
        elif mark.kind is PageKind.COVER:
            if current.pages and current.cover != mark.cover:
                current = close()
            if not current.pages:
                current.cover = mark.cover
            current.pages.append(mark.number)
        elif mark.kind is PageKind.BLANK and rules.drop_blank_pages:
            current.dropped.append(mark.number)
        else:
            change = _identity_change(current.seen, mark) if rules.split_on_identity_change else None
            if change:
                current.reasons.append(change)
                current = close(change)
            current.pages.append(mark.number)
            for name in _IDENTIFIERS:
                if getattr(mark, name) is not None:
                    current.seen[name] = (mark.number, getattr(mark, name))
    close()
    return tuple(parts)


_IDENTIFIERS = {"mrn": "MRN", "birth_date": "birth date"}


def _identity_change(seen: dict[str, tuple[int, object]], page: PageMark) -> str | None:
    """Why `page` starts a new document: an identifier on it differs from the one read earlier."""
    for name, label in _IDENTIFIERS.items():
        value = getattr(page, name)
        if value is not None and name in seen and seen[name][1] != value:
            return (f"split before batch page {page.number}: the {label} read there differs from the one "
                    f"on batch page {seen[name][0]}; check where one document ends and the next begins")
    return None


def _finish(batch_sha256: str, index: int, part: _Open) -> BatchPart:
    reasons = list(part.reasons)
    if part.cover is not None and len(part.pages) == 1:
        reasons.append(f"batch page {part.pages[0]} is a cover sheet with no pages after it; "
                       "check the batch for a missing document")
    spanned = part.pages + part.dropped
    return BatchPart(batch_sha256=batch_sha256, index=index, pages=tuple(part.pages),
                     first_page=min(spanned), last_page=max(spanned), cover=part.cover,
                     dropped=tuple(part.dropped), reasons=tuple(dict.fromkeys(reasons)))
