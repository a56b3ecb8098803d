"""Backfill: its cost over `pipeline process` on the same files, splits, memory, and kill -9 + resume.

    .venv/bin/python benchmarks/backfill.py --documents 1000 --kills 5      # the issue's full size
    .venv/bin/python benchmarks/backfill.py --documents 30 --kills 5        # what fits a loaded 2-core machine

Generates an archive of `--documents` small documents (1-2 pages; PDF, TIFF, PNG and JPEG in turn),
a third of them inside batch files of 3-4 documents set off by patch T sheets, separator barcodes
and cover sheets (blank backs on some sheets), with the patients in the index. Then:

1. `Pipeline.process_many` over the archive's files into one home (each file one document), and a
   backfill run (`services.backfill`, the local pipeline's `process_batch`) over the same files into
   another; both wall times, and the ratio. Same workers, same machine, one after the other; and
   the time the split itself took (page marks and part cutting, timed inside the run), which is
   the overhead a quiet machine would show.
2. Splits: every batch's parts against the generated truth (the part's batch page range holds the
   document's pages and no other part's, same page count) and a filed part's MRN against the
   generated patient's.
3. Memory: the resident size (this process and its OCR workers) sampled through the backfill.
4. With `--kills N`: the same archive backfilled by the real command in a subprocess, killed with
   SIGKILL (its process group) at N seeded random moments, resumed each time, then counted: every
   lone file and every batch part exactly once in the manifest (0 lost, 0 doubled).

Prints Markdown.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from pipeline.orchestrator import Pipeline
from pipeline.patients.importer import import_file
from pipeline.services import backfill
from pipeline.services.home import read_manifest
from pipeline.settings import load_settings
from pipeline.store.tables import DocumentRow
from pipeline.synth.batches import SEPARATOR_TEXT, write_batch
from pipeline.synth.documents import DOCUMENT_TYPES, generate_document
from pipeline.synth.patients import generate_patients, write_patient_csv
from pipeline.synth.render import OFFICE_SCAN, render_pages, save_scan

LONE_SUFFIXES = (".pdf", ".tif", ".png", ".jpg")
ENV = {"PIPELINE_SPLIT_SEPARATOR_BARCODE": SEPARATOR_TEXT}


def make_archive(root: Path, documents: int, seed: int) -> tuple[dict[Path, object], int, Path]:
    """The archive; returns the batch truths, the number of lone files and the patients CSV."""
    rng = random.Random(seed)
    patients = generate_patients(100, seed=seed)
    in_batches = documents // 3
    truths: dict[Path, object] = {}
    made = 0
    while made < in_batches:
        count = min(rng.choice((3, 4)), in_batches - made)
        path = root / f"box{len(truths) // 10:02d}" / f"batch-{len(truths):03d}{rng.choice(('.pdf', '.tif'))}"
        path.parent.mkdir(parents=True, exist_ok=True)
        truths[path] = write_batch(path, patients, seed=rng.randrange(1 << 30), documents=count, max_pages=1,
                                   blank_backs=0.3)
        made += count
    lone = documents - made
    for number in range(lone):
        patient = rng.choice(patients)
        doc_type = rng.choice(DOCUMENT_TYPES)
        mapping = {"family_name": patient.family_name, "given_name": patient.given_name,
                   "birth_date": patient.birth_date, "mrn": patient.mrn, "sex": patient.sex}
        header = (f"Patient: {patient.family_name.upper()}, {patient.given_name}   "
                  f"DOB: {patient.birth_date:%m/%d/%Y}\nMRN: {patient.mrn}\n\n")
        suffix = LONE_SUFFIXES[number % len(LONE_SUFFIXES)]
        pages = 1 if suffix in (".png", ".jpg") else rng.randint(1, 2)
        texts = [header + generate_document(doc_type, rng, mapping) for _ in range(pages)]
        images = render_pages(texts, dpi=150, seed=rng.randrange(1 << 30), degrade=OFFICE_SCAN)[:pages]
        save_scan(images, root / f"box{number // 25:02d}" / f"scan-{number:04d}{suffix}")
    return truths, lone, write_patient_csv(patients, root.parent / "patients.csv")


class RssSampler(threading.Thread):
    """Resident memory of this process and its children (the OCR pool), every half second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.samples.append(_tree_rss_mb(os.getpid()))


