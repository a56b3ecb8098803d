"""When and how to straighten a tilted page before Tesseract, measured on generated pages.

For each tilt and degradation the skew is estimated with `pipeline.ocr.preprocess.estimate_skew`,
the page is rotated back (corners filled with the paper grey) and plain `tesseract` reads: the
tilted page as it is, the page straightened with nearest-neighbour, with bicubic, and straightened
with nearest-neighbour then thresholded to 1 bit. Prints words missed (% of the truth's words not
read, any order) and the character error rate, which also counts reading order.

    .venv/bin/python benchmarks/ocr_deskew.py [--pages 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_accuracy import cer, words_missed  # noqa: E402
from ocr_corpus import sheets, table  # noqa: E402

from pipeline.ocr import preprocess  # noqa: E402
from pipeline.synth.render import OFFICE_SCAN, POOR, Degradation  # noqa: E402

CONDITIONS = {
    "office scan (0.8°)": OFFICE_SCAN,
    "clean, 2°": Degradation(skew_degrees=2.0),
    "clean, 3°": Degradation(skew_degrees=3.0),
    "clean, 5°": Degradation(skew_degrees=5.0),
    "poor, 1.5°": replace(POOR, skew_degrees=1.5),
    "poor, 2.5° (render POOR)": POOR,
    "poor, 4°": replace(POOR, skew_degrees=4.0),
    "poor, 6°": replace(POOR, skew_degrees=6.0),
}
METHODS = ("as scanned", "nearest", "bicubic", "nearest, 1 bit")


def read(image: Image.Image) -> str:
    with tempfile.NamedTemporaryFile(suffix=".png") as handle:
        image.save(handle.name)
        return subprocess.run(["tesseract", handle.name, "stdout", "--dpi", "300"], check=True,
                              capture_output=True, text=True,
                              env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout


def one(image: Image.Image) -> dict[str, tuple[float, float]]:
    gray = image.convert("L")
    angle = preprocess.estimate_skew(gray)
    histogram = gray.histogram()
    paper = max(range(256), key=histogram.__getitem__)
    nearest = gray.rotate(angle, resample=Image.Resampling.NEAREST, expand=True, fillcolor=paper)
    pages = {
        "as scanned": gray,
        "nearest": nearest,
        "bicubic": gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=paper),
        "nearest, 1 bit": preprocess.binarize(nearest, min_separability=0.0),
    }
    truth = image.info["text"]
    out = {}
    for name, page in pages.items():
        text = read(page)
        out[name] = (words_missed(truth, text), cer(truth, text))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    args = parser.parse_args()
    rows = []
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for name, degrade in CONDITIONS.items():
            results = list(pool.map(one, sheets(args.pages, degrade, seed=1234)))
            cells = []
            for method in METHODS:
                missed = 100 * sum(r[method][0] for r in results) / len(results)
                error = 100 * sum(r[method][1] for r in results) / len(results)
                cells.append(f"{missed:.2f} / {error:.1f}")
            rows.append((name, *cells))
    print(f"## Straightening (words missed % / CER %, plain tesseract, {args.pages} pages per "
          "condition)\n")
    print(table(["condition", *METHODS], rows))


if __name__ == "__main__":
    main()
