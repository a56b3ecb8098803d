"""Speed: importing 1,000,000 patients from CSV, and matching one document against them (SQLite).

    .venv/bin/python benchmarks/patients_speed.py [--patients 1000000] [--documents 1000]

The CSV comes from `pipeline.synth.patients.generate_patients`; the import is `import_file` (what
`pipeline patients import` runs). Matching times `Matcher.match` on identifiers already extracted
from synthetic document headers (extraction is timed separately), warm, one at a time; and
`Matcher.identify` (labelled reader + header reader + match: everything per document but OCR) on
documents of the header grammar's tuned part, as text. The first call's one-off cost (counting
name frequencies for the term-frequency adjustment) is reported apart. Prints a Markdown section.
`--reuse` keeps a database already in `--workdir` (no import).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import patients_synth  # noqa: E402

from pipeline.patients.extract import extract_from_text  # noqa: E402
from pipeline.patients.importer import import_file  # noqa: E402
from pipeline.patients.matcher import Matcher  # noqa: E402
from pipeline.records import OcrPage, OcrResult  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.synth import headers  # noqa: E402
from pipeline.synth.render import ground_truth  # noqa: E402
from pipeline.store.database import make_engine, migrate  # noqa: E402
from pipeline.synth.patients import generate_patients, write_patient_csv  # noqa: E402


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def _timed(call, items: list, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock milliseconds per call, warm (the first 20 calls warm the page cache first); the
    process CPU milliseconds of each call go to `cpu` (on a shared machine, wall time also counts
    the time the process waited for a core)."""
    for item in items[:20]:
        call(item)
    times = []
    for item in items:
        c0, t0 = time.process_time(), time.perf_counter()
        call(item)
        times.append((time.perf_counter() - t0) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c0) * 1000)
    return times


def _grammar_documents(index: list[dict], n: int, seed: int) -> list[OcrResult]:
    """Documents of the grammar's tuned part as OCR results read from their text."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        doc = headers.header_document(rng.choice(index), rng, headers.TUNED, index)
        pages = tuple(OcrPage(number=i + 1, text=ground_truth([p]), confidence=-1.0) for i, p in enumerate(doc.pages))
        out.append(OcrResult(pages=pages, searchable_pdf=None, engine="text"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the CSV and database here")
    parser.add_argument("--reuse", action="store_true", help="use the database already in --workdir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        people = generate_patients(args.patients, args.seed)
        csv_path = write_patient_csv(people, work / "patients.csv")
        generate_seconds = time.perf_counter() - t0
        db = work / "manifest.db"
        url = f"sqlite:///{db}"
        import_seconds, report = 0.0, None
        if not (args.reuse and db.exists()):
            db.unlink(missing_ok=True)
            migrate(url)
            engine = make_engine(url)
            t0 = time.perf_counter()
            report = import_file(csv_path, engine)
            import_seconds = time.perf_counter() - t0
        engine = make_engine(url)

        index = [dict(zip(patients_synth.CSV_HEADER, p.csv_row(), strict=True), kind="single")
                 for p in people[:: max(1, len(people) // 20_000)]]
        docs = patients_synth.documents(index, args.documents, seed=args.seed + 1, outside_rate=0.1)
        t0 = time.perf_counter()
        identifiers = [extract_from_text(d.text) for d in docs]
        extract_ms = (time.perf_counter() - t0) / len(docs) * 1000
        matcher = Matcher.from_settings(Settings(), engine)
        t0 = time.perf_counter()
        matcher.match(identifiers[0])
        first_ms = (time.perf_counter() - t0) * 1000
        cpu: list[float] = []
        identify_cpu: list[float] = []
        times = _timed(matcher.match, identifiers, cpu)
        identify_times = _timed(matcher.identify, _grammar_documents(index, args.documents, args.seed + 2),
                                identify_cpu)
        engine.dispose()
        size_mb = db.stat().st_size / 1e6

    print(f"## Patient index speed ({args.patients:,} patients, SQLite)\n")
    print("| measure | value | goal |\n|---|---|---|")
    if report is not None:
        print(f"| CSV import of {args.patients:,} patients | {import_seconds:.1f} s "
              f"({report.imported / import_seconds:,.0f} rows/s; {report.rejected} rejected) | < 120 s |")
    print(f"| match one document (labelled identifiers): p50 / p95 / p99 | {statistics.median(times):.2f} / "
          f"{_pct(times, 95):.2f} / {_pct(times, 99):.2f} ms ({len(times)} documents) | < 10 ms |")
    print(f"| identify one document (both readers + match, no OCR): p50 / p95 / p99 | "
          f"{statistics.median(identify_times):.2f} / {_pct(identify_times, 95):.2f} / "
          f"{_pct(identify_times, 99):.2f} ms ({len(identify_times)} grammar documents) | < 10 ms |")
    print(f"| same, CPU time of the process: match p50 / p95; identify p50 / p95 | {statistics.median(cpu):.2f} / "
          f"{_pct(cpu, 95):.2f}; {statistics.median(identify_cpu):.2f} / {_pct(identify_cpu, 95):.2f} ms | |")
    print(f"| first match after start (name frequencies counted) | {first_ms:.0f} ms | |")
    print(f"| identifier extraction from a header text, mean | {extract_ms:.2f} ms | |")
    print(f"| database size | {size_mb:.0f} MB | |")
    print(f"| generating the CSV (not part of the import) | {generate_seconds:.1f} s | |")
    print(f"\nLoad average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1 / 5 / 15 min).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