def _tree_rss_mb(pid: int) -> float:
    total = 0
    pids, seen = [pid], 0
    while seen < len(pids):  # children, and theirs (a backfill command's OCR workers)
        children = Path(f"/proc/{pids[seen]}/task/{pids[seen]}/children")
        try:
            pids += [int(p) for p in children.read_text().split()]
        except OSError:
            pass
        seen += 1
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def timed_process(home: Path, files: list[Path], patients_csv: Path, workers: int) -> float:
    settings = load_settings(home, workers=workers, **{"split_separator_barcode": SEPARATOR_TEXT})
    with Pipeline.open(settings) as pipe:
        import_file(patients_csv, pipe.manifest.engine)
        pipe.ready()
        started = time.perf_counter()
        for _ in pipe.process_many(files):
            pass
        return time.perf_counter() - started


SPLIT_SECONDS: list[float] = []  # time spent marking pages and cutting parts, summed over threads


def _timed(fn):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SPLIT_SECONDS.append(time.perf_counter() - started)
    return wrapper


def timed_backfill(home: Path, root: Path, patients_csv: Path, workers: int) -> tuple[float, str, list[float]]:
    import pipeline.orchestrator as orchestrator

    orchestrator.mark_batch, orchestrator.cut_pages = _timed(orchestrator.mark_batch), _timed(orchestrator.cut_pages)
    settings = load_settings(home, workers=workers, split_separator_barcode=SEPARATOR_TEXT)
    sampler = RssSampler()
    with Pipeline.open(settings) as pipe:
        import_file(patients_csv, pipe.manifest.engine)
        pipe.ready()
        started = time.perf_counter()
        sampler.start()
        inputs = backfill.plan_inputs([root])
        run_id = backfill.start_run(pipe.manifest, [root], inputs, workers)
        summary = backfill.run_items(pipe.manifest, run_id, pipe.process_batch, workers=workers)
        elapsed = time.perf_counter() - started
        sampler.stop.set()
    assert summary.status == "finished", summary
    return elapsed, run_id, sampler.samples


def check_splits(home: Path, run_id: str, truths: dict[Path, object]) -> tuple[int, int, int]:
    """(parts split right, parts expected, parts filed to a wrong patient)."""
    manifest = read_manifest(load_settings(home))
    by_path = {Path(i.path).resolve(): i for i in manifest.run_items(run_id)}
    with manifest.engine.connect() as conn:
        rows = conn.execute(select(DocumentRow).where(DocumentRow.batch_sha256.is_not(None))).all()
    right = expected = wrong_patient = 0
    for path, truth in truths.items():
        sha = by_path[path.resolve()].sha256
        cut = sorted((r for r in rows if r.batch_sha256 == sha), key=lambda r: r.batch_part)
        expected += len(truth.documents)
        if len(cut) != len(truth.documents):
            continue
        previous = 0
        for row, doc in zip(cut, truth.documents, strict=True):
            right += (row.batch_first_page <= doc.pages[0] and doc.pages[-1] <= row.batch_last_page
                      and row.pages == len(doc.pages) and row.batch_first_page > previous)
            previous = row.batch_last_page
            wrong_patient += row.outcome == "filed" and row.patient_mrn != doc.mrn
    return right, expected, wrong_patient


