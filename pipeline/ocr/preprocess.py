"""Page image preparation before Tesseract: skew estimation, straightening and turning.

Skew is estimated by the projection-profile method on a downscaled, thresholded copy: for each
candidate angle the dark pixels are sheared onto rows, and the angle whose row histogram is the
most sharply peaked (text lines aligned with rows) wins. Shearing point coordinates with numpy
costs about a millisecond per angle, so a coarse-then-fine search stays well under 0.1 s a page.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

#: Largest skew we look for and correct, in degrees (bigger tilts are not small skews).
MAX_SKEW = 8.0
#: Below this the page is left alone: Tesseract copes with small tilts itself, and resampling
#: costs time and a little sharpness. Words missed, plain -> straightened (docs/benchmarks/ocr.md):
#: clean pages 2°: 2.14 -> 1.62%, 3°: 2.35 -> 1.73%; blurred and faded pages 1.5°: 4.10 -> 4.13%,
#: 2.5°: 4.46 -> 5.21% (worse), 4°: 6.76 -> 3.92%; any page at 6° is unreadable unstraightened.
MIN_CORRECTION = 1.5
#: ... and for a page too blurred or faded to read in one bit (`binarize` gives None).
MIN_CORRECTION_GREY = 3.0
#: Width of the analysis copy in pixels (at least; reduced by a whole factor).
_ANALYSIS_WIDTH = 800


def estimate_skew(image: Image.Image) -> float:
    """The correction for the page's tilt: degrees to rotate counter-clockwise to straighten it.

    A page scanned 3 degrees counter-clockwise gives -3.0; a straight page gives about 0.
    """
    small = image.convert("L") if image.mode != "L" else image
    factor = small.width // _ANALYSIS_WIDTH
    if factor > 1:  # box averaging by a whole factor: a sixth of the time of a bilinear resize
        small = small.reduce(factor)
    pixels = np.asarray(small, dtype=np.uint8)
    threshold = min(128, int(pixels.mean()) - 30)
    ys, xs = np.nonzero(pixels < threshold)
    if len(xs) < 200:
        return 0.0
    if len(xs) > 60_000:  # a subsample keeps the histogram shape and the cost bounded
        step = len(xs) // 60_000 + 1
        ys, xs = ys[::step], xs[::step]
    xs = xs.astype(np.float64) - pixels.shape[1] / 2
    ys = ys.astype(np.float64)

    def score(angle: float) -> float:
        rows = ys + xs * math.tan(math.radians(angle))
        counts = np.bincount(np.round(rows - rows.min()).astype(np.int64))
        return float(np.dot(counts, counts))

    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5)
    best = max(coarse, key=score)
    fine = np.arange(best - 0.5, best + 0.51, 0.05)
    best = max(fine, key=score)
    # rows = y + x*tan(a) flattens lines that rise to the right in image coordinates when a > 0,
    # i.e. text tilted counter-clockwise; rotating by -a (PIL: counter-clockwise positive) fixes it.
    return round(-float(best), 2)


def straighten(image: Image.Image, angle: float) -> Image.Image:
    """Rotate by `angle` degrees counter-clockwise about the centre, filling with the paper colour.

    Nearest-neighbour on purpose: on blurred, faded scans bicubic or bilinear smoothing lost
    Tesseract up to 9 points of character error rate, nearest lost none (docs/benchmarks/ocr.md);
    it is also the fastest. The corners are filled with the page's commonest grey, not white,
    so that they do not look like content to the binarizer.
    """
    histogram = image.convert("L").histogram() if image.mode != "L" else image.histogram()
    paper = max(range(256), key=histogram.__getitem__)
    return image.rotate(angle, resample=Image.Resampling.NEAREST, expand=True, fillcolor=paper)


def turn(image: Image.Image, clockwise: int) -> Image.Image:
    """Turn by a multiple of 90 degrees clockwise, losslessly."""
    ops = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
           270: Image.Transpose.ROTATE_90}
    clockwise %= 360
    if clockwise == 0:
        return image
    turned = image.transpose(ops[clockwise])
    turned.info.update(image.info)
    return turned


#: Otsu's separability (between-class variance / total variance) a page needs before it is handed
#: to Tesseract as black and white. Clean, noisy, faded, fax and office scans measure 0.85-1.0 and
#: read as well or better in 1 bit, and Tesseract needs about 28% less time on them; blurred and
#: faded-together pages measure 0.62-0.68 and read better in grey (docs/benchmarks/ocr.md).
MIN_SEPARABILITY = 0.80


def otsu(grey: Image.Image) -> tuple[int, float]:
    """Otsu's threshold of a greyscale page and its separability (between-class variance over
    total variance, 0..1): how far apart ink and paper are. A blank page gives (0, 0.0)."""
    histogram = np.asarray(grey.histogram(), dtype=np.float64)
    total = histogram.sum()
    if total == 0:
        return 0, 0.0
    share = histogram / total
    levels = np.arange(256, dtype=np.float64)
    below = np.cumsum(share)  # weight of the dark class at each threshold
    below_mean = np.cumsum(share * levels)
    mean = below_mean[-1]
    variance = float(np.dot(share, (levels - mean) ** 2))
    if variance <= 0:
        return 0, 0.0  # nothing to separate
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean * below - below_mean) ** 2 / (below * (1.0 - below))
    between = np.nan_to_num(between, nan=0.0, posinf=0.0)
    threshold = int(np.argmax(between))
    return threshold, float(between[threshold] / variance)


def binarize(image: Image.Image, min_separability: float = MIN_SEPARABILITY) -> Image.Image | None:
    """The page in black and white at Otsu's threshold, or None when grey will read better.

    A page whose ink and paper are well apart in its grey-level histogram loses nothing in one bit;
    a blurred, faded page (ink and paper run together) keeps its grey for Tesseract's line
    recogniser.
    """
    if image.mode == "1":
        return image
    grey = image if image.mode == "L" else image.convert("L")
    threshold, separability = otsu(grey)
    if separability <= 0 or separability < min_separability:
        return None
    lookup = [0 if level <= threshold else 255 for level in range(256)]
    bilevel = grey.point(lookup, mode="1")
    bilevel.info.update(image.info)
    return bilevel
