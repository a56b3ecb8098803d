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
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

from pipeline.ingest.pageimage import WORK_DPI, grey_level, working_grey

NARROW_IN = 0.08
WIDE_IN = 0.20
SPACE_IN = 0.08
MIN_LENGTH_IN = 1.5  # the published minimum is 2 in; a skewed or cropped sheet keeps this much
DRAW_LENGTH_IN = 2.5  # the recommended length
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
    grey, dpi = working_grey(image, WORK_DPI)
    return patch_codes_in(np.asarray(grey), dpi)


def patch_codes_in(pixels: np.ndarray, dpi: float) -> frozenset[str]:
    """`read_patch_codes` on 8-bit grey pixels at `dpi` (about WORK_DPI; see pageimage.working_grey)."""
    dark = pixels < grey_level(pixels, 90) * 0.5
    found: set[str] = set()
    for grid in (dark, dark.T):  # bars upright, then bars lying across the page
        for bits in _codes_in(grid, dpi):
            for reading in (bits, bits[::-1]):
                if reading in _CODE_BY_BITS:
                    found.add(_CODE_BY_BITS[reading])
    return frozenset(found)


def _codes_in(dark: np.ndarray, dpi: float) -> set[str]:
    """Bit patterns found along at least MIN_LENGTH_IN of bar length, reading each row left to right."""
    step = max(1, round(ROW_STEP_IN * dpi))
    hits: dict[str, list[tuple[int, int]]] = {}
    for y, x0, bits in _hits(dark[::step], dpi):
        hits.setdefault(bits, []).append((y * step, x0))
    need = MIN_LENGTH_IN * dpi
    return {bits for bits, rows in hits.items() if _longest_run(rows, step, dpi) >= need}


def _hits(rows: np.ndarray, dpi: float) -> list[tuple[int, int, str]]:
    """(row, x of the first bar, bits) for every run of four dark bars that fits a patch, all rows
    at once: each row is padded with light space wider than any patch space, so a run of four
    never spans two rows."""
    nominal = NARROW_IN * dpi
    pad = int(np.ceil(2 * nominal))
    height, width = rows.shape
    padded = np.zeros((height, width + 2 * pad), dtype=bool)
    padded[:, pad : pad + width] = rows
    line = padded.ravel()
    edges = np.flatnonzero(line[1:] != line[:-1]) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [line.size])))
    dark = np.flatnonzero(line[starts])  # runs alternate, so dark runs are every other one
    if dark.size < 4:
        return []
    bars = sliding_window_view(lengths[dark].astype(float), 4)
    spaces = sliding_window_view(lengths[dark[:-1] + 1].astype(float), 3)
    unit = spaces.sum(axis=1) - spaces.min(axis=1) - spaces.max(axis=1)  # the median of three
    ok = (unit >= _SCALE[0] * nominal) & (unit <= _SCALE[1] * nominal)
    unit = unit[:, None]
    ok &= np.all((spaces >= _NARROW[0] * unit) & (spaces <= _NARROW[1] * unit), axis=1)
    ratio = bars / unit
    wide = (ratio >= _WIDE[0]) & (ratio <= _WIDE[1])
    narrow = (ratio >= _NARROW[0]) & (ratio <= _NARROW[1])
    ok &= np.all(wide | narrow, axis=1) & (wide.sum(axis=1) == 2)
    first = dark[: bars.shape[0]]
    last = dark[3 : 3 + bars.shape[0]]
    quiet = np.minimum(lengths[first - 1], lengths[last + 1])  # dark runs never start or end the line
    ok &= quiet >= 1.5 * unit[:, 0]  # light either side: not bars of a larger pattern
    found = []
    for k in np.flatnonzero(ok):
        row, x = divmod(int(starts[first[k]]), width + 2 * pad)
        found.append((row, x - pad, "".join("1" if w else "0" for w in wide[k])))
    return found


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