def kill_and_resume(root: Path, patients_csv: Path, home: Path, kills: int, workers: int, seed: int,
                    lone: int, parts: int, spread: float = 60.0) -> dict:
    env = {**os.environ, **ENV, "PIPELINE_WORKERS": str(workers)}
    base = [sys.executable, "-m", "pipeline.cli", "--home", str(home)]
    subprocess.run([*base, "patients", "import", str(patients_csv)], env=env, check=True, capture_output=True)
    rng = random.Random(seed)
    log = home.parent / "kill.log"
    run_id, done = None, 0
    while done < kills:
        with log.open("a") as handle:
            proc = subprocess.Popen([*base, "backfill", *(["--resume", run_id] if run_id else [str(root)])],
                                    env=env, stdout=subprocess.DEVNULL, stderr=handle, start_new_session=True)
        deadline = time.monotonic() + 300
        while run_id is None and time.monotonic() < deadline:
            named = [l for l in log.read_text().splitlines() if l.startswith("backfill run ") and "resume" in l]
            run_id = named[0].split()[2] if named else None
            time.sleep(0.2)
        try:
            proc.wait(timeout=rng.uniform(5.0, spread))
            break
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            done += 1
    final = subprocess.run([*base, "backfill", "--resume", run_id], env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr[-2000:]
    manifest = read_manifest(load_settings(home))
    with manifest.engine.connect() as conn:
        rows = conn.execute(select(DocumentRow)).all()
    by_sha = Counter(r.sha256 for r in rows)
    by_part = Counter((r.batch_sha256, r.batch_part) for r in rows if r.batch_sha256)
    whole = sum(1 for r in rows if r.batch_sha256 is None)
    return {"kills": done, "documents": len(rows), "expected": lone + parts, "run_id": run_id,
            "doubled": sum(n - 1 for n in by_sha.values()) + sum(n - 1 for n in by_part.values()),
            "lost": max(0, lone - whole) + max(0, parts - len(by_part))}


def print_splits_and_memory(right: int, expected: int, wrong: int, rss: list[float], whose: str) -> None:
    """The report's rows for the splits and the resident memory sampled through the run."""
    print(f"| batch parts split right | {right} / {expected} ({100 * right / max(expected, 1):.1f} %) |")
    print(f"| batch parts filed to a wrong patient | {wrong} |")
    if rss:
        quarter = [rss[min(len(rss) - 1, round(q * (len(rss) - 1)))] for q in (0.1, 0.25, 0.5, 0.75, 1.0)]
        print(f"| resident memory at 10/25/50/75/100 % of the run (MB, {whose}) | "
              f"{' / '.join(f'{m:.0f}' for m in quarter)} (peak {max(rss):.0f}) |")


def kills_only(args, work: Path, root: Path, patients_csv: Path, truths, lone: int, parts: int, files: int,
               pages: int) -> None:
    """The kill -9 + resume run alone (the issue's 1,000 documents in one pass), with its splits and
    the memory of the backfill command and its OCR workers through it."""
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    counts = kill_and_resume(root, patients_csv, work / "kill-home", args.kills, args.workers, args.seed,
                             lone, parts, args.kill_spread)
    elapsed = time.perf_counter() - started
    sampler.stop.set()
    right, expected, wrong = check_splits(work / "kill-home", counts["run_id"], truths)
    print(f"## Backfill killed and resumed, {args.documents} documents ({lone} lone files, {parts} in {len(truths)} "
          f"batch files; {files} files, {pages} pages), {args.workers} workers\n")
    print("| measure | value |\n|---|---|")
    print(f"| kill -9 (process group) then --resume | {counts['kills']} kills: {counts['documents']} documents of "
          f"{counts['expected']}, {counts['lost']} lost, {counts['doubled']} doubled |")
    print(f"| wall time, all starts together | {elapsed:.0f} s ({pages / elapsed:.2f} pages/s) |")
    print_splits_and_memory(right, expected, wrong, sampler.samples, "this script, the command, its OCR workers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill-spread", type=float, default=60.0,
                        help="each kill comes 5 s to this many seconds after the (re)start (spread them over a long run)")
    parser.add_argument("--kills-only", action="store_true",
                        help="no timed process/backfill passes: only the kill -9 + resume run, its splits and memory")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    try:
        root = work / "archive"
        truths, lone, patients_csv = make_archive(root, args.documents, args.seed)
        files = [p for p in sorted(root.rglob("*")) if p.is_file()]
        parts = sum(len(t.documents) for t in truths.values())
        pages = sum(n for _, n in backfill.plan_inputs([root]))
        if args.kills_only:
            kills_only(args, work, root, patients_csv, truths, lone, parts, len(files), pages)
            return
        process_s = timed_process(work / "process-home", files, patients_csv, args.workers)
        backfill_s, run_id, rss = timed_backfill(work / "backfill-home", root, patients_csv, args.workers)
        right, expected, wrong = check_splits(work / "backfill-home", run_id, truths)
        print(f"## Backfill, {args.documents} documents ({lone} lone files, {parts} in {len(truths)} batch files; "
              f"{len(files)} files, {pages} pages), {args.workers} workers\n")
        print("| measure | value |\n|---|---|")
        print(f"| `process` over the files (each file one document) | {process_s:.1f} s ({pages / process_s:.2f} pages/s) |")
        print(f"| `backfill` over the same files (batches split) | {backfill_s:.1f} s ({pages / backfill_s:.2f} pages/s) |")
        print(f"| backfill overhead (wall, one run after the other) | {100 * (backfill_s / process_s - 1):+.1f} % |")
        print(f"| of which marking pages + cutting parts (thread time / workers) | "
              f"{sum(SPLIT_SECONDS) / args.workers:.1f} s ({100 * sum(SPLIT_SECONDS) / args.workers / process_s:.1f} %"
              " of the process time) |")
        print_splits_and_memory(right, expected, wrong, rss, "with OCR workers")
        if args.kills:
            counts = kill_and_resume(root, patients_csv, work / "kill-home", args.kills, args.workers, args.seed,
                                     lone, parts)
            print(f"| kill -9 then --resume | {counts['kills']} kills: {counts['documents']} documents of "
                  f"{counts['expected']}, {counts['lost']} lost, {counts['doubled']} doubled |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
