"""Assembling the searchable PDF: one-page PDFs from Tesseract, plus born-digital pages as they are.

pikepdf (qpdf) holds every copied page's image data in memory until it saves: merging 200 pages
grew the process by the size of the output (docs/benchmarks/ocr.md). So pages are merged by
pikepdf `CHUNK` at a time into chunk files, and the chunk files are joined by poppler's
`pdfunite`, which streams (about 11 MB whatever the size). Memory stays at one chunk's images.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import pikepdf

from pipeline.errors import StorageError

log = logging.getLogger(__name__)

CHUNK = 50
JOIN_TIMEOUT = 600.0  # seconds for pdfunite

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
            _join(chunks, tmp)
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


def _join(chunks: Sequence[Path], out: Path) -> None:
    program = shutil.which("pdfunite")
    if program is None:
        log.warning("pdfunite (poppler-utils) not found: joining %d chunks in memory; "
                    "install it with `apt-get install poppler-utils`", len(chunks))
        _merge(chunks, None, out)
        return
    argv = [program, *map(str, chunks), str(out)]
    log.debug("pdfunite argv: %s", argv)
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=JOIN_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        raise StorageError(f"could not join the searchable PDF {out.name}: "
                           f"{stderr.decode(errors='replace').strip()[:200] or exc}") from exc
