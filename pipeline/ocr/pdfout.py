"""Assembling the searchable PDF: each page's own image under Tesseract's invisible text.

Tesseract writes a text-only page (`textonly_pdf=1`: the words in an invisible font, no image),
so the image people see is never the one Tesseract read (which may be black and white):

    OriginalPage   a born-digital page of the original PDF, copied as it is
    OverlaidPage   a scanned page of the original PDF, copied as it is (the scanner's own pixels,
                   no re-encoding), with the text page laid over it through `matrix`, which undoes
                   the turn and straightening the page got before OCR; a page that came in
                   sideways or upside down gets a /Rotate so that it is shown upright
    ImagePage      a new page for a TIFF/PNG/JPEG frame: the upright, straightened page as JPEG,
                   with the text page over it

pikepdf (qpdf) holds every copied page's image data in memory until it saves: merging 200 pages
grew the process by the size of the output (docs/benchmarks/ocr.md). So pages are merged by
pikepdf `CHUNK` at a time into chunk files, and the chunk files are joined by poppler's
`pdfunite`, which streams (about 11 MB whatever the size). Memory stays at one chunk's images.
"""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from PIL import Image

from pipeline.errors import StorageError

if TYPE_CHECKING:  # imported where a PDF is written: `pipeline ocr` on an image file writes none
    import pikepdf

log = logging.getLogger(__name__)

CHUNK = 50
JOIN_TIMEOUT = 600.0  # seconds for pdfunite

#: a PDF transformation matrix (a b c d e f): x' = a x + c y + e, y' = b x + d y + f
Matrix = tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class OriginalPage:
    index: int  # 0-based page of the original PDF


@dataclass(frozen=True, slots=True)
class OverlaidPage:
    index: int  # 0-based page of the original PDF
    text: Path  # Tesseract's text-only one-page PDF
    matrix: Matrix  # OCR'd image pixels (origin bottom left, y up) -> the page's user space
    pixels: tuple[int, int]  # width, height of the OCR'd image
    turn: int = 0  # clockwise degrees the page was turned to be upright: added to its /Rotate


@dataclass(frozen=True, slots=True)
class ImagePage:
    image: Path  # the page as a greyscale JPEG
    text: Path  # Tesseract's text-only one-page PDF, the same size as the page


PagePart = OriginalPage | OverlaidPage | ImagePage


def image_to_page(*, box: tuple[float, float, float, float], page_rotate: int,
                  shown: tuple[int, int], prepared: tuple[int, int], turn: int,
                  straighten: float) -> Matrix:
    """The matrix from the OCR'd image's pixels to the user space of the PDF page it came from.

    `shown` is the page image as displayed (the page box turned clockwise by the page's /Rotate),
    `prepared` the image Tesseract read: `shown` turned `turn` degrees clockwise, then rotated
    `straighten` degrees counter-clockwise about its centre onto a canvas grown to fit. Undoing
    both is one rotation about the centres, by page_rotate + turn - straighten degrees (with y up).
    """
    x0, y0, x1, y1 = box
    sideways = page_rotate % 180 == 90
    raw_w, raw_h = (shown[1], shown[0]) if sideways else shown
    sx, sy = (x1 - x0) / raw_w, (y1 - y0) / raw_h
    angle = math.radians(page_rotate + turn - straighten)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = prepared[0] / 2, prepared[1] / 2
    # raw = R(angle) (p - c_prepared) + c_raw, then user = origin + S raw
    tx = raw_w / 2 - (cos * cx - sin * cy)
    ty = raw_h / 2 - (sin * cx + cos * cy)
    return (sx * cos, sy * sin, -sx * sin, sy * cos, x0 + sx * tx, y0 + sy * ty)


def assemble(parts: Sequence[PagePart], original: Path | None, out: Path) -> Path:
    """Write the pages in order to `out` (atomically) and return it."""
    import pikepdf

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
    import pikepdf

    with ExitStack() as stack:
        result = stack.enter_context(pikepdf.new())
        source: pikepdf.Pdf | None = None
        for part in parts:
            if isinstance(part, OriginalPage | OverlaidPage):
                if original is None:
                    raise ValueError("an original page was asked for without an original PDF")
                if source is None:
                    source = stack.enter_context(pikepdf.open(original))
                result.pages.append(source.pages[part.index])
                if isinstance(part, OverlaidPage):
                    text = stack.enter_context(pikepdf.open(part.text)).pages[0]
                    _overlay(result, result.pages[-1], text, part)
            else:
                text = stack.enter_context(pikepdf.open(part.text)).pages[0]
                _append_image_page(result, part.image, text)
        result.save(out)


