"""Opening inputs and turning one page at a time into a grayscale image.

PDF pages are rendered with pypdfium2 (about twice as fast per page as pdf2image/pdftoppm here,
see docs/benchmarks/ocr.md); TIFF/PNG/JPEG pages are decoded with Pillow, one frame at a time.
Only one page image exists at once, so memory does not grow with the page count.

pdfium is not thread-safe, so this module is used only inside the OCR worker processes (each
single-threaded). It also reads a born-digital PDF page's own text layer, with word boxes.

Every failure to read an input becomes an `InputError` naming the file and what to do.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import CorruptFileError, EncryptedFileError, LimitExceededError
from pipeline.records import Word

log = logging.getLogger(__name__)

PDF = "application/pdf"
TIFF = "image/tiff"
IMAGE_TYPES = frozenset({TIFF, "image/png", "image/jpeg"})
MEDIA_TYPES = frozenset({PDF} | IMAGE_TYPES)

#: A PDF page counts as born-digital when its text layer holds at least this many letters/digits.
MIN_TEXT_LAYER_CHARS = 20

_PDFIUM_PASSWORD_ERROR = 4


@dataclass(frozen=True, slots=True)
class TextLayer:
    text: str
    words: tuple[Word, ...]  # boxes in pixels at the requested dpi, top-left origin
    width: int
    height: int


def page_count(source: Path, name: str, media_type: str) -> int:
    """Pages in the input; raises CorruptFileError / EncryptedFileError."""
    if media_type == PDF:
        return len(_open_pdf(source, name))
    with _open_image(source, name) as image:
        return getattr(image, "n_frames", 1)


def render_page(source: Path, name: str, media_type: str, index: int, dpi: int,
                max_pixels: int) -> Image.Image:
    """Page `index` (0-based) as an 8-bit grayscale image, checked against `max_pixels`."""
    if media_type == PDF:
        page = _open_pdf(source, name)[index]
        try:
            width, height = page.get_size()
            scale = dpi / 72.0
            _check_pixels(name, index, round(width * scale), round(height * scale), max_pixels)
            try:
                bitmap = page.render(scale=scale, grayscale=True)
            except pdfium.PdfiumError as exc:
                raise CorruptFileError(
                    f"{name}: page {index + 1} cannot be rendered ({exc}); "
                    "re-export or rescan the document"
                ) from exc
            image = bitmap.to_pil()
            image.info["dpi"] = (dpi, dpi)
            return image
        finally:
            page.close()
    with _open_image(source, name) as image:
        try:
            image.seek(index)
        except EOFError as exc:
            raise CorruptFileError(f"{name}: page {index + 1} is missing; rescan the document") from exc
        _check_pixels(name, index, image.width, image.height, max_pixels)
        try:
            # a phone photo says in EXIF which way up it was taken; apply that first
            upright = ImageOps.exif_transpose(image) if media_type == "image/jpeg" else image
            page = upright.convert("L") if upright.mode != "L" else upright.copy()
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptFileError(
                f"{name}: page {index + 1} is damaged or truncated ({exc}); rescan the document"
            ) from exc
        x_dpi, y_dpi = _image_dpi(image, dpi)
        if abs(x_dpi - y_dpi) > 1:
            # fax "normal" mode: 204 x 98 dpi; stretch to square pixels so letters keep their shape
            height = round(page.height * x_dpi / y_dpi)
            _check_pixels(name, index, page.width, height, max_pixels)
            page = page.resize((page.width, height), Image.Resampling.BILINEAR)
        page.info["dpi"] = (x_dpi, x_dpi)
        return page


def text_layer(source: Path, name: str, index: int, dpi: int) -> TextLayer | None:
    """The page's own text (born-digital PDF), or None when it has too little real text."""
    page = _open_pdf(source, name)[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            if sum(ch.isalnum() for ch in text) < MIN_TEXT_LAYER_CHARS:
                return None
            width, height = page.get_size()
            words = _words(textpage, height, dpi / 72.0)
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            return TextLayer(text=text.strip(), words=words,
                             width=round(width * dpi / 72.0), height=round(height * dpi / 72.0))
        finally:
            textpage.close()
    finally:
        page.close()


def close_cached() -> None:
    """Forget the cached open PDF (tests; the worker keeps one open between pages)."""
    global _cached
    if _cached is not None:
        _cached[1].close()
        _cached = None


# ------------------------------------------------------------------------------------ internals

_cached: tuple[tuple[str, int, int], pdfium.PdfDocument] | None = None


def _open_pdf(source: Path, name: str) -> pdfium.PdfDocument:
    """The open PDF, kept between pages of the same file in this worker process."""
    global _cached
    try:
        stat = source.stat()
    except OSError as exc:
        raise CorruptFileError(f"{name}: cannot be read ({exc.strerror}); check the file") from exc
    key = (str(source), stat.st_size, stat.st_mtime_ns)
    if _cached is not None and _cached[0] == key:
        return _cached[1]
    close_cached()
    try:
        document = pdfium.PdfDocument(str(source))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
            raise EncryptedFileError(
                f"{name}: the PDF is encrypted; remove the password and drop it in again"
            ) from exc
        raise CorruptFileError(
            f"{name}: the PDF is damaged or truncated and cannot be opened; "
            "re-export or rescan it and drop it in again"
        ) from exc
    _cached = (key, document)
    return document


def _open_image(source: Path, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # between 1x and 2x the limit Pillow only warns; _check_pixels rejects those pages
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(source)
    except Image.DecompressionBombError as exc:
        raise LimitExceededError(
            f"{name}: the image is too large to decode safely (over twice the limit of "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels, PIPELINE_OCR_MAX_PIXELS); rescan it at a lower "
            "resolution"
        ) from exc
    except UnidentifiedImageError as exc:
        raise CorruptFileError(
            f"{name}: not a readable image (damaged or not really an image); rescan it"
        ) from exc
    except OSError as exc:
        raise CorruptFileError(f"{name}: cannot be read ({exc}); check the file") from exc


def _check_pixels(name: str, index: int, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise LimitExceededError(
            f"{name}: page {index + 1} is {width} x {height} = {width * height:,} pixels, over the "
            f"limit of {max_pixels:,} (PIPELINE_OCR_MAX_PIXELS); rescan it at a lower resolution "
            "or raise the limit"
        )


def _image_dpi(image: Image.Image, default: int) -> tuple[int, int]:
    dpi = image.info.get("dpi")
    try:
        x, y = (round(float(v)) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return (default, default)
    if not (50 <= x <= 2400 and 50 <= y <= 2400):
        return (default, default)
    return (x, y)


def _words(textpage: pdfium.PdfTextPage, page_height: float, scale: float) -> tuple[Word, ...]:
    """Words with pixel boxes from pdfium's per-character boxes; a new line when y jumps."""
    words: list[Word] = []
    line = 0
    last_top: float | None = None
    chars: list[str] = []
    box: list[float] = []

    def flush() -> None:
        if chars:
            left, bottom, right, top = box
            pixel_box = (round(left * scale), round((page_height - top) * scale),
                         round((right - left) * scale), round((top - bottom) * scale))
            words.append(Word(text="".join(chars), confidence=100.0, box=pixel_box, line=line))
            chars.clear()

    for i in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        char = chr(code) if code else ""
        if not char or char.isspace():
            flush()
            if char in ("\n", "\r"):
                last_top = None
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        if last_top is None or abs(top - last_top) > (top - bottom) * 0.6 + 0.5:
            flush()
            line += 1
            last_top = top
        if not chars:
            box = [left, bottom, right, top]
        else:
            box = [min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top)]
        chars.append(char)
    flush()
    return tuple(words)
