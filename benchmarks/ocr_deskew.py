"""How to straighten a skewed page before Tesseract: not at all, nearest-neighbour, or bicubic.

Pages are generated (pipeline.synth.render) under three degradations, the skew is estimated with
`pipeline.ocr.preprocess.estimate_skew`, the page is rotated back with each resampling filter
(corners filled with the paper grey), and plain `tesseract` reads each version. Prints the mean
character error rate (%) per condition and how many pages nearest-neighbour made worse than not
straightening at all (by more than 0.5 points).

    .venv/bin/python benchmarks/ocr_deskew.py [--pages 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_accuracy import cer  # noqa: E402
from ocr_corpus import sheets, table  # noqa: E402

from pipeline.ocr import preprocess  # noqa: E402
from pipeline.synth.render import OFFICE_SCAN, POOR, Degradation  # noqa: E402

CONDITIONS = {
    "office scan (0.8°)": OFFICE_SCAN,
    "poor, 1.2° (noise, blur 2, fade)": Degradation(skew_degrees=1.2, noise=0.35, blur=2.0, fade=0.5,
                                                   background=225, speckles=300, edge_shadow=True),
    "poor, 2.5° (render POOR)": POOR,
}
FILTERS = {"none": None, "nearest": Image.Resampling.NEAREST, "bicubic": Image.Resampling.BICUBIC}


def read(image: Image.Image) -> str:
    with tempfile.NamedTemporaryFile(suffix=".png") as handle:
        image.save(handle.name)
        return subprocess.run(["tesseract", handle.name, "stdout", "--dpi", "300"], check=True,
                              capture_output=True, text=True,
                              env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout


def one(image: Image.Image) -> dict[str, float]:
    gray = image.convert("L")
    angle = preprocess.estimate_skew(gray)
    histogram = gray.histogram()
    paper = max(range(256), key=histogram.__getitem__)
    out = {}
    for name, resample in FILTERS.items():
        page = gray if resample is None else gray.rotate(angle, resample=resample, expand=True,
                                                           fillcolor=paper)
        out[name] = cer(image.info["text"], read(page))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    args = parser.parse_args()
    rows = []
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for name, degrade in CONDITIONS.items():
            results = list(pool.map(one, sheets(args.pages, degrade, seed=1234)))
            mean = {f: 100 * sum(r[f] for r in results) / len(results) for f in FILTERS}
            worse = sum(1 for r in results if r["nearest"] > r["none"] + 0.005)
            rows.append((name, *(f"{mean[f]:.2f}" for f in FILTERS), worse))
    print(f"## Deskew resampling (CER %, plain tesseract, {args.pages} pages per condition)\n")
    print(table(["condition", *FILTERS, "pages nearest made worse"], rows))


if __name__ == "__main__":
    main()
