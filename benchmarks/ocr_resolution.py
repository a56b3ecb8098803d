"""What resolution, and what kind of image, Tesseract reads low-resolution pages best at.

On the tuning half of the real form scans (FUNSD, ~90 dpi, no resolution in the header; see
ocr_funsd.py) and on generated pages rendered at 100 and 150 dpi and saved without a resolution,
plain `tesseract` reads each page
    - as scanned: without --dpi (Tesseract estimates it), with --dpi 300 (what the pipeline did
      with a header-less image), with --dpi at pipeline.ocr.resolution's estimate;
    - enlarged (bicubic) from that estimate to 150, 200, 250 and 300 dpi;
    - enlarged to resolution.READ_DPI, then in grey, at Otsu's threshold, at Sauvola's adaptive
      threshold (window 25 px, k 0.2, via scipy), and after a 3x3 median filter (light denoising).
Prints Markdown tables: words missed / extra / wrong (bag of words) and CER, and Tesseract's CPU
seconds a page.

    .venv/bin/python benchmarks/ocr_resolution.py [--funsd PATH] [--pages 75] [--synthetic 6]
                                                  [--only resolution|reading]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ocr_funsd  # noqa: E402
from ocr_corpus import sheets, table  # noqa: E402

from pipeline.ocr import preprocess, resolution  # noqa: E402
from pipeline.synth.render import OFFICE_SCAN  # noqa: E402

NPROC = os.cpu_count() or 1

#: (label, how the page is prepared: (grey page, its estimated dpi) -> (image, --dpi or None))
Variant = tuple[str, Callable[[Image.Image, int], tuple[Image.Image, int | None]]]


def enlarged(target: int) -> Callable[[Image.Image, int], tuple[Image.Image, int | None]]:
    def prepare(page: Image.Image, dpi: int) -> tuple[Image.Image, int | None]:
        factor = target / dpi
        return (resolution.enlarge(page, factor) if factor > 1 else page), max(target, dpi)
    return prepare


def thresholded(make: Callable[[Image.Image], Image.Image]):
    def prepare(page: Image.Image, dpi: int) -> tuple[Image.Image, int | None]:
        image, read_dpi = enlarged(resolution.READ_DPI)(page, dpi)
        return make(image), read_dpi
    return prepare


def otsu(image: Image.Image) -> Image.Image:
    threshold, _ = preprocess.otsu(image)
    return image.point([0 if v <= threshold else 255 for v in range(256)])


def sauvola(image: Image.Image, window: int = 25, k: float = 0.2) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float64)
    mean = ndimage.uniform_filter(pixels, window)
    spread = np.sqrt(np.maximum(ndimage.uniform_filter(pixels * pixels, window) - mean * mean, 0))
    level = mean * (1 + k * (spread / 128 - 1))
    return Image.fromarray(np.where(pixels > level, 255, 0).astype(np.uint8))


RESOLUTIONS: list[Variant] = [
    ("as scanned, no --dpi (plain tesseract)", lambda p, d: (p, None)),
    ("as scanned, --dpi 300 (pipeline before)", lambda p, d: (p, 300)),
    ("as scanned, --dpi estimated", lambda p, d: (p, d)),
    *[(f"enlarged to {t} dpi", enlarged(t)) for t in (150, 200, 250, 300)],
]
READING: list[Variant] = [
    (f"enlarged to {resolution.READ_DPI}, grey", enlarged(resolution.READ_DPI)),
    (f"enlarged to {resolution.READ_DPI}, Otsu 1 bit", thresholded(otsu)),
    (f"enlarged to {resolution.READ_DPI}, Sauvola 1 bit", thresholded(sauvola)),
    (f"enlarged to {resolution.READ_DPI}, 3x3 median, grey",
     thresholded(lambda i: i.filter(ImageFilter.MedianFilter(3)))),
]


def tesseract(image: Image.Image, dpi: int | None) -> tuple[str, float]:
    """Plain tesseract's text and its CPU seconds (user + system)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        image.save(path)
        argv = ["tesseract", str(path), "stdout", "-l", "eng"] + (["--dpi", str(dpi)] if dpi else [])
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = process.stdout.read() if process.stdout else b""
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0
        return out.decode(errors="replace"), usage.ru_utime + usage.ru_stime


def measure(label: str, inputs: list[tuple[Image.Image, tuple[str, ...]]],
            variants: list[Variant]) -> list[list[str]]:
    estimates = [resolution.page_resolution(image, None).dpi for image, _ in inputs]
    rows = []
    with ThreadPoolExecutor(NPROC) as threads:
        for name, prepare in variants:
            def one(i: int, prepare=prepare) -> tuple[ocr_funsd.Score, float]:
                image, truth = inputs[i]
                text, cpu = tesseract(*prepare(image, estimates[i]))
                return ocr_funsd.score(truth, text), cpu
            results = list(threads.map(one, range(len(inputs))))
            total = sum((s for s, _ in results), ocr_funsd.ZERO)
            cpu = sum(c for _, c in results) / len(results)
            rows.append([label, *ocr_funsd.row(name, total), f"{cpu:.2f}"])
            print(f"  {label}: {name}: wrong {rows[-1][5]}%", file=sys.stderr, flush=True)
    spread = f"{min(estimates)}-{sorted(estimates)[len(estimates) // 2]}-{max(estimates)}"
    print(f"  {label}: estimated dpi min-median-max {spread}", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ocr_funsd.add_argument(parser)
    parser.add_argument("--pages", type=int, default=75, help="FUNSD tuning-half pages")
    parser.add_argument("--synthetic", type=int, default=6, help="generated pages per resolution")
    parser.add_argument("--only", choices=("resolution", "reading"))
    args = parser.parse_args()

    sets: list[tuple[str, list[tuple[Image.Image, tuple[str, ...]]]]] = []
    forms = [p for p in ocr_funsd.pages(args.funsd) if p.half == "tuning"][:args.pages]
    if forms:
        sets.append((f"FUNSD tuning half ({len(forms)} forms)",
                     [(Image.open(p.path).convert("L"), p.words) for p in forms]))
    else:
        print(f"FUNSD not found at {args.funsd}: skipped", file=sys.stderr)
    for dpi in (100, 150):
        pages = sheets(args.synthetic, OFFICE_SCAN, seed=7, dpi=dpi)
        sets.append((f"generated office scans, {dpi} dpi ({len(pages)})",
                     [(p.convert("L"), tuple(p.info["text"].split())) for p in pages]))

    header = ["pages", "read as", "truth words", "missed %", "extra %", "wrong %", "CER %",
              "tesseract CPU s/page"]
    if args.only != "reading":
        print("### Resolution\n")
        print(table(header, [r for label, inputs in sets for r in measure(label, inputs, RESOLUTIONS)]),
              flush=True)
    if args.only != "resolution":
        print("\n### Grey, 1 bit or denoised, once enlarged\n")
        print(table(header, [r for label, inputs in sets for r in measure(label, inputs, READING)]))


if __name__ == "__main__":
    main()
