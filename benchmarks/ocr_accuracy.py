"""OCR accuracy: character error rate and words missed against the ground truth of generated scans.

The same page texts are rendered clean, skewed, noisy, fax-like, and turned 90 and 180 degrees
(pipeline.synth.render), saved as lossless PNG, then read by
    plain     `tesseract page.png stdout` (defaults, OMP_THREAD_LIMIT=1)
    pipeline  OcrEngine.recognize (deskew, OSD when the first pass looks poor)
CER = Levenshtein distance / characters of truth, after collapsing all whitespace to one space
(reading order counts: a block read in another order costs characters though every word is right).
"Words missed" = share of the truth's words (a multiset, any order) not in the OCR text: whether
the words were read, which is what search and classification use. Prints a Markdown section.

    .venv/bin/python benchmarks/ocr_accuracy.py [--pages 8]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ocr_corpus import CACHE, incoming, sheets, table  # noqa: E402

from pipeline.synth.render import CLEAN, FAX, OFFICE_SCAN, POOR, Degradation  # noqa: E402

NPROC = os.cpu_count() or 1
CONDITIONS: dict[str, Degradation] = {
    "clean": CLEAN,
    "office scan (0.8° skew, light noise)": OFFICE_SCAN,
    "skewed 3°": Degradation(skew_degrees=3.0),
    "skewed -6°": Degradation(skew_degrees=-6.0),
    "noisy": Degradation(noise=0.35, speckles=300, blur=1.0),
    "fax-like": FAX,
    "poor (skew, noise, blur, fade)": POOR,
    "blurred": Degradation(blur=1.5),
    "faded, grey paper": Degradation(fade=0.5, background=235),
    "lid shadow, stamp, JPEG 60": Degradation(edge_shadow=True, stamp="RECEIVED JAN 05 2026",
                                              jpeg_quality=60),
    "rotated 90°": Degradation(rotation=90),
    "rotated 180°": Degradation(rotation=180),
}


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def cer(truth: str, text: str) -> float:
    truth, text = normalize(truth), normalize(text)
    return Levenshtein.distance(truth, text) / max(len(truth), 1)


def words_missed(truth: str, text: str) -> float:
    """Share of the ground truth's words (as a multiset, any order) missing from the OCR text.

    CER also counts reading order: Tesseract may put a fax header's fields in another block order
    on a straightened page than on a tilted one, with every word right. Search and classification
    do not see order, so this is the figure that says whether words were read."""
    want = Counter(re.findall(r"\w+", truth.lower()))
    got = Counter(re.findall(r"\w+", text.lower()))
    return 1 - sum((want & got).values()) / max(sum(want.values()), 1)


def pages_for(name: str, degrade: Degradation, count: int) -> list[tuple[Path, str]]:
    folder = CACHE / "accuracy" / re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("page*.png"))
    if len(existing) < count:
        for i, image in enumerate(sheets(count, degrade, seed=99)):
            image.save(folder / f"page{i}.png", dpi=image.info["dpi"])
            (folder / f"page{i}.txt").write_text(image.info["text"])
        existing = sorted(folder.glob("page*.png"))
    return [(p, p.with_suffix(".txt").read_text()) for p in existing[:count]]


def plain(path: Path) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    return subprocess.run(["tesseract", str(path), "stdout", "-l", "eng"], env=env, check=True,
                          capture_output=True, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3)
    args = parser.parse_args()

    from pipeline.ocr.engine import OcrEngine

    work = CACHE / "accuracy-work"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    worse_pages = []
    lock = threading.Lock()
    with OcrEngine(workers=NPROC) as engine, ThreadPoolExecutor(NPROC) as threads:
        for name, degrade in CONDITIONS.items():
            pages = pages_for(name, degrade, args.pages)
            plain_texts = list(threads.map(plain, [p for p, _ in pages]))

            def ours(path: Path) -> tuple[str, int, float]:
                result = engine.recognize(incoming(path), work)
                page = result.pages[0]
                with lock:
                    result.searchable_pdf.unlink(missing_ok=True)
                return page.text, page.rotation, page.skew

            our_results = list(threads.map(ours, [p for p, _ in pages]))
            plain_cer = [cer(t, x) for (_, t), x in zip(pages, plain_texts, strict=True)]
            our_cer = [cer(t, x) for (_, t), (x, _, _) in zip(pages, our_results, strict=True)]
            plain_missed = [words_missed(t, x) for (_, t), x in zip(pages, plain_texts, strict=True)]
            our_missed = [words_missed(t, x) for (_, t), (x, _, _) in zip(pages, our_results, strict=True)]
            for (path, _), a, b in zip(pages, plain_missed, our_missed, strict=True):
                if b > a + 0.005:
                    worse_pages.append(f"{name} {path.name}: words missed plain {a:.3f}, pipeline {b:.3f}")
            rotations = sorted({r for _, r, _ in our_results})
            skews = [s for _, _, s in our_results]
            rows.append((name, f"{100 * sum(plain_cer) / len(pages):.1f}",
                         f"{100 * sum(our_cer) / len(pages):.1f}",
                         f"{100 * sum(plain_missed) / len(pages):.2f}",
                         f"{100 * sum(our_missed) / len(pages):.2f}",
                         ",".join(map(str, rotations)),
                         f"{min(skews):+.1f}..{max(skews):+.1f}"))

    print(f"## OCR accuracy (%, lower is better; {args.pages} generated pages per condition)\n")
    print(table(["condition", "CER plain tesseract", "CER pipeline", "words missed plain",
                 "words missed pipeline", "rotation applied", "deskew applied °"], rows))
    print(f"\nPages where the pipeline missed more words than plain tesseract by more than 0.5 "
          f"points: {len(worse_pages)}" + ("".join(f"\n- {w}" for w in worse_pages)))


if __name__ == "__main__":
    main()
