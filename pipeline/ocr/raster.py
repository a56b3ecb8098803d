"""Opening inputs and turning one page at a time into a grayscale image.

A scanner's PDF page (one full-page image, nothing else) is decoded straight from its image
stream; any other PDF page is rendered with pypdfium2 (about twice as fast per page as
pdf2image/pdftoppm here, see docs/benchmarks/ocr.md). TIFF/PNG/JPEG pages are decoded with Pillow,
one frame at a time.
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

from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import CorruptFileError, EncryptedFileError, LimitExceededError
from pipeline.records import Word

if TYPE_CHECKING:  # imported where a PDF is read: an image file needs neither (0.1 s of start-up)
    import pikepdf
    import pypdfium2 as pdfium

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
    #: every character is invisible (render mode 3 or 7): an OCR layer a scanner or another
    #: program laid over a page image, not text the document was written in
    hidden: bool = False


def page_count(source: Path, name: str, media_type: str) -> int:
    """Pages in the input; raises CorruptFileError / EncryptedFileError."""
    if media_type == PDF:
        return len(_open_pdf(source, name, 0))
    with _open_image(source, name) as image:
        return getattr(image, "n_frames", 1)


def render_page(source: Path, name: str, media_type: str, index: int, dpi: int,
                max_pixels: int) -> Image.Image:
    """Page `index` (0-based) as an 8-bit grayscale image, checked against `max_pixels`.

    A PDF page comes at `dpi`; an image file's page in its own pixels, with `info["dpi"]` only
    when its header states a resolution (which may still be wrong: see `resolution`)."""
    if media_type == PDF:
        import pypdfium2 as pdfium

        scan = _scanned_image(source, name, index, dpi, max_pixels)
        if scan is not None:
            return scan
        page = _open_pdf(source, name, index)[index]
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
        header = _image_dpi(image)
        if header is None:
            return page  # no resolution (or a nonsensical one): the OCR worker estimates it
        x_dpi, y_dpi = header
        if abs(x_dpi - y_dpi) > 1:
            # fax "normal" mode: 204 x 98 dpi; stretch to square pixels so letters keep their shape
            height = round(page.height * x_dpi / y_dpi)
            _check_pixels(name, index, page.width, height, max_pixels)
            page = page.resize((page.width, height), Image.Resampling.BILINEAR)
            page.info["resampled"] = True
        page.info["dpi"] = (x_dpi, x_dpi)
        return page


def _scanned_image(source: Path, name: str, index: int, dpi: int,
                   max_pixels: int) -> Image.Image | None:
    """The page's scan decoded straight from the PDF, when the page is nothing but that image.

    A scanner's PDF page draws one full-page image (`q W 0 0 H x y cm /Im0 Do Q`); decoding it
    with Pillow skips pdfium's render and resampling (3x faster here, docs/benchmarks/ocr.md) and
    reads the scan's own pixels. Any other page, or anything unexpected, gives None: render it.
    """
    import pikepdf
    import pikepdf.models.image as pikepdf_image

    try:
        page = _open_pikepdf(source, index).pages[index]
        if page.obj.get("/CropBox") is not None and list(page.cropbox) != list(page.mediabox):
            return None
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        operations = pikepdf.parse_content_stream(page)
        names = [str(op.operator) for op in operations]
        if sorted(names) != ["Do", "Q", "cm", "q"]:
            return None
        a, b, c, d, e, f = (float(v) for v in operations[names.index("cm")].operands)
        if b or c or abs(a - (x1 - x0)) > 1 or abs(d - (y1 - y0)) > 1 \
                or abs(e - x0) > 1 or abs(f - y0) > 1:
            return None
        xobject = page.Resources.XObject[operations[names.index("Do")].operands[0]]
        if xobject.get("/Subtype") != pikepdf.Name.Image or any(
                key in xobject for key in ("/SMask", "/Mask", "/ImageMask", "/Decode")):
            return None
        width, height = int(xobject.Width), int(xobject.Height)
        _check_pixels(name, index, width, height, max_pixels)
        pdf_image = pikepdf.PdfImage(xobject)
        if pdf_image.mode not in ("1", "L", "RGB"):
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = pdf_image.as_pil_image()
            image.load()
    except LimitExceededError:
        raise
    except (pikepdf.PdfError, OSError, ValueError, KeyError, AttributeError, TypeError,
            IndexError, Image.DecompressionBombError, pikepdf_image.UnsupportedImageTypeError,
            pikepdf_image.NotExtractableError) as exc:
        log.debug("page %d: no direct image decode (%s); rendering it", index + 1, exc)
        return None
    native_x, native_y = width * 72 / (x1 - x0), height * 72 / (y1 - y0)
    if not (50 <= native_x <= 2400 and 50 <= native_y <= 2400):
        return None
    gray = image.convert("L") if image.mode != "L" else image
    target = (round((x1 - x0) * dpi / 72), round((y1 - y0) * dpi / 72))
    resampled = False
    if abs(native_x - dpi) > dpi * 0.05 or abs(native_y - dpi) > dpi * 0.05:
        _check_pixels(name, index, target[0], target[1], max_pixels)
        gray = gray.resize(target, Image.Resampling.BILINEAR)
        resampled = True
    rotate = int(page.obj.get("/Rotate", 0)) % 360
    if rotate in (90, 180, 270):
        gray = gray.transpose({90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                               270: Image.Transpose.ROTATE_90}[rotate])
    elif rotate:
        return None
    gray.info["dpi"] = (dpi, dpi)
    if resampled:
        gray.info["resampled"] = True  # read in grey (worker)
    return gray


def page_box(source: Path, name: str, index: int) -> tuple[tuple[float, float, float, float], int]:
    """The PDF page's visible box (x0, y0, x1, y1 in points) and its /Rotate (clockwise degrees)."""
    page = _open_pdf(source, name, index)[index]
    try:
        x0, y0, x1, y1 = (float(v) for v in page.get_cropbox())
        return (x0, y0, x1, y1), page.get_rotation() % 360
    finally:
        page.close()


