"""Synthetic data and ingest speed: patients, scan rendering, intake hashing, watcher latency.

    .venv/bin/python benchmarks/synth_ingest.py [--patients 1000000] [--intake-mb 200] [--drops 20]

Prints a Markdown section. Timings on a shared machine are noisy: read them as ratios (e.g.
intake against bare hashlib on the same file), not as absolutes.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from pipeline.ingest.intake import intake
from pipeline.ingest.watcher import watch
from pipeline.synth.patients import generate_patients, write_patient_csv
from pipeline.synth.render import CLEAN, FAX, OFFICE_SCAN, POOR, render_pages, save_scan

PAGE = "\n".join(
    ["# Progress Note", "> Patient: HUFF, JUDITH", "> DOB: 04/17/1973    MRN: 75455531", ""]
    + ["Hypertension, well controlled on lisinopril. Continue the current dose and recheck in three months. "
       "Patient reports good adherence and no side effects; home readings are in the normal range."] * 12
)


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def bench_patients(n: int, work: Path) -> list[str]:
    rows = ["| patients | generate (s) | patients/s | write CSV (s) | CSV size (MB) |", "|---|---|---|---|---|"]
    for size in sorted({10_000, 100_000, n}):
        seconds, patients = timed(generate_patients, size, 1, duplicate_rate=0.05)
        csv_seconds, path = timed(write_patient_csv, patients, work / f"p{size}.csv")
        rows.append(f"| {size:,} | {seconds:.2f} | {size / seconds:,.0f} | {csv_seconds:.2f} | "
                    f"{path.stat().st_size / 1e6:.1f} |")
        del patients
    return rows


def bench_render(work: Path) -> list[str]:
    rows = ["| degradation | dpi | render ms/page | PDF KB/page | TIFF KB/page |", "|---|---|---|---|---|"]
    for name, degrade in (("clean", CLEAN), ("office scan", OFFICE_SCAN), ("fax", FAX), ("poor", POOR)):
        for dpi in (200, 300):
            seconds = []
            for seed in range(3):
                s, images = timed(render_pages, [PAGE], dpi=dpi, seed=seed, degrade=degrade)
                seconds.append(s)
            pdf = save_scan(images, work / "r.pdf", jpeg_quality=60)
            tif = save_scan(images, work / "r.tif", jpeg_quality=60)
            rows.append(f"| {name} | {dpi} | {statistics.median(seconds) * 1000:.0f} | "
                        f"{pdf.stat().st_size / 1024:.0f} | {tif.stat().st_size / 1024:.0f} |")
    return rows


def bench_intake(megabytes: int, work: Path) -> list[str]:
    path = work / "big.pdf"
    block = bytes(range(256)) * 4096  # 1 MiB
    with path.open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        for _ in range(megabytes):
            handle.write(block)
        handle.write(b"\nstartxref\n0\n%%EOF\n")
    size_mb = path.stat().st_size / 1e6
    now = datetime.now(UTC)

    def bare() -> str:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    bare_s = min(timed(bare)[0] for _ in range(3))
    intake_s = min(timed(intake, path, now)[0] for _ in range(3))
    return [
        "| file | bare hashlib SHA-256 (s) | intake (s) | intake MB/s | intake / bare |",
        "|---|---|---|---|---|",
        f"| {size_mb:.0f} MB PDF (warm cache) | {bare_s:.3f} | {intake_s:.3f} | {size_mb / intake_s:.0f} | "
        f"{intake_s / bare_s:.2f} |",
    ]


def bench_watcher(drops: int, settle: float, work: Path) -> list[str]:
    inbox = work / "inbox"
    inbox.mkdir()
    seen: dict[str, float] = {}
    done = threading.Condition()

    def handle(path: Path) -> None:
        with done:
            seen[path.name] = time.monotonic()
            done.notify_all()

    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(inbox, handle),
                              kwargs={"settle_seconds": settle, "poll_seconds": 0.05, "stop": stop})
    thread.start()
    latencies = []
    try:
        for i in range(drops):
            name = f"scan_{i:04d}.pdf"
            dropped = time.monotonic()
            (inbox / name).write_bytes(b"%PDF-1.4\n%%EOF\n")
            with done:
                if not done.wait_for(lambda n=name: n in seen, timeout=30):
                    raise RuntimeError(f"{name} was not handled within 30 s")
            latencies.append(seen[name] - dropped)
    finally:
        stop.set()
        thread.join()
    return [
        "| settle_seconds | poll_seconds | files | median drop-to-handle (s) | max (s) | overhead past settle (s) |",
        "|---|---|---|---|---|---|",
        f"| {settle} | 0.05 | {drops} | {statistics.median(latencies):.3f} | {max(latencies):.3f} | "
        f"{statistics.median(latencies) - settle:.3f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--intake-mb", type=int, default=200)
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--settle", type=float, default=0.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sections = [
            ("Synthetic patients (`generate_patients`, 5% duplicates, then `write_patient_csv`)",
             bench_patients(args.patients, work)),
            ("Rendering one text page to a scan (`render_pages`, median of 3; saved at JPEG quality 60)",
             bench_render(work)),
            ("Intake: one streamed read for SHA-256, sniffing and the completeness checks",
             bench_intake(args.intake_mb, work)),
            ("Watcher: a file written into the inbox until `handle` is called (real watchdog observer)",
             bench_watcher(args.drops, args.settle, work)),
        ]
    print("## Synthetic data and ingest\n")
    print(f"`.venv/bin/python benchmarks/synth_ingest.py --patients {args.patients} --intake-mb {args.intake_mb} "
          f"--drops {args.drops} --settle {args.settle}`\n")
    for title, rows in sections:
        print(f"### {title}\n")
        print("\n".join(rows))
        print()


if __name__ == "__main__":
    main()
