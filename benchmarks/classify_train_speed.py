"""Training time and memory for `pipeline train` on 10,000 documents.

    .venv/bin/python benchmarks/classify_train_speed.py [--documents 10000] [--long]

Builds a CSV corpus (`text,type`) of the MTSamples rows mapped to types plus generated documents
for every type until there are N documents, then runs the real command
`pipeline train CORPUS.csv --out TMP` in a child process and reports its wall time, CPU time and
peak memory (max RSS). The command trains on the training part (4/5), measures the held-out part
and writes the model file, so this is the whole cost a site sees. Prints Markdown.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.classify.corpus import DEFAULT_DATASET, mtsamples_corpus  # noqa: E402
from pipeline.classify.noise import ocr_noise  # noqa: E402
from pipeline.classify.types import load_types  # noqa: E402
from pipeline.synth.documents import generate_document  # noqa: E402


def build_csv(path: Path, documents: int, long: bool = False) -> tuple[int, float]:
    """MTSamples rows, then generated documents (or, with `long`, OCR-noised copies of MTSamples
    rows: full-length reports, about 3,000 characters each) until there are `documents`."""
    types = load_types()
    real = mtsamples_corpus(DEFAULT_DATASET, types)
    rows = list(zip(real.texts, real.labels))
    keys = types.keys()
    n = 0
    while len(rows) < documents:
        if long:
            i = n % len(real)
            rows.append((ocr_noise(real.texts[i], random.Random(f"speed:{n}"), 0.5), real.labels[i]))
        else:
            key = keys[n % len(keys)]
            rows.append((generate_document(key, random.Random(f"speed:{n}")), key))
        n += 1
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "type"])
        writer.writerows(rows[:documents])
    return len(rows[:documents]), sum(len(t) for t, _ in rows[:documents]) / documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--long", action="store_true", help="fill with noised MTSamples reports (~3,000 characters) instead of generated documents")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="train-speed-") as tmp:
        corpus = Path(tmp) / "corpus.csv"
        count, mean_chars = build_csv(corpus, args.documents, args.long)
        command = [str(ROOT / ".venv" / "bin" / "pipeline"), "--home", tmp, "train", str(corpus), "--out", str(Path(tmp) / "m.model")]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": "0"})
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        size = (Path(tmp) / "m.model").stat().st_size
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print("## Training time and memory (`pipeline train` on a CSV corpus)\n")
    print(f"Command: `.venv/bin/python benchmarks/classify_train_speed.py --documents {args.documents}{' --long' if args.long else ''}`; "
          f"load average at start {load:.1f} on {os.cpu_count()} cores.\n")
    print("| documents | mean characters | wall s | CPU s | peak memory MB | model file MB |")
    print("|---|---|---|---|---|---|")
    print(f"| {count} | {mean_chars:.0f} | {wall:.1f} | {cpu:.1f} | {after.ru_maxrss / 1024:.0f} | {size / 1e6:.1f} |")
    print("\nWall and CPU time include starting Python, reading the CSV, OCR-noise augmentation, fitting, "
          "held-out evaluation and writing the model file.")
    print("\n" + "\n".join(line for line in done.stdout.splitlines() if line.startswith("heldout")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
