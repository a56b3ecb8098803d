"""A new PDF made of pages of stored PDFs, rearranged: the pages are copied as they are (images and
text layers never re-encoded), a rotation only changes a page's /Rotate. Page surgery's one tool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import io

import pikepdf

from pipeline.errors import CorruptFileError

#: the rotations a clerk may apply, clockwise degrees
ROTATIONS = (90, 180, 270)


@dataclass(frozen=True, slots=True)
class PageRef:
    """Page `page` (1-based) of source PDF `source`, turned `rotate` degrees clockwise more."""

    source: int
    page: int
    rotate: int = 0


def page_count(data: bytes, label: str) -> int:
    with _open(data, label) as pdf:
        return len(pdf.pages)


def assemble(sources: Sequence[bytes], pages: Sequence[PageRef], out: Path, labels: Sequence[str]) -> None:
    """Write the pages, in order, from `sources` (PDF bytes) to `out` as a new PDF."""
    opened = [_open(data, label) for data, label in zip(sources, labels, strict=True)]
    try:
        new = pikepdf.new()
        for ref in pages:
            pdf = opened[ref.source]
            if not 1 <= ref.page <= len(pdf.pages):
                raise CorruptFileError(f"{labels[ref.source]}: the stored PDF has {len(pdf.pages)} pages, "
                                       f"not page {ref.page}", hint="run `pipeline audit` to check the store")
            new.pages.append(pdf.pages[ref.page - 1])
            if ref.rotate % 360:
                new.pages[-1].rotate(ref.rotate % 360, relative=True)
        new.save(out)  # a fresh /ID: two versions never share bytes
    finally:
        for pdf in opened:
            pdf.close()


def _open(data: bytes, label: str) -> pikepdf.Pdf:
    try:
        return pikepdf.open(io.BytesIO(data))
    except pikepdf.PdfError as exc:
        raise CorruptFileError(f"{label}: the stored PDF cannot be opened ({exc})",
                               hint="run `pipeline audit` to check the store") from exc