def _overlay(pdf: pikepdf.Pdf, page: pikepdf.Page, text: pikepdf.Page, part: OverlaidPage) -> None:
    """Lay the text page over `page`, mapped from the OCR'd image onto the page through the matrix."""
    import pikepdf

    width_pt, height_pt = (float(text.mediabox[2]) - float(text.mediabox[0]),
                           float(text.mediabox[3]) - float(text.mediabox[1]))
    kx, ky = part.pixels[0] / width_pt, part.pixels[1] / height_pt  # text points -> image pixels
    a, b, c, d, e, f = part.matrix
    matrix = (a * kx, b * kx, c * ky, d * ky, e, f)
    form = pdf.copy_foreign(text.as_form_xobject())
    name = page.add_resource(form, pikepdf.Name.XObject, prefix="OCR")
    # the page's own content may leave the graphics state changed: fence it in first
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    operands = " ".join(f"{v:.6f}" for v in matrix)
    page.contents_add(pikepdf.Stream(pdf, f"\nQ\nq {operands} cm {name} Do Q\n".encode()),
                      prepend=False)
    if part.turn % 360:  # shown the right way up, losslessly
        page.obj.Rotate = (int(page.obj.get("/Rotate", 0)) + part.turn) % 360


def _append_image_page(pdf: pikepdf.Pdf, image: Path, text: pikepdf.Page) -> None:
    """A new page the size of the text page: the JPEG filling it, the text over it."""
    import pikepdf

    with Image.open(image) as jpeg:
        width, height, mode = jpeg.width, jpeg.height, jpeg.mode
    colour = pikepdf.Name.DeviceGray if mode == "L" else pikepdf.Name.DeviceRGB
    xobject = pikepdf.Stream(pdf, image.read_bytes())
    xobject.stream_dict = pikepdf.Dictionary(
        Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width, Height=height,
        ColorSpace=colour, BitsPerComponent=8, Filter=pikepdf.Name.DCTDecode)
    box = [float(v) for v in text.mediabox]
    page = pikepdf.Page(pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=box,
                                           Resources=pikepdf.Dictionary()))
    pdf.pages.append(page)
    page = pdf.pages[-1]
    picture = page.add_resource(xobject, pikepdf.Name.XObject, prefix="Im")
    form = page.add_resource(pdf.copy_foreign(text.as_form_xobject()), pikepdf.Name.XObject,
                             prefix="OCR")
    w, h = box[2] - box[0], box[3] - box[1]
    content = f"q {w:.4f} 0 0 {h:.4f} {box[0]:.4f} {box[1]:.4f} cm {picture} Do Q\nq {form} Do Q\n"
    page.contents_add(pikepdf.Stream(pdf, content.encode()), prepend=False)


def _join(chunks: Sequence[Path], out: Path) -> None:
    program = shutil.which("pdfunite")
    if program is None:
        log.warning("pdfunite (poppler-utils) not found: joining %d chunks in memory; "
                    "install it with `apt-get install poppler-utils`", len(chunks))
        _join_in_memory(chunks, out)
        return
    argv = [program, *map(str, chunks), str(out)]
    log.debug("pdfunite argv: %s", argv)
    try:
        subprocess.run(argv, check=True, capture_output=True, timeout=JOIN_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        raise StorageError(f"could not join the searchable PDF {out.name}: "
                           f"{stderr.decode(errors='replace').strip()[:200] or exc}") from exc


def _join_in_memory(chunks: Sequence[Path], out: Path) -> None:
    import pikepdf

    with ExitStack() as stack:
        result = stack.enter_context(pikepdf.new())
        for chunk in chunks:
            result.pages.extend(stack.enter_context(pikepdf.open(chunk)).pages)
        result.save(out)
