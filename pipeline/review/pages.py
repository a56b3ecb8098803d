"""Page images of a queued document, rendered on the server for the reviewer's browser.

The clerk must see the paper itself. The searchable PDF (or, when there is none, the original scan)
comes from the object store, hash-verified, and one page at a time is turned into a PNG: PDF pages
with pypdfium2, TIFF/PNG/JPEG frames with Pillow. Every browser shows a PNG; no PDF viewer needed.
`highlights.py` finds, in the same PDF, where on these images each identifier was read.

pdfium is not thread-safe and the web app answers requests from a thread pool, so rendering holds
one lock (the OCR stage renders in its own single-threaded worker processes, `ocr/raster.py`).
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pypdfium2 as pdfium
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from pipeline.errors import CorruptFileError, NotFoundError
from pipeline.review.page_cache import PageCache
from pipeline.store.objects import ObjectStore
from pipeline.store.rows import StoredDocument

#: dots per inch of a page image: a letter page comes out about 1000 x 1300 pixels
VIEW_DPI = 120
#: pixels of the page image per PDF point
VIEW_SCALE = VIEW_DPI / 72.0
#: an image input is scaled down to this width at most
MAX_VIEW_WIDTH = 1400
PDF = "application/pdf"

_PDFIUM = threading.Lock()
#: page images already rendered, by stored object and page (page_cache.py)
CACHE = PageCache()


def page_png(store: ObjectStore, doc: StoredDocument, number: int) -> bytes:
    """Page `number` (1-based) of the document as PNG bytes (rendered once, then from `CACHE`)."""
    if number < 1 or number > max(doc.pages, 1):
        raise NotFoundError(f"document {doc.document_id} has {doc.pages} pages, not page {number}")
    shown = (doc.searchable_key, doc.searchable_sha256) if doc.searchable_key else (doc.original_key, doc.sha256)
    return CACHE.get(f"{shown[0]}#{shown[1]}", number, lambda: _render(store, doc, number))


def _render(store: ObjectStore, doc: StoredDocument, number: int) -> bytes:
    data = shown_pdf(store, doc)
    if data is not None:
        return _pdf_page(data, doc.document_id, number - 1)
    return _image_page(store.get(doc.original_key), doc.document_id, doc.media_type, number - 1)


def shown_pdf(store: ObjectStore, doc: StoredDocument) -> bytes | None:
    """The PDF whose pages are shown (the searchable copy, else an original PDF); None for an image."""
    if doc.searchable_key:
        return store.get(doc.searchable_key)
    if doc.media_type == PDF:
        return store.get(doc.original_key)
    return None


@contextmanager
def open_pdf(data: bytes, document_id: str) -> Iterator[pdfium.PdfDocument]:
    """The PDF opened by pdfium, holding the rendering lock until the block ends."""
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise CorruptFileError(f"document {document_id}: the stored PDF cannot be opened ({exc})",
                                   hint="run `pipeline audit` to check the store") from exc
        try:
            yield pdf
        finally:
            pdf.close()


def image_size(page: pdfium.PdfPage) -> tuple[int, int]:
    """Width and height in pixels of the page image `_pdf_page` renders (pypdfium2 rounds up)."""
    width, height = page.get_size()  # as shown: the page's /Rotate and crop box applied
    return math.ceil(width * VIEW_SCALE), math.ceil(height * VIEW_SCALE)


def _pdf_page(data: bytes, document_id: str, index: int) -> bytes:
    with open_pdf(data, document_id) as pdf:
        if index >= len(pdf):
            raise NotFoundError(f"document {document_id} has {len(pdf)} pages, not page {index + 1}")
        page = pdf[index]
        try:
            image = page.render(scale=VIEW_SCALE).to_pil()
        finally:
            page.close()
    return _png(image)


def _image_page(data: bytes, document_id: str, media_type: str, index: int) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(index)
            upright = ImageOps.exif_transpose(image) if media_type == "image/jpeg" else image
            page = upright.convert("L" if upright.mode in ("1", "L", "I;16") else "RGB")
    except EOFError as exc:
        raise NotFoundError(f"document {document_id} has no page {index + 1}") from exc
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise CorruptFileError(f"document {document_id}: the stored scan cannot be decoded ({exc})",
                               hint="run `pipeline audit` to check the store") from exc
    if page.width > MAX_VIEW_WIDTH:
        page = page.resize((MAX_VIEW_WIDTH, round(page.height * MAX_VIEW_WIDTH / page.width)),
                           Image.Resampling.LANCZOS)
    return _png(page)


def _png(image: Image.Image) -> bytes:
    if image.mode == "RGB" and _no_colour(image):
        image = image.convert("L")  # a third smaller, and most scans are grey
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def _no_colour(image: Image.Image) -> bool:
    red, green, blue = image.split()
    return ImageChops.difference(red, green).getbbox() is None and ImageChops.difference(green, blue).getbbox() is None
