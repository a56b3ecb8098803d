"""Filing cost per document: `file_document` end to end (original + searchable copy stored and
verified, manifest row + OCR text + journal event in one transaction, journal copied to the store),
on the local folder store vs S3 (moto over HTTP), with SQLite and PostgreSQL manifests.

    .venv/bin/python benchmarks/store_filing.py                 # 100 documents of 250 KB (+ a 250 KB searchable copy)

Documents are random bytes standing in for scans; OCR is not run (this measures the store only).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from pipeline.records import (
    Candidate,
    Classification,
    DocumentIdentifiers,
    FilingDecision,
    IncomingDocument,
    MatchOutcome,
    OcrPage,
    OcrResult,
    Outcome,
    PatientMatch,
)
from pipeline.store.database import make_engine, migrate
from pipeline.store.filing import file_document
from pipeline.store.manifest import Manifest
from pipeline.store.objects import LocalStore

ADMIN_URL = os.environ.get("PIPELINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def make_inputs(folder: Path, n: int, size: int, seed: int) -> list[tuple[IncomingDocument, Path]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        source, searchable = folder / f"scan_{i:05d}.pdf", folder / f"ocr_{i:05d}.pdf"
        source.write_bytes(b"%PDF-1.4\n" + rng.randbytes(size))
        searchable.write_bytes(b"%PDF-1.4\n" + rng.randbytes(size))
        data = source.read_bytes()
        out.append((IncomingDocument(source, source.name, hashlib.sha256(data).hexdigest(), len(data),
                                     "application/pdf", datetime.now(UTC)), searchable))
    return out


def file_all(store, manifest: Manifest, inputs) -> list[float]:
    times = []
    chosen = Candidate(patient_id=42, mrn="MRN0042", probability=0.999)
    match = PatientMatch(MatchOutcome.AUTO_FILE, chosen, (chosen,))
    classification = Classification("discharge_summary", "18842-5", "Discharge summary", 0.95, False)
    for incoming, searchable in inputs:
        ocr = OcrResult((OcrPage(1, "discharge summary synthetic text " * 40, 90.0),), searchable, "tesseract 5.3")
        t0 = time.perf_counter()
        file_document(store=store, manifest=manifest, incoming=incoming, ocr=ocr, classification=classification,
                      identifiers=DocumentIdentifiers(date_of_service=date(2025, 5, 1)), match=match,
                      decision=FilingDecision(Outcome.FILED), versions={"pipeline": "bench"})
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--size", type=int, default=250_000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    import boto3
    from moto.server import ThreadedMotoServer

    from pipeline.store.s3 import S3Store

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    pg_name = f"pipeline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
    results = {}
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        with tempfile.TemporaryDirectory(dir=".") as work:
            root = Path(work)
            setups = {
                "local folder + SQLite": (lambda: LocalStore(root / "objects-a"), f"sqlite:///{root / 'a.db'}"),
                "S3 (moto, SSE AES256) + SQLite": (
                    lambda: _bucket(boto3, endpoint, "bench-filing", S3Store), f"sqlite:///{root / 'b.db'}"),
                "local folder + PostgreSQL": (lambda: LocalStore(root / "objects-c"),
                                              f"{ADMIN_URL.rpartition('/')[0]}/{pg_name}"),
            }
            for name, (make_store, url) in setups.items():
                migrate(url)
                engine = make_engine(url)
                inputs = make_inputs(Path(tempfile.mkdtemp(dir=work)), args.docs, args.size, seed=len(results))
                results[name] = file_all(make_store(), Manifest(engine), inputs)
                engine.dispose()
    finally:
        server.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()
    print(f"### Filing one document (file_document), {args.docs} documents, original + searchable copy of "
          f"{args.size / 1000:.0f} KB each (milliseconds)\n")
    print("| store + manifest | p50 | p95 | mean | vs local + SQLite |")
    print("|---|---:|---:|---:|---:|")
    base = statistics.mean(next(iter(results.values())))
    for name, times in results.items():
        print(f"| {name} | {statistics.median(times):.1f} | {statistics.quantiles(times, n=20)[-1]:.1f} | "
              f"{statistics.mean(times):.1f} | {statistics.mean(times) / base:.1f}x |")
    return 0


def _bucket(boto3, endpoint: str, name: str, store_class):
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return store_class(name, endpoint_url=endpoint, region="us-east-1", sse="AES256")


if __name__ == "__main__":
    sys.exit(main())