def text_layer(source: Path, name: str, index: int, dpi: int) -> TextLayer | None:
    """The page's own text, or None when it has too little real text.

    `hidden` tells a born-digital page (text drawn as text) from a scanned page carrying an
    invisible OCR layer that someone else made."""
    import pypdfium2.raw as pdfium_c

    hidden_modes = {pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE, pdfium_c.FPDF_TEXTRENDERMODE_CLIP}
    page = _open_pdf(source, name, index)[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            if sum(ch.isalnum() for ch in text) < MIN_TEXT_LAYER_CHARS:
                return None
            width, height = page.get_size()
            words = _words(textpage, height, dpi / 72.0)
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            modes = {pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw)
                     for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT])}
            return TextLayer(text=text.strip(), words=words,
                             width=round(width * dpi / 72.0), height=round(height * dpi / 72.0),
                             hidden=bool(modes) and modes <= hidden_modes)
        finally:
            textpage.close()
    finally:
        page.close()


def close_cached() -> None:
    """Forget the cached open PDFs (the worker keeps the last one open between pages)."""
    global _cached, _cached_pike
    if _cached is not None:
        _cached[1].close()
        _cached = None
    if _cached_pike is not None:
        _cached_pike[1].close()
        _cached_pike = None


# ------------------------------------------------------------------------------------ internals

#: pages of one PDF a worker reads before it reopens the file (bounds the parsers' caches)
REOPEN_EVERY = 25

_cached: tuple[tuple[str, int, int, int], pdfium.PdfDocument] | None = None
_cached_pike: tuple[tuple[str, int, int, int], pikepdf.Pdf] | None = None


def _open_pikepdf(source: Path, index: int) -> pikepdf.Pdf:
    global _cached_pike
    import pikepdf

    stat = source.stat()
    key = (str(source), stat.st_size, stat.st_mtime_ns, index // REOPEN_EVERY)
    if _cached_pike is not None and _cached_pike[0] == key:
        return _cached_pike[1]
    if _cached_pike is not None:
        _cached_pike[1].close()
        _cached_pike = None
    document = pikepdf.open(source)
    _cached_pike = (key, document)
    return document


def _open_pdf(source: Path, name: str, index: int) -> pdfium.PdfDocument:
    """The open PDF, kept between pages of the same file in this worker process.

    Reopened every `REOPEN_EVERY` pages: pdfium caches each page's resources in the document
    (+0.55 MB a page measured on 300-dpi scans), which would grow a worker with the page count.
    """
    global _cached
    import pypdfium2 as pdfium

    try:
        stat = source.stat()
    except OSError as exc:
        raise CorruptFileError(f"{name}: cannot be read ({exc.strerror}); check the file") from exc
    key = (str(source), stat.st_size, stat.st_mtime_ns, index // REOPEN_EVERY)
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


def _image_dpi(image: Image.Image) -> tuple[int, int] | None:
    """The resolution the image's header states, or None when it states none we can use.

    Whether it is true is for `resolution.page_resolution` to judge, on the square-pixel page."""
    dpi = image.info.get("dpi")
    try:
        x, y = (round(float(v)) for v in dpi)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if not (50 <= x <= 2400 and 50 <= y <= 2400):
        return None
    return (x, y)


def _words(textpage: pdfium.PdfTextPage, page_height: float, scale: float) -> tuple[Word, ...]:
    """Words with pixel boxes from pdfium's per-character boxes; a new line when y jumps."""
    import pypdfium2.raw as pdfium_c

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
