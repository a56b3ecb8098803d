"""Assembling the searchable PDF: one-page PDFs from Tesseract, plus born-digital pages as they are.

pikepdf copies pages lazily and reads their streams from the source files when it saves, so the
sources must stay open until then; pages are merged in chunks so that a 2000-page document never
holds more than `CHUNK` files open, and memory stays at one chunk's page objects.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import pikepdf

from pipeline.errors import StorageError

log = logging.getLogger(__name__)

CHUNK = 200

#: A page of the output: a one-page PDF file, or the 0-based index of a page of the original PDF.
PagePart = Path | int


def assemble(parts: Sequence[PagePart], original: Path | None, out: Path) -> Path:
    """Write the pages in order to `out` (atomically) and return it."""
    if not parts:
        raise ValueError("no pages to assemble")
    tmp = out.with_name(out.name + ".part")
    chunks: list[Path] = []
    try:
        if len(parts) <= CHUNK:
            _merge(parts, original, tmp)
        else:
            for start in range(0, len(parts), CHUNK):
                chunk = out.with_name(f"{out.name}.{start // CHUNK:04d}.chunk")
                chunks.append(chunk)
                _merge(parts[start:start + CHUNK], original, chunk)
            _merge(chunks, None, tmp)
        tmp.replace(out)
    except pikepdf.PdfError as exc:
        raise StorageError(f"could not assemble the searchable PDF {out.name}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
        for chunk in chunks:
            chunk.unlink(missing_ok=True)
    return out


def _merge(parts: Sequence[PagePart], original: Path | None, out: Path) -> None:
    with ExitStack() as stack:
        result = stack.enter_context(pikepdf.new())
        source_pdf = None
        for part in parts:
            if isinstance(part, int):
                if original is None:
                    raise ValueError("an original page was asked for without an original PDF")
                if source_pdf is None:
                    source_pdf = stack.enter_context(pikepdf.open(original))
                result.pages.append(source_pdf.pages[part])
            else:
                one = stack.enter_context(pikepdf.open(part))
                result.pages.extend(one.pages)
        result.save(out)
