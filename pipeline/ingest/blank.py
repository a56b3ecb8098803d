"""Blank pages: the empty back of a simplex sheet scanned duplex, told from a page with a mark.

    ink_share(image) -> float      is_blank(image, max_ink) -> bool

The measure: the page at about 100 dpi, a 0.3 in border cut off (scanner edges, lid shadow), ink
= pixels darker than half the paper's grey (so bleed-through from the other side and grey noise
do not count), then only ink in connected marks of at least `MIN_MARK_IN2` square inches
(dust, toner specks and salt-and-pepper noise are smaller). `ink_share` is that ink over the
inner area. A page number, a stamp or a signature is a mark: such a page is kept.

`benchmarks/ingest_split.py` measures the rule on generated pages (blank with scanner noise,
near-blank with a page number or a stamp, text pages) and `docs/benchmarks.md` gives the
confusion matrix the default threshold (`settings.DEFAULT_BLANK_MAX_INK`) was set from.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from pipeline.ingest.pageimage import WORK_DPI, grey_level, working_grey

BORDER_IN = 0.3
MIN_MARK_IN2 = 0.0006  # about a 0.025 in square: larger than a speck, smaller than a printed digit
INK_LEVEL = 0.7  # darker than this share of the paper's grey is ink (faded toner stays in, bleed-through out)


def ink_share(image: Image.Image) -> float:
    """The share of the page's inner area covered by marks (0 for a clean blank page)."""
    grey, dpi = working_grey(image, WORK_DPI)
    return ink_share_in(np.asarray(grey), dpi)


def ink_share_in(pixels: np.ndarray, dpi: float) -> float:
    """`ink_share` on 8-bit grey pixels at `dpi` (about WORK_DPI; see pageimage.working_grey)."""
    border = round(BORDER_IN * dpi)
    inner = pixels[border : pixels.shape[0] - border, border : pixels.shape[1] - border]
    if inner.size == 0:
        return 0.0
    ink = inner < grey_level(inner, 75) * INK_LEVEL
    if not ink.any():
        return 0.0
    labels, count = ndimage.label(ink)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    return float(sizes[sizes >= MIN_MARK_IN2 * dpi * dpi].sum()) / inner.size


def is_blank(image: Image.Image, max_ink: float) -> bool:
    return ink_share(image) <= max_ink
