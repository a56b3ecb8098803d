"""Batch splitting: the blank-page rule's confusion matrix, and whole generated batches split.

    .venv/bin/python benchmarks/ingest_split.py [--pages 30] [--batches 10] [--seed 1]

Part 1, blank pages: `--pages` generated pages per class, each degraded a different way
(clean, office scan, poor, fax, heavy grain and dust, lid shadow, bleed-through):
  blank       the empty back of a sheet;
  near-blank  a page number alone, a received stamp alone, or one short line;
  text        a document page.
For each class: the spread of `blank.ink_share`, the gap between the highest blank and the
lowest near-blank, and the confusion at the shipped default `settings.DEFAULT_BLANK_MAX_INK`. A near-blank page called blank would be a page lost
from the filed document (still in the batch original); a blank called content is only a page
a clerk sees.

Part 2, batches: `--batches` generated batches of 6 documents (patch T, separator barcode and
cover sheet in turn, blank backs on half the sheets) saved as PDF and TIFF, read back as the
pipeline reads them (raster + zxing-cpp), marked and split; counts the documents split exactly
right (same pages, same cover sheet) and the time per page of `mark_page` alone.

Prints Markdown.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.ingest.blank import ink_share
from pipeline.ingest.split import SplitRules, mark_page, split_pages
from pipeline.ocr.barcodes import read_barcodes
from pipeline.ocr.raster import close_cached, page_count, render_page
from pipeline.settings import DEFAULT_BLANK_MAX_INK
from pipeline.synth.batches import SEPARATOR_TEXT, batch_pages
from pipeline.synth.documents import DOCUMENT_TYPES, generate_document
from pipeline.synth.patients import generate_patients
from pipeline.synth.render import CLEAN, FAX, OFFICE_SCAN, POOR, Degradation, render_pages, save_scan

CONDITIONS = {
    "clean": CLEAN,
    "office scan": OFFICE_SCAN,
    "poor": POOR,
    "fax": FAX,
    "grain and dust": Degradation(noise=0.3, speckles=600, background=235),
    "lid shadow": Degradation(noise=0.1, speckles=50, edge_shadow=True, skew_degrees=1.5),
}
STAMPS = ("RECEIVED JAN 05 2026", "SCANNED", "COPY")


def page_set(kind: str, n: int, rng: random.Random, dpi: int) -> list[tuple[str, Image.Image]]:
    pages = []
    names = list(CONDITIONS) + ["bleed-through"]
    for i in range(n):
        condition = names[i % len(names)]
        degrade = CONDITIONS.get(condition, OFFICE_SCAN)
        seed = rng.randrange(1 << 30)
        if kind == "blank":
            text = ""
        elif kind == "near-blank":
            text = rng.choice(["\n" * 52 + f"Page {rng.randint(2, 9)} of {rng.randint(9, 12)}",
                               "\n" * 52 + str(rng.randint(2, 40)), "", "\n" * 20 + "Intentionally left blank"])
            if text == "":
                degrade = Degradation(noise=degrade.noise, speckles=degrade.speckles, stamp=rng.choice(STAMPS))
        else:
            text = generate_document(rng.choice(DOCUMENT_TYPES), rng)
        page = render_pages([text], dpi=dpi, seed=seed, degrade=degrade)[0]
        if condition == "bleed-through":
            page = _bleed(page, rng, dpi)
        pages.append((condition, page))
    return pages


def _bleed(page: Image.Image, rng: random.Random, dpi: int) -> Image.Image:
    """The other side's text showing through faintly, mirrored."""
    other = render_pages([generate_document(rng.choice(DOCUMENT_TYPES), rng)], dpi=dpi)[0].convert("L")
    ghost = other.transpose(Image.Transpose.FLIP_LEFT_RIGHT).point(lambda v: 255 - (255 - v) * 0.25)
    mixed = Image.fromarray(np.minimum(np.asarray(page.convert("L")), np.asarray(ghost)))
    mixed.info["dpi"] = (dpi, dpi)
    return mixed


def bench_blank(n: int, seed: int, dpi: int) -> list[str]:
    rng = random.Random(seed)
    shares = {kind: [(c, ink_share(p)) for c, p in page_set(kind, n, rng, dpi)] for kind in ("blank", "near-blank", "text")}
    highest_blank = max(s for _, s in shares["blank"])
    lowest_mark = min(s for k in ("near-blank", "text") for _, s in shares[k])
    out = [f"### Blank pages ({n} per class, {dpi} dpi)", "",
           "| class | min ink | median ink | max ink | called blank at the default |", "|---|---|---|---|---|"]
    for kind, values in shares.items():
        v = [s for _, s in values]
        called = sum(s <= DEFAULT_BLANK_MAX_INK for s in v)
        out.append(f"| {kind} | {min(v):.6f} | {statistics.median(v):.6f} | {max(v):.6f} | {called} / {len(v)} |")
    worst = max(shares["blank"], key=lambda cs: cs[1])
    inside = highest_blank <= DEFAULT_BLANK_MAX_INK < lowest_mark
    out += ["", f"Gap: highest blank {highest_blank:.6f} ({worst[0]}), lowest near-blank or text {lowest_mark:.6f} "
            f"({min((c, s) for k in ('near-blank', 'text') for c, s in shares[k] if s == lowest_mark)[0]}); "
            f"the shipped default `DEFAULT_BLANK_MAX_INK` = {DEFAULT_BLANK_MAX_INK} is "
            f"{'inside' if inside else 'OUTSIDE'} the gap.", ""]
    return out


def bench_batches(count: int, seed: int) -> list[str]:
    patients = generate_patients(50, seed=seed)
    rules = SplitRules(separator_barcode=SEPARATOR_TEXT)
    right = total = pages = 0
    mark_seconds = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for b in range(count):
            images, truth = batch_pages(patients, seed=seed * 1000 + b, documents=6)
            for suffix, media_type in ((".pdf", "application/pdf"), (".tif", "image/tiff")):
                path = save_scan(images, Path(tmp) / f"batch{b}{suffix}")
                marks = []
                for index in range(page_count(path, path.name, media_type)):
                    image = render_page(path, path.name, media_type, index, 300, 200_000_000)
                    codes = read_barcodes(image, index + 1)
                    start = time.perf_counter()
                    marks.append(mark_page(index + 1, image, codes, rules))
                    mark_seconds += time.perf_counter() - start
                    pages += 1
                parts = split_pages("-", marks, rules)
                got = {(p.pages, p.cover) for p in parts}
                right += sum((d.pages, d.cover) in got for d in truth.documents)
                total += len(truth.documents)
                extra = len(parts) - len(truth.documents)
                if extra:
                    print(f"batch {b}{suffix}: {extra:+d} parts")
            close_cached()
    return [f"### Generated batches ({count} batches x 2 formats, 6 documents each)", "",
            "| documents | split exactly right | pages | `mark_page` ms/page |", "|---|---|---|---|",
            f"| {total} | {right} ({right / total:.1%}) | {pages} | {1000 * mark_seconds / pages:.1f} |", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dpi", type=int, default=300)
    args = parser.parse_args()
    lines = ["## Batch splitting", "",
             f"`.venv/bin/python benchmarks/ingest_split.py --pages {args.pages} --batches {args.batches} "
             f"--seed {args.seed}`", ""]
    lines += bench_blank(args.pages, args.seed, args.dpi)
    if args.batches:
        lines += bench_batches(args.batches, args.seed)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
