"""Should Tesseract read the page in grey or in black and white? Per condition, on the same pages.

For each page of each degradation: Otsu's separability of its grey-level histogram (between-class
over total variance), then plain `tesseract` (OMP_THREAD_LIMIT=1) on the grey page and on the page
thresholded at Otsu's level, with the character error rate against the ground truth and the CPU
seconds Tesseract spent. The engine's gate (`preprocess.MIN_SEPARABILITY`) comes from this table:
1 bit where it reads as well and faster, grey where it reads better.

    .venv/bin/python benchmarks/ocr_binarize.py [--pages 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_accuracy import CONDITIONS, cer, pages_for  # noqa: E402
from ocr_corpus import table  # noqa: E402

from pipeline.ocr import preprocess  # noqa: E402

NPROC = os.cpu_count() or 1


def tesseract(path: Path) -> tuple[str, float]:
    """Text and CPU seconds of one plain run, as the throughput limit runs it."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    argv = ["/usr/bin/time", "-f", "%U %S", "tesseract", str(path), "stdout", "-l", "eng",
            "--dpi", "300"]
    done = subprocess.run(argv, env=env, check=True, capture_output=True, text=True)
    user, system = done.stderr.strip().splitlines()[-1].split()
    return done.stdout, float(user) + float(system)


def one(page: Path, truth: str, work: Path) -> tuple[float, float, float, float, float]:
    grey = Image.open(page).convert("L")
    _, eta = preprocess.otsu(grey)
    bilevel = page_bilevel(grey)
    target = work / f"{page.parent.name}-{page.stem}.pbm"
    bilevel.save(target, format="PPM")
    grey_text, grey_cpu = tesseract(page)
    bit_text, bit_cpu = tesseract(target)
    return eta, cer(truth, grey_text), cer(truth, bit_text), grey_cpu, bit_cpu


def page_bilevel(grey: Image.Image) -> Image.Image:
    """Otsu's threshold whatever the separability (the gate is what is being measured)."""
    bilevel = preprocess.binarize(grey, min_separability=0.0)
    assert bilevel is not None
    return bilevel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ocr-binarize-") as folder, ThreadPoolExecutor(NPROC) as pool:
        work = Path(folder)
        for name, degrade in CONDITIONS.items():
            if degrade.rotation or abs(degrade.skew_degrees) > 4:
                continue  # turning and straightening are another table's business
            pages = pages_for(name, degrade, args.pages)
            results = list(pool.map(lambda p: one(p[0], p[1], work), pages))
            eta = [r[0] for r in results]
            grey_cer = statistics.mean(r[1] for r in results)
            bit_cer = statistics.mean(r[2] for r in results)
            worst = max(r[2] - r[1] for r in results)
            grey_cpu = statistics.mean(r[3] for r in results)
            bit_cpu = statistics.mean(r[4] for r in results)
            gate = "1 bit" if min(eta) >= preprocess.MIN_SEPARABILITY else (
                "grey" if max(eta) < preprocess.MIN_SEPARABILITY else "mixed")
            rows.append((name, f"{min(eta):.2f}-{max(eta):.2f}", f"{100 * grey_cer:.2f}",
                         f"{100 * bit_cer:.2f}", f"{100 * worst:+.2f}", f"{grey_cpu:.2f}",
                         f"{bit_cpu:.2f}", f"{1 - bit_cpu / grey_cpu:.0%}", gate))
    print(f"## Grey or black and white ({args.pages} generated 300-dpi pages per condition)\n")
    print(table(["condition", "separability", "CER % grey", "CER % 1 bit", "worst page, 1 bit",
                 "tesseract CPU s grey", "CPU s 1 bit", "time saved", "engine reads it in"], rows))
    print(f"\nGate: 1 bit when separability >= {preprocess.MIN_SEPARABILITY:.2f}.")


if __name__ == "__main__":
    main()
