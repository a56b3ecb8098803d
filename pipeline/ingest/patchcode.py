"""Kodak patch codes: drawing them (for separator sheets) and finding them on a page image.

A patch code is four parallel bars, two wide (0.20 in) and two narrow (0.08 in), with three narrow
(0.08 in) spaces between them: 0.80 in across and at least 2 in long. Which bars are wide names
the code (1 = wide, bars in reading order)::

    1: 1100   2: 1001   3: 1010   4: 0110   6: 0011   T: 0101

zxing-cpp does not read patch codes, so `read_patch_codes` measures the bars itself: rows (and,
for bars lying across the page, columns) are sampled every 0.04 in; each run of four dark bars
whose widths and spaces fit the table above, in inches (a print scaled 80-130 % still fits), with
light space either side, is a hit; a code counts only when its hits line up, bar over bar, along
at least `MIN_LENGTH_IN` of bar length, which text, tables and rules do not do.

Read backwards (a sheet fed upside down) T is 3 and 1 is 6, so both readings are returned: a
separator set of {"T"} also accepts an upside-down T, and with it a Patch 3 sheet (in practice a
batch separator, so a separator too). 2 and 4 read the same both ways.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from pipeline.ingest.pageimage import working_grey

NARROW_IN = 0.08
WIDE_IN = 0.20
SPACE_IN = 0.08
MIN_LENGTH_IN = 1.5  # the published minimum is 2 in; a skewed or cropped sheet keeps this much
DRAW_LENGTH_IN = 2.5  # the recommended length
WORK_DPI = 100  # pages are measured at about this resolution
ROW_STEP_IN = 0.04

PATTERNS: dict[str, str] = {"1": "1100", "2": "1001", "3": "1010", "4": "0110", "6": "0011", "T": "0101"}
_CODE_BY_BITS = {bits: code for code, bits in PATTERNS.items()}

_NARROW = (0.6, 1.55)  # allowed bar or space width, in units of the measured narrow width
_WIDE = (1.8, 3.4)
_SCALE = (0.8, 1.3)  # the narrow width itself, against 0.08 in


def draw_patch(code: str, dpi: int = 300, *, length_in: float = DRAW_LENGTH_IN,
               horizontal: bool = False) -> Image.Image:
    """A patch code as a 1-bit image with a quiet zone: bars upright unless `horizontal`."""
    bits = PATTERNS[code.upper()]
    widths = [round((WIDE_IN if bit == "1" else NARROW_IN) * dpi) for bit in bits]
    space = round(SPACE_IN * dpi)
    quiet = round(0.25 * dpi)
    across = sum(widths) + 3 * space + 2 * quiet
    along = round(length_in * dpi)
    pixels = np.ones((along, across), dtype=bool)
    x = quiet
    for width in widths:
        pixels[:, x : x + width] = False
        x += width + space
    image = Image.fromarray(pixels)
    return image.transpose(Image.Transpose.ROTATE_90) if horizontal else image


def read_patch_codes(image: Image.Image) -> frozenset[str]:
    """The patch codes on a page image, each in both reading directions (see the module doc)."""
    dark, dpi = _dark_pixels(image)
    found: set[str] = set()
    for grid in (dark, dark.T):  # bars upright, then bars lying across the page
        for bits in _codes_in(grid, dpi):
            for reading in (bits, bits[::-1]):
                if reading in _CODE_BY_BITS:
                    found.add(_CODE_BY_BITS[reading])
    return frozenset(found)


def _dark_pixels(image: Image.Image) -> tuple[np.ndarray, float]:
    grey, dpi = working_grey(image, WORK_DPI)
    pixels = np.asarray(grey)
    paper = float(np.percentile(pixels, 90))
    return pixels < paper * 0.5, dpi


def _codes_in(dark: np.ndarray, dpi: float) -> set[str]:
    """Bit patterns found along at least MIN_LENGTH_IN of bar length, reading each row left to right."""
    step = max(1, round(ROW_STEP_IN * dpi))
    hits: dict[str, list[tuple[int, int]]] = {}
    for y in range(0, dark.shape[0], step):
        for x0, bits in _row_hits(dark[y], dpi):
            hits.setdefault(bits, []).append((y, x0))
    need = MIN_LENGTH_IN * dpi
    return {bits for bits, rows in hits.items() if _longest_run(rows, step, dpi) >= need}


def _row_hits(row: np.ndarray, dpi: float) -> list[tuple[int, str]]:
    edges = np.flatnonzero(np.diff(row.astype(np.int8))) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [row.size])))
    is_dark = row[starts]
    dark_index = np.flatnonzero(is_dark)
    if dark_index.size < 4:
        return []
    hits: list[tuple[int, str]] = []
    nominal = NARROW_IN * dpi
    for k in range(dark_index.size - 3):
        run = dark_index[k : k + 4]
        if run[3] - run[0] != 6:  # four dark runs with exactly one light run between each
            continue
        bars = lengths[run].astype(float)
        spaces = lengths[run[:3] + 1].astype(float)
        unit = float(np.median(spaces))
        if not (_SCALE[0] * nominal <= unit <= _SCALE[1] * nominal):
            continue
        if not np.all((spaces >= _NARROW[0] * unit) & (spaces <= _NARROW[1] * unit)):
            continue
        ratio = bars / unit
        wide = (ratio >= _WIDE[0]) & (ratio <= _WIDE[1])
        narrow = (ratio >= _NARROW[0]) & (ratio <= _NARROW[1])
        if not np.all(wide | narrow) or int(wide.sum()) != 2:
            continue
        before = lengths[run[0] - 1] if run[0] > 0 else nominal * 2
        after = lengths[run[3] + 1] if run[3] + 1 < lengths.size else nominal * 2
        if min(before, after) < 1.5 * unit:  # bars of a larger pattern, not a patch
            continue
        hits.append((int(starts[run[0]]), "".join("1" if w else "0" for w in wide)))
    return hits


def _longest_run(rows: list[tuple[int, int]], step: int, dpi: float) -> float:
    """The longest stretch (pixels along the bars) over which hits follow on, bar over bar."""
    drift = NARROW_IN * dpi  # a skewed sheet moves the bars sideways a little from row to row
    best = 0.0
    chains: list[tuple[int, int, int]] = []  # (first y, last y, last x)
    for y, x in sorted(rows):
        for i, (first, last, lx) in enumerate(chains):
            if 0 < y - last <= 2 * step and abs(x - lx) <= drift:
                chains[i] = (first, y, x)
                best = max(best, y - first + step)
                break
        else:
            chains.append((y, y, x))
            best = max(best, float(step))
    return best
