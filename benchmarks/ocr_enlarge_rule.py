"""Does a rule on the estimated resolution tell the pages that gain from enlarging from those that lose?

Issue 12's accuracy table has the pipeline a little behind plain Tesseract on clean generated
100-dpi pages saved without a resolution, while real ~90-dpi form scans gain 40% from being
enlarged to `resolution.READ_DPI`. Each page is read by plain `tesseract` (OMP_THREAD_LIMIT=1):
    plain           the file as it is, no --dpi (what a user runs)
    as is, grey     the grey page, --dpi at the pipeline's estimate, not enlarged
    as is, 1 bit    the same at Otsu's threshold (what the pipeline does with unenlarged pages)
    enlarged        enlarged from the estimate to READ_DPI, grey (what the pipeline does)
    from true dpi   enlarged from the true 100 dpi to READ_DPI, grey (an exact estimate)
on generated pages rendered at 100 dpi (`--seed 7`: the pages ocr_resolution.py tunes on;
`--seed 99`: ocr_accuracy.py's), and, per threshold T, the FUNSD tuning half read enlarged only
when its estimate is below T, grey as it is otherwise. Bag-of-words scoring (ocr_funsd.py).

    .venv/bin/python benchmarks/ocr_enlarge_rule.py [--pages 8] [--funsd PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ocr_funsd  # noqa: E402
import ocr_resolution  # noqa: E402
from ocr_corpus import sheets, table  # noqa: E402

from pipeline.ocr import preprocess, resolution  # noqa: E402
from pipeline.synth.render import OFFICE_SCAN  # noqa: E402

THRESHOLDS = (95, 110, 120, 130, resolution.READ_DPI)


def tesseract(image: Image.Image, dpi: int | None = None) -> str:
    return ocr_resolution.tesseract(image, dpi)[0]


def readings(path: Path, true_dpi: int | None) -> tuple[int, dict[str, str]]:
    """(the pipeline's estimate, text per way of reading) for one page file without a resolution."""
    grey = Image.open(path).convert("L")
    estimate = resolution.page_resolution(grey, None).dpi
    factor = resolution.enlargement(estimate, grey.size, 10**9)
    out = {"plain": tesseract(Image.open(path)),  # the file's pixels, still without a resolution
           "as is, grey": tesseract(grey, estimate),
           "enlarged (pipeline)": tesseract(resolution.enlarge(grey, factor), round(estimate * factor))}
    if true_dpi:
        out["as is, 1 bit"] = tesseract(preprocess.binarize(grey) or grey, estimate)
        out["from true dpi"] = tesseract(resolution.enlarge(grey, resolution.READ_DPI / true_dpi),
                                         resolution.READ_DPI)
    return estimate, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8)
    ocr_funsd.add_argument(parser)
    args = parser.parse_args()
    threads = ThreadPoolExecutor(os.cpu_count() or 1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (7, 99):
            pages = []
            for i, image in enumerate(sheets(args.pages, OFFICE_SCAN, seed=seed, dpi=100)):
                image.save(Path(tmp) / f"s{seed}-{i}.png")  # no resolution in the header
                pages.append((Path(tmp) / f"s{seed}-{i}.png", image.info["text"]))
            results = list(threads.map(lambda page: readings(page[0], 100), pages))
            for way in results[0][1]:
                scores = [ocr_funsd.score([truth], texts[way]) for (_, truth), (_, texts) in zip(pages, results)]
                rows.append([f"generated 100 dpi, seed {seed} (estimates {min(e for e, _ in results)}-"
                             f"{max(e for e, _ in results)})", way,
                             *ocr_funsd.row("", sum(scores, ocr_funsd.ZERO))[1:],
                             " ".join(str(s.missed) for s in scores)])
    print("## Clean 100-dpi pages without a resolution\n")
    print(table(["pages", "read as", "truth words", "missed %", "extra %", "wrong %", "CER %",
                 "words missed per page"], rows))

    forms = [p for p in ocr_funsd.pages(args.funsd) if p.half == "tuning"]
    if not forms:
        return
    read = list(threads.map(lambda form: readings(form.path, None), forms))
    rows = []
    for threshold in THRESHOLDS:
        chosen = [ocr_funsd.score(form.words, texts["enlarged (pipeline)" if estimate < threshold else "as is, grey"])
                  for form, (estimate, texts) in zip(forms, read)]
        kept = sum(estimate >= threshold for estimate, _ in read)
        rows.append([f"enlarged below {threshold} dpi", str(kept),
                     *ocr_funsd.row("", sum(chosen, ocr_funsd.ZERO))[1:]])
    print(f"\n## FUNSD tuning half ({len(forms)} forms; estimates "
          f"{min(e for e, _ in read)}-{max(e for e, _ in read)} dpi)\n")
    print(table(["rule", "forms not enlarged", "truth words", "missed %", "extra %", "wrong %", "CER %"], rows))


if __name__ == "__main__":
    main()
