"""A page image at a working resolution, for the measures that split batches (patch codes, blanks)."""

from __future__ import annotations

import numpy as np
from PIL import Image

LETTER_LONG_SIDE_IN = 11.0
WORK_DPI = 100  # patch codes and blank pages are measured at about this resolution


def page_dpi(image: Image.Image) -> float:
    """The image's resolution; without one recorded, that of a letter page of its size."""
    try:
        dpi = float(image.info.get("dpi", (0, 0))[0])
    except (TypeError, ValueError, IndexError):
        dpi = 0.0
    return dpi if dpi >= 50 else max(image.size) / LETTER_LONG_SIDE_IN


def working_grey(image: Image.Image, work_dpi: int) -> tuple[Image.Image, float]:
    """The page in grey, reduced by a whole factor to about `work_dpi`, and its new resolution."""
    dpi = page_dpi(image)
    grey = image.convert("L")
    factor = max(1, round(dpi / work_dpi))
    if factor > 1:
        grey = grey.reduce(factor)
        dpi /= factor
    return grey, dpi


def grey_level(pixels: np.ndarray, percent: float) -> float:
    """The grey level below which `percent` % of the 8-bit pixels lie (a histogram, not a sort)."""
    counts = np.bincount(pixels.ravel(), minlength=256)
    return float(np.searchsorted(np.cumsum(counts), pixels.size * percent / 100.0))
