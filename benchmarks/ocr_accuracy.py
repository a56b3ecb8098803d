"""OCR accuracy: character error rate and words missed, generated scans and real form scans.

The same page texts are rendered clean, skewed, noisy, fax-like, and turned 90 and 180 degrees
(pipeline.synth.render), saved as lossless PNG; and saved as files whose resolution is missing or
wrong: a 100-dpi PNG with none in its header, a 300-dpi PNG tagged 72 dpi, a 204x98-dpi fax TIFF,
a phone-photo-sized JPEG (the page on a table, 4032 x 3024, tagged 72 dpi). Each is read by
    plain     `tesseract page.png stdout` (defaults, OMP_THREAD_LIMIT=1)
    pipeline  OcrEngine.recognize (deskew, OSD when the first pass looks poor)
CER = Levenshtein distance / characters of truth, after collapsing all whitespace to one space
(reading order counts: a block read in another order costs characters though every word is right).
"Words missed" = share of the truth's words (a multiset, any order) not in the OCR text: whether
the words were read, which is what search and classification use.

Then the real form scans of FUNSD (ocr_funsd.py; skipped when absent), one page at a time,
plain Tesseract against the pipeline: words missed, extra and wrong (bag of words), CER, for the
tuning half, the held-out half and all. Prints a Markdown section.

    .venv/bin/python benchmarks/ocr_accuracy.py [--pages 8] [--funsd PATH] [--forms N]
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

import ocr_funsd  # noqa: E402
from ocr_corpus import CACHE, incoming, sheets, table  # noqa: E402
from PIL import Image  # noqa: E402

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


def _no_resolution(image: Image.Image, path: Path) -> Path:
    path = path.with_suffix(".png")
    image.save(path)  # no dpi in the header
    return path


def _tagged_72(image: Image.Image, path: Path) -> Path:
    path = path.with_suffix(".png")
    image.save(path, dpi=(72, 72))
    return path


def _fax(image: Image.Image, path: Path) -> Path:
    """A standard-resolution fax as it arrives: 204 x 98 dpi, 1 bit, Group 4 TIFF."""
    path = path.with_suffix(".tif")
    squashed = image.resize((image.width, round(image.height * 98 / 204)), Image.Resampling.NEAREST)
    squashed.save(path, compression="group4", dpi=(204, 98))
    return path


def _phone_photo(image: Image.Image, path: Path) -> Path:
    """The page photographed on a grey table: 3024 x 4032 pixels, JPEG, tagged 72 dpi."""
    path = path.with_suffix(".jpg")
    canvas = Image.new("L", (3024, 4032), 110)
    page = image.convert("L")
    scale = 3600 / page.height
    page = page.resize((round(page.width * scale), 3600), Image.Resampling.BICUBIC)
    canvas.paste(page, ((canvas.width - page.width) // 2, (canvas.height - page.height) // 2))
    canvas.save(path, format="JPEG", quality=85, dpi=(72, 72))
    return path


#: pages whose file carries no resolution, or a wrong one: (degradation, dpi rendered at, saver)
FILES = {
    "no resolution in the header, 100 dpi": (OFFICE_SCAN, 100, _no_resolution),
    "tagged 72 dpi, really 300": (OFFICE_SCAN, 300, _tagged_72),
    "fax TIFF 204x98 dpi": (FAX, 300, _fax),
    "phone photo JPEG 4032x3024, 72 dpi": (CLEAN, 300, _phone_photo),
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


def _save_with_dpi(image: Image.Image, path: Path) -> Path:
    path = path.with_suffix(".png")
    image.save(path, dpi=image.info["dpi"])
    return path


def pages_for(name: str, degrade: Degradation, count: int, dpi: int = 300,
              save=_save_with_dpi) -> list[tuple[Path, str]]:  # noqa: ANN001
    folder = CACHE / "accuracy" / re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("page*.txt"))
    if len(existing) < count:
        for i, image in enumerate(sheets(count, degrade, seed=99, dpi=dpi)):
            save(image, folder / f"page{i}")
            (folder / f"page{i}.txt").write_text(image.info["text"])
        existing = sorted(folder.glob("page*.txt"))
    return [(next(p for p in folder.glob(f"{t.stem}.*") if p.suffix != ".txt"), t.read_text())
            for t in existing[:count]]


def plain(path: Path) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    return subprocess.run(["tesseract", str(path), "stdout", "-l", "eng"], env=env, check=True,
                          capture_output=True, text=True).stdout


def forms(engine, threads: ThreadPoolExecutor, root: Path, limit: int | None) -> None:  # noqa: ANN001
    """The FUNSD section: plain Tesseract against the pipeline, per half and overall."""
    pages = ocr_funsd.pages(root, limit)
    if not pages:
        print(f"\n(FUNSD not found at {root}: real form scans skipped)")
        return
    work = CACHE / "accuracy-work"

    def both(page: ocr_funsd.FormPage) -> tuple[ocr_funsd.Score, ocr_funsd.Score]:
        result = engine.recognize(incoming(page.path), work)
        if result.searchable_pdf:
            result.searchable_pdf.unlink(missing_ok=True)
        return ocr_funsd.score(page.words, plain(page.path)), ocr_funsd.score(page.words, result.text)

    scores = list(threads.map(both, pages))
    rows = []
    for label, half in (("tuning half", "tuning"), ("held-out half", "held-out"), ("all", None)):
        chosen = [s for p, s in zip(pages, scores, strict=True) if half in (None, p.half)]
        for engine_name, index in (("plain tesseract", 0), ("pipeline", 1)):
            total = sum((s[index] for s in chosen), ocr_funsd.ZERO)
            rows.append([f"{label} ({len(chosen)} forms)", *ocr_funsd.row(engine_name, total)])
    worse = sum(1 for a, b in scores if b.wrong > a.wrong + 0.005)
    better = sum(1 for a, b in scores if b.wrong < a.wrong - 0.005)
    print("\n## Real form scans (FUNSD training split, %, lower is better; one page at a time)\n")
    print(table(["forms", "read by", "truth words", "words missed", "words extra", "words wrong",
                 "CER (line order)"], rows))
    print(f"\nPages the pipeline read worse (words wrong, by more than 0.5 points): {worse}; "
          f"better: {better}; of {len(scores)}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3)
    ocr_funsd.add_argument(parser)
    parser.add_argument("--forms", type=int, default=None,
                        help="FUNSD pages per half (default: all 149)")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()

    from pipeline.ocr.engine import OcrEngine

    work = CACHE / "accuracy-work"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    worse_pages = []
    lock = threading.Lock()
    conditions = [(name, pages_for(name, degrade, args.pages)) for name, degrade in CONDITIONS.items()]
    conditions += [(name, pages_for(name, degrade, args.pages, dpi, save))
                   for name, (degrade, dpi, save) in FILES.items()]
    if args.skip_synthetic:
        conditions = []
    with OcrEngine(workers=NPROC) as engine, ThreadPoolExecutor(NPROC) as threads:
        engine.start()
        for name, pages in conditions:
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
        if conditions:
            print(f"## OCR accuracy (%, lower is better; {args.pages} generated pages per condition)\n")
            print(table(["condition", "CER plain tesseract", "CER pipeline", "words missed plain",
                         "words missed pipeline", "rotation applied", "deskew applied °"], rows))
            print(f"\nPages where the pipeline missed more words than plain tesseract by more than "
                  f"0.5 points: {len(worse_pages)}" + "".join(f"\n- {w}" for w in worse_pages))
        forms(engine, threads, args.funsd, args.forms)


if __name__ == "__main__":
    main()
