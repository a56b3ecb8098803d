"""The filed-record search in the review app at scale: with 10,000 items waiting in the review queue
and 1,000,000 documents filed, how long `POST /records` takes to answer a signed-in clerk with the
rendered page (search + access log entry + HTML), p50 and p95, on SQLite and on PostgreSQL.
Goal (issue 14): under 200 ms p95 on both.

The documents and their text are `store_manifest.py`'s synthetic rows (no PHI; ~10 documents per
patient over the 21 LOINC types, ~40 words of OCR-like text each), loaded the same way; the review
items are the first 10,000 of them, marked needs-review. The requests go through the real app
(`create_app`, all its middleware, a real sign-in) in-process with Starlette's TestClient, so the
figures leave out only the network and uvicorn.

    .venv/bin/python benchmarks/review_search.py                        # 1,000,000 documents, both databases
    .venv/bin/python benchmarks/review_search.py --rows 100000 --backend sqlite

Prints a Markdown section. PostgreSQL: a throwaway database next to $PIPELINE_TEST_DATABASE_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped after.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import store_manifest as corpus  # benchmarks/store_manifest.py: the same synthetic rows and bulk loaders
from fastapi.testclient import TestClient
from sqlalchemy import text

from pipeline.classify.types import load_types
from pipeline.records import Role
from pipeline.review.app import create_app
from pipeline.review.identity import ReviewConfig
from pipeline.services import users
from pipeline.settings import load_settings
from pipeline.store.accounts import Accounts
from pipeline.store.database import make_engine, migrate

WAITING = 10_000
PASSWORD = "benchmark passphrase"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def add_waiting_items(url: str, count: int) -> None:
    """The first `count` documents become needs-review, each with an open review item."""
    engine = make_engine(url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT document_id FROM documents ORDER BY filed_at LIMIT :n"),
                                          {"n": count})]
        conn.execute(text("UPDATE documents SET outcome = 'needs_review' WHERE document_id = :d"),
                     [{"d": d} for d in ids])
        conn.execute(text(
            "INSERT INTO review_items (document_id, status, created_at, reasons, match_reasons, candidates, "
            "identifiers, predicted_doc_type, revision) VALUES (:d, 'open', :at, '[]', "
            "'[\"match probability 0.500 below the auto-file threshold 0.99\"]', '[]', '{}', 'progress_note', 1)"),
            [{"d": d, "at": now - timedelta(minutes=i)} for i, d in enumerate(ids)])
    engine.dispose()


def signed_in_client(url: str, home: Path) -> TestClient:
    settings = load_settings(home, database_url=url)
    users.add_user(Accounts(make_engine(url)), "bench", Role.CLERK, PASSWORD)
    client = TestClient(create_app(settings, ReviewConfig(secret="b" * 48, allowed_hosts=("testserver",))))
    token = _CSRF.search(client.get("/login").text).group(1)
    response = client.post("/login", data={"csrf": token, "user": "bench", "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def cases(rng: random.Random) -> dict[str, Callable[[], dict[str, str]]]:
    types = [key for key, _ in corpus.TYPES if key in load_types()]  # those the search form offers

    def mrn() -> str:
        return corpus.mrn(rng.randrange(corpus.PATIENTS))

    def month() -> tuple[str, str]:
        start = date(2015, 1, 1) + timedelta(days=rng.randrange(3900))
        return start.isoformat(), (start + timedelta(days=30)).isoformat()

    def rare() -> str:
        return corpus.rare(rng.randrange(corpus.RARE))

    return {
        "patient (MRN)": lambda: {"mrn": mrn()},
        "patient + type": lambda: {"mrn": mrn(), "doc_type": rng.choice(types)},
        "type + one month of service": lambda: dict(zip(("date_from", "date_to"), month(), strict=True),
                                                    doc_type=rng.choice(types)),
        "one month of service": lambda: dict(zip(("date_from", "date_to"), month(), strict=True)),
        "words: one rare term": lambda: {"words": rare()},
        "words: rare term + common word": lambda: {"words": f"{rng.choice(corpus.COMMON)} {rare()}"},
        "words: one common word (worst case)": lambda: {"words": rng.choice(corpus.COMMON[:10])},
        "words + patient": lambda: {"words": rng.choice(corpus.COMMON), "mrn": mrn()},
        "words + type + one month": lambda: dict(zip(("date_from", "date_to"), month(), strict=True),
                                                 words=rng.choice(corpus.COMMON[:10]),
                                                 doc_type=rng.choice(types)),
        "nothing (newest 100)": lambda: {},
    }


def measure(client: TestClient, queries: int, seed: int) -> dict[str, dict[str, float]]:
    rng = random.Random(seed + 2)
    token = _CSRF.search(client.get("/records").text).group(1)
    out = {}
    for name, form in cases(rng).items():
        client.post("/records", data={"csrf": token, **form()})  # warm
        samples, found = [], 0
        for _ in range(queries):
            data = {"csrf": token, **form()}
            t0 = time.perf_counter()
            response = client.post("/records", data=data)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (name, response.status_code)
            found += response.text.count('<tr id="doc-')
        out[name] = {"p50": statistics.median(samples), "p95": corpus.p95(samples), "mean_rows": found / queries}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--waiting", type=int, default=WAITING)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    corpus.PATIENTS = max(args.rows // 10, 1)
    results = {}
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        with tempfile.TemporaryDirectory(prefix="review-search-") as scratch:
            home = Path(scratch)
            if backend == "sqlite":
                url, cleanup = f"sqlite:///{home / 'manifest.db'}", lambda: None
            else:
                url, cleanup = corpus.throwaway_postgresql()
            try:
                migrate(url)
                load = (corpus.load_sqlite if backend == "sqlite" else corpus.load_postgresql)(url, args.rows, args.seed)
                add_waiting_items(url, args.waiting)
                print(f"{backend}: loaded {args.rows} documents and {args.waiting} waiting items in {load:.0f} s",
                      file=sys.stderr)
                with signed_in_client(url, home) as client:
                    results[backend] = measure(client, args.queries, args.seed)
            finally:
                cleanup()
    print(f"### Filed-record search in the review app: {args.rows:,} documents, {args.waiting:,} waiting "
          f"({args.queries} requests each, milliseconds, rendered page)\n")
    print("| search | " + " | ".join(f"{b} p50 | {b} p95" for b in results) + " | documents listed (mean) |")
    print("|---|" + "---:|---:|" * len(results) + "---:|")
    first = next(iter(results.values()))
    for name in first:
        cells = " | ".join(f"{results[b][name]['p50']:.1f} | {results[b][name]['p95']:.1f}" for b in results)
        print(f"| {name} | {cells} | {first[name]['mean_rows']:.1f} |")
    print(f"\n<!-- {json.dumps(results)} -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
