"""Barcodes on a page image (cover sheets, patient labels, separator sheets): the only zxingcpp user.

QR codes, Code 128 and Data Matrix are read from the page image while it is in the OCR worker, in
any of the four orientations. A page of 250 dpi or more is read at half resolution: a quarter of
the pixels, a quarter of the time (0.037 -> 0.008 s a page measured), and the symbols on medical
paperwork keep their modules at 1 px or more (Code 128 printed with 2-px bars at 300 dpi reads;
tests/ocr/test_barcodes.py).
"""

from __future__ import annotations

import logging

import zxingcpp
from PIL import Image

from pipeline.records import Barcode

log = logging.getLogger(__name__)

#: pages at this resolution or finer are read at half resolution
HALF_RESOLUTION_FROM_DPI = 250

FORMATS = (
    zxingcpp.BarcodeFormat.QRCode,
    zxingcpp.BarcodeFormat.Code128,
    zxingcpp.BarcodeFormat.DataMatrix,
)


def version() -> str:
    return getattr(zxingcpp, "__version__", "") or _distribution_version()


def read_barcodes(image: Image.Image, page: int) -> tuple[Barcode, ...]:
    """Every QR / Code 128 / Data Matrix symbol on the page, with its bounding box in pixels."""
    found: list[Barcode] = []
    scale = 2 if _dpi(image) >= HALF_RESOLUTION_FROM_DPI else 1
    small = image.reduce(scale) if scale > 1 else image
    # try_invert off: printed codes are dark on light paper (saves a sixth of the time)
    for symbol in zxingcpp.read_barcodes(small, formats=FORMATS, try_rotate=True, try_invert=False):
        if not symbol.valid:
            continue
        found.append(Barcode(page=page, format=_format_name(symbol.format), text=symbol.text,
                             box=_box(symbol.position, scale)))
    log.debug("page %d: %d barcode(s)", page, len(found))
    return tuple(found)


def _format_name(fmt: object) -> str:
    name = getattr(fmt, "name", None) or str(fmt)
    return name.rsplit(".", 1)[-1]


def _dpi(image: Image.Image) -> float:
    try:
        return float(image.info.get("dpi", (0, 0))[0])
    except (TypeError, ValueError, IndexError):
        return 0.0


def _box(position: object, scale: int = 1) -> tuple[int, int, int, int] | None:
    corners = [getattr(position, c, None) for c in
               ("top_left", "top_right", "bottom_right", "bottom_left")]
    if any(c is None for c in corners):
        return None
    xs = [c.x for c in corners]  # type: ignore[union-attr]
    ys = [c.y for c in corners]  # type: ignore[union-attr]
    return (min(xs) * scale, min(ys) * scale, (max(xs) - min(xs)) * scale,
            (max(ys) - min(ys)) * scale)


def _distribution_version() -> str:
    from importlib.metadata import PackageNotFoundError, version as dist_version

    try:
        return dist_version("zxing-cpp")
    except PackageNotFoundError:
        return ""
