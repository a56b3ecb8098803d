"""How many pixels an inch a page image really has, and how much to enlarge it before OCR.

An image file's header may carry no resolution (faxes turned into PNG, exports from other
software), or a wrong one (72 dpi, a screen's, on a 300-dpi page; a phone photo's). Tesseract told
the wrong resolution drops small text as noise: on a 100-dpi form told `--dpi 300` it read 79 words
of 197 (docs/benchmarks/ocr.md). So the header's resolution is used only when it is plausible:

- the page it implies is between `MIN_PAGE_INCHES` and `MAX_PAGE_INCHES` on its long side (a
  receipt or an ID card up to a ledger sheet), and
- if that page is smaller than a sheet (`SHEET_INCHES`: a card, or a 100-dpi page tagged 300), the
  print it implies is of ordinary size: the median height of the page's characters, read as
  `CHAR_HEIGHT_INCHES`, gives a resolution within `HEADER_AGREES` of the header's. (A sheet-sized
  page is believed without measuring: that keeps scipy out of the common case, 0.2 s or more.)

Otherwise the page's resolution is estimated from its characters' height (as Tesseract does from
the x-height), or, on a page with too few characters to measure, from its size as a letter page.

Pages below `READ_DPI` are enlarged to it before OCR (bicubic): on real ~90-dpi form scans that
cuts the words Tesseract gets wrong by 40% (docs/benchmarks/ocr.md, "Resolution").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from pipeline.ocr import preprocess

#: Long side of a page, in inches, that a header's resolution may imply: an ID card or a receipt
#: (2-3.5 in) up to a ledger sheet (17 in).
MIN_PAGE_INCHES = 2.0
MAX_PAGE_INCHES = 17.0
#: A header implying a page at least this long (a half-letter sheet and up) is believed as it is.
SHEET_INCHES = 8.0
#: Long side assumed for a page whose characters cannot be measured: US letter.
PAGE_LONG_SIDE_INCHES = 11.0
#: Median height of a connected blob of ink in print (letters with and without ascenders, digits).
#: Measured: generated clinical pages 0.093 in; real form scans (FUNSD) 0.066-0.099, median 0.083.
CHAR_HEIGHT_INCHES = 0.085
#: The header's resolution stands when the characters' estimate is within these factors of it.
HEADER_AGREES = (0.4, 2.5)
#: Blobs counted as characters: at least this many ...
MIN_CHARACTERS = 40
#: ... of at least this height in pixels on the analysis copy (smaller ones are specks).
MIN_CHAR_PIXELS = 4
#: The analysis copy is reduced by a whole factor to at most this many pixels on its long side.
ANALYSIS_SIDE = 1400
#: Estimates are clamped to this range (pixels an inch).
DPI_RANGE = (50, 1200)
#: Pages of lower resolution are enlarged to this before OCR. Words wrong (missed + extra) on the
#: tuning half of the real form scans (~90 dpi): as scanned 49.7%, enlarged to 150 dpi 30.5%,
#: 200 dpi 30.1%, 250 dpi 32.0%; on clean generated 100-dpi pages, which Tesseract reads well as
#: they are (4.3%), 150 dpi costs least: 4.7% against 6.6% at 200 (docs/benchmarks/ocr.md).
READ_DPI = 150
#: Never enlarge more than this (a 50-dpi thumbnail is not made readable by 4x).
MAX_ENLARGE = 4.0


@dataclass(frozen=True, slots=True)
class Resolution:
    dpi: int  # the page's own pixels per inch, as best known
    source: str  # "header", "characters" or "page size"


def page_resolution(grey: Image.Image, header: float | None) -> Resolution:
    """The page's true resolution: the header's when plausible (see the module doc), else estimated."""
    page_sized = header is not None and DPI_RANGE[0] <= header <= 2 * DPI_RANGE[1] and \
        MIN_PAGE_INCHES <= max(grey.size) / header <= MAX_PAGE_INCHES
    if page_sized and max(grey.size) / header >= SHEET_INCHES:
        return Resolution(round(header), "header")
    height = character_height(grey)
    by_characters = None if height is None else _clamp(height / CHAR_HEIGHT_INCHES)
    if page_sized and (by_characters is None
                       or HEADER_AGREES[0] <= by_characters / header <= HEADER_AGREES[1]):
        return Resolution(round(header), "header")
    if by_characters is not None:
        return Resolution(by_characters, "characters")
    return Resolution(_clamp(max(grey.size) / PAGE_LONG_SIDE_INCHES), "page size")


def enlargement(dpi: int, size: tuple[int, int], max_pixels: int) -> float:
    """The factor to enlarge a page of `dpi` by before OCR (1.0: read it as it is)."""
    if dpi >= READ_DPI:
        return 1.0
    factor = min(READ_DPI / dpi, MAX_ENLARGE)
    area = size[0] * size[1]
    if area * factor * factor > max_pixels:
        factor = (max_pixels / max(area, 1)) ** 0.5
    return factor if factor > 1.05 else 1.0


def enlarge(image: Image.Image, factor: float) -> Image.Image:
    """The page `factor` times larger (bicubic: a little better than Lanczos on real scans)."""
    if factor == 1.0:
        return image
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BICUBIC)


def character_height(grey: Image.Image) -> float | None:
    """Median height in pixels of the page's blobs of ink that have a character's shape, or None
    when the page has too few (blank, a photo, a drawing)."""
    from scipy import ndimage  # here: importing it costs 0.2 s or more, and most pages never ask

    factor = max(1, max(grey.size) // ANALYSIS_SIDE)
    small = grey.reduce(factor) if factor > 1 else grey
    threshold, separability = preprocess.otsu(small)
    if separability <= 0:
        return None
    labels, _ = ndimage.label(np.asarray(small) <= threshold)
    heights = [
        s[0].stop - s[0].start for s in ndimage.find_objects(labels)
        if MIN_CHAR_PIXELS <= s[0].stop - s[0].start <= small.height / 15
        and s[1].stop - s[1].start <= 3 * (s[0].stop - s[0].start)
    ]
    if len(heights) < MIN_CHARACTERS:
        return None
    return float(np.median(heights)) * factor


def _clamp(dpi: float) -> int:
    return round(min(max(dpi, DPI_RANGE[0]), DPI_RANGE[1]))
