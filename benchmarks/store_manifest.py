"""Manifest query latency at scale: p95 of "documents for patient P of type T" and of full-text
queries, on SQLite and PostgreSQL, through `Manifest.search` (the code path `pipeline search` uses).

The rows are synthetic (no PHI): one patient per 10 rows (~10 documents each) over the 21 LOINC types,
OCR-like text of ~40 words: a header for the type, common clinical words (Zipf-distributed) and
rare terms (drug / lab / place names stand-ins, uniform over 20 000). Loaded with bulk inserts
(SQLite executemany through the FTS triggers; PostgreSQL COPY, GIN index built after the load).

    .venv/bin/python benchmarks/store_manifest.py                       # 1,000,000 rows, both databases
    .venv/bin/python benchmarks/store_manifest.py --rows 100000 --backend sqlite

Prints a Markdown section. PostgreSQL: a throwaway database `pipeline_bench_<random>` next to
$PIPELINE_TEST_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from pipeline.store.database import make_engine, migrate
from pipeline.store.manifest import Manifest

TYPES = [("discharge_summary", "18842-5"), ("history_and_physical", "34117-2"), ("consult_note", "11488-4"),
         ("progress_note", "11506-3"), ("emergency_department_note", "34111-5"), ("operative_note", "11504-8"),
         ("procedure_note", "28570-0"), ("imaging_report", "18748-4"), ("laboratory_report", "11502-2"),
         ("pathology_report", "11526-1"), ("referral", "57133-1"), ("letter", "51852-2"), ("consent", "59284-0"),
         ("advance_directive", "42348-3"), ("insurance_card", "64290-0"), ("medication_list", "56445-0"),
         ("prescription", "57833-6"), ("intake_form", "64285-0"), ("outside_records", "11503-0"),
         ("roi_request", "101904-1"), ("other", "34109-9")]
COMMON = ("patient history examination blood pressure pain chest abdomen normal diagnosis treatment plan "
          "follow up medication daily dose tablet fever cough breath heart lung kidney liver infection acute "
          "chronic severe mild left right upper lower surgery procedure biopsy imaging result negative positive "
          "admitted discharged stable improved symptoms allergy signed consent insurance referral clinic "
          "hospital physician nurse laboratory specimen report impression findings recommend return weeks "
          "months years diabetes hypertension asthma pneumonia fracture").split()
RARE = 20_000
BATCH = 20_000


PATIENTS = 100_000  # set from --rows in main()


def mrn(n: int) -> str:
    return f"MRN{n:07d}"


def rare(n: int) -> str:
    return f"zq{n:05d}x"  # a made-up rare term: stands for a drug, a lab, a place


def make_text(rng: random.Random, doc_type: str) -> str:
    words = [doc_type.replace("_", " ")]
    words += [COMMON[min(int(rng.paretovariate(1.1)) - 1, len(COMMON) - 1)] for _ in range(25)]
    words += [rare(rng.randrange(RARE)) for _ in range(15)]
    return " ".join(words)


def rows(n: int, seed: int):
    rng = random.Random(seed)
    base = datetime(2015, 1, 1, tzinfo=UTC)
    for i in range(n):
        doc_type, loinc = TYPES[rng.randrange(len(TYPES))]
        patient = rng.randrange(PATIENTS)
        service = date(2015, 1, 1) + timedelta(days=rng.randrange(4000))
        filed = base + timedelta(seconds=i * 300)
        sha = f"{i:064x}"
        doc_id = str(uuid.UUID(int=rng.getrandbits(128)))
        yield (doc_id, sha, sha[:40], 150_000, "application/pdf", f"scan_{i}.pdf", f"inbox/scan_{i}.pdf",
               filed, filed, "filed", "current", patient, mrn(patient), doc_type, loinc, doc_type, 0.95, 0.999,
               88.0, 2, service, f"originals/patients/{patient}/{doc_type}/{service.year}/{doc_id}.pdf",
               f"patients/{patient}/{doc_type}/{service.year}/{doc_id}.pdf", sha, sha[:40], 160_000,
               None, None, "pipeline", "{}", "[]", "{}"), (sha, make_text(rng, doc_type))


COLUMNS = ("document_id, sha256, sha1, size, media_type, original_name, source_name, received_at, filed_at, "
           "outcome, status, patient_id, patient_mrn, doc_type, loinc, type_display, type_confidence, "
           "match_confidence, ocr_confidence, pages, date_of_service, original_key, searchable_key, "
           "searchable_sha256, searchable_sha1, searchable_size, relates_to, relates_code, filed_by, versions, "
           "reasons, source_patient_info")


def load_sqlite(url: str, n: int, seed: int) -> float:
    import sqlite3

    path = url.removeprefix("sqlite:///")
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    placeholders = ",".join("?" * 32)
    docs, texts = [], []

    def flush() -> None:
        conn.executemany(f"INSERT INTO documents ({COLUMNS}) VALUES ({placeholders})",
                         [tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in d) for d in docs])
        conn.executemany("INSERT INTO document_text (sha256, text) VALUES (?, ?)", texts)
        conn.commit()
        docs.clear()
        texts.clear()

    for doc, txt in rows(n, seed):
        docs.append(doc)
        texts.append(txt)
        if len(docs) >= BATCH:
            flush()
    flush()
    conn.execute("ANALYZE")
    conn.execute("INSERT INTO document_text_fts(document_text_fts) VALUES ('optimize')")
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def load_postgresql(url: str, n: int, seed: int) -> float:
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("DROP INDEX ix_document_text_tsv")
        with conn.cursor() as cur:
            with cur.copy(f"COPY documents ({COLUMNS}) FROM STDIN") as copy_docs:
                texts = []
                for doc, txt in rows(n, seed):
                    copy_docs.write_row(doc)
                    texts.append(txt)
            with cur.copy("COPY document_text (sha256, text) FROM STDIN") as copy_text:
                for sha_text in texts:
                    copy_text.write_row(sha_text)
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX ix_document_text_tsv ON document_text USING GIN (tsv)")
        conn.execute("ANALYZE")
    return time.perf_counter() - start


def throwaway_postgresql(*, keep: bool = False) -> tuple[str, Callable[[], None]]:
    """A new PostgreSQL database next to $PIPELINE_TEST_DATABASE_URL: (its URL, what drops it)."""
    admin_url = os.environ.get("PIPELINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"pipeline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def cleanup() -> None:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return f"{admin_url.rpartition('/')[0]}/{name}", cleanup


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def measure(manifest: Manifest, queries: int, seed: int) -> dict[str, dict[str, float]]:
    rng = random.Random(seed + 1)
    cases = {
        "patient P, type T": lambda: manifest.search(patient_mrn=mrn(rng.randrange(PATIENTS)),
                                                     doc_type=rng.choice(TYPES)[0]),
        "patient P, all types": lambda: manifest.search(patient_mrn=mrn(rng.randrange(PATIENTS))),
        "text: one rare term": lambda: manifest.search(text=rare(rng.randrange(RARE))),
        "text: two rare terms": lambda: manifest.search(text=f"{rare(rng.randrange(RARE))} {rare(rng.randrange(RARE))}"),
        "text: rare term + common word": lambda: manifest.search(text=f"{rng.choice(COMMON)} {rare(rng.randrange(RARE))}"),
        "text: one common word (worst case)": lambda: manifest.search(text=rng.choice(COMMON[:10])),
        "text + patient": lambda: manifest.search(text=rng.choice(COMMON), patient_mrn=mrn(rng.randrange(PATIENTS))),
    }
    out = {}
    for name, run in cases.items():
        run()  # warm
        samples, found = [], 0
        for _ in range(queries):
            t0 = time.perf_counter()
            found += len(run())
            samples.append((time.perf_counter() - t0) * 1000)
        out[name] = {"p50": statistics.median(samples), "p95": p95(samples), "mean_rows": found / queries}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file / PostgreSQL database")
    args = parser.parse_args()
    global PATIENTS
    PATIENTS = max(args.rows // 10, 1)
    results = {}
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "sqlite":
            args.workdir.mkdir(parents=True, exist_ok=True)
            db = args.workdir / f"store_manifest_{args.rows}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            url, cleanup = f"sqlite:///{db.resolve()}", lambda db=db: None if args.keep else db.unlink()
        else:
            url, cleanup = throwaway_postgresql(keep=args.keep)
        try:
            migrate(url)
            load = (load_sqlite if backend == "sqlite" else load_postgresql)(url, args.rows, args.seed)
            print(f"{backend}: loaded {args.rows} rows in {load:.0f} s", file=sys.stderr)
            engine = make_engine(url)
            results[backend] = {"load_seconds": load, "queries": measure(Manifest(engine), args.queries, args.seed)}
            engine.dispose()
        finally:
            cleanup()
    print(f"### Manifest queries at {args.rows:,} rows ({args.queries} queries each, milliseconds)\n")
    print("| query | " + " | ".join(f"{b} p50 | {b} p95" for b in results) + " | rows returned (mean) |")
    print("|---|" + "---:|---:|" * len(results) + "---:|")
    names = next(iter(results.values()))["queries"]
    for name in names:
        cells = " | ".join(f"{results[b]['queries'][name]['p50']:.2f} | {results[b]['queries'][name]['p95']:.2f}"
                           for b in results)
        print(f"| {name} | {cells} | {next(iter(results.values()))['queries'][name]['mean_rows']:.1f} |")
    print()
    print("Bulk load: " + ", ".join(f"{b} {r['load_seconds']:.0f} s" for b, r in results.items()))
    print(f"\n<!-- {json.dumps(results)} -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
