"""Review pages at scale: p95 of the queue page, an item page, the item page's patient search and a
chart search, with 10,000 items waiting and 1,000,000 documents filed, on SQLite and PostgreSQL; and
the time to render a 300-dpi page image, first view and cached.

The filed documents are `store_manifest.py`'s synthetic rows (bulk-loaded: SQLite executemany,
PostgreSQL COPY; no OCR). The 10,000 queued documents are bulk-inserted rows too, with review items
whose identifiers, evidence and candidates (sample patients) come from one sample scan processed
for real once; they share that scan's stored objects, so every item page reads and parses a real
searchable PDF. The requests go through the web app in-process (FastAPI TestClient: routing,
dependencies, access logging, templates), after one warm-up request each.

    .venv/bin/python benchmarks/review_pages.py                            # both databases, full size
    .venv/bin/python benchmarks/review_pages.py --filed 100000 --backend sqlite
    .venv/bin/python benchmarks/review_pages.py --keep /tmp/review-bench   # measure again later, no reload

With `--keep DIR` the homes, the SQLite file and the PostgreSQL database stay (in DIR, and a database
named in DIR/BACKEND.json; drop it by hand when done), and a later run with the same DIR measures them
again without loading: the code measured is the code that runs, migrated to its newest revision.

Prints a Markdown section. PostgreSQL: a throwaway database next to $PIPELINE_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import store_manifest  # noqa: E402 - the filed rows and their loaders

from pipeline.cli import main as cli  # noqa: E402
from pipeline.review import pages  # noqa: E402
from pipeline.review.app import create_app  # noqa: E402
from pipeline.review.identity import ReviewConfig, load_secret  # noqa: E402
from pipeline.records import Role  # noqa: E402
from pipeline.services import users  # noqa: E402
from pipeline.services.home import open_home  # noqa: E402
from pipeline.store.accounts import Accounts  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "scans" / "progress_note_twin.pdf"
PAGE_300_DPI = (2550, 3300)  # a letter page scanned at 300 dpi
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
BENCH_PASSWORD = "bench password 1"


def run(*argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli(list(argv)) == 0, argv


def sample_item(scratch: Path) -> dict:
    """One sample scan processed for real (OCR once): its review item and document as JSON."""
    home = Path(tempfile.mkdtemp(prefix="sample-home-", dir=scratch))  # a kept scratch may hold an older one
    run("--home", str(home), "patients", "import", str(ROOT / "samples" / "patients.csv"))
    run("--home", str(home), "process", str(SAMPLE))
    manifest, store = open_home(load_settings(home))
    [item] = manifest.open_review_items()
    doc = manifest.get(item.document_id)
    items = manifest.dump_table("review_items")
    return {"doc": doc, "item_row": items[0], "original": store.get(doc.original_key),
            "searchable": store.get(doc.searchable_key)}


def page_300_dpi(path: Path, seed: int) -> None:
    """A 300-dpi letter page of typed-looking lines, saved as a one-page PDF."""
    rng = random.Random(seed)
    image = Image.new("L", PAGE_300_DPI, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=42)
    for line in range(60):
        words = " ".join(rng.choice(store_manifest.COMMON) for _ in range(12))
        draw.text((150, 150 + line * 50), words, fill=rng.randrange(0, 60), font=font)
    image.save(path, "PDF", resolution=300)


def load_queue(url: str, sample: dict, count: int, seed: int) -> list[int]:
    """`count` queued documents with open review items; returns the item ids."""
    rng = random.Random(seed)
    engine = create_engine(url)
    doc, row = sample["doc"], sample["item_row"]
    now = datetime.now(UTC)
    docs, items = [], []
    for n in range(count):
        document_id = str(uuid.uuid4())
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 5))
        values = doc.to_json() | {"document_id": document_id, "sha256": f"q{n:063x}", "received_at": created,
                                  "filed_at": created, "date_of_service": doc.date_of_service}
        docs.append(values)
        items.append({k: v for k, v in row.items() if k not in ("id",)} | {
            "document_id": document_id, "created_at": created, "resolved_at": None})
    from pipeline.store.tables import DocumentRow, ReviewItemRow  # the bench writes rows directly

    columns = {c.key for c in DocumentRow.__table__.columns}
    with engine.begin() as conn:
        for start in range(0, count, 2000):
            conn.execute(insert(DocumentRow), [{k: v for k, v in d.items() if k in columns}
                                               for d in docs[start:start + 2000]])
            conn.execute(insert(ReviewItemRow), items[start:start + 2000])
        conn.execute(text("ANALYZE"))
        ids = [r[0] for r in conn.execute(text("SELECT id FROM review_items WHERE status = 'open' ORDER BY id"))]
    engine.dispose()
    return ids


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def timed(call, runs: int) -> dict[str, float]:
    call()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return {"p50": statistics.median(samples), "p95": p95(samples)}


def measure(home: Path, item_ids: list[int], page_items: list[int], runs: int, seed: int) -> dict:
    from fastapi.testclient import TestClient

    rng = random.Random(seed)
    pages.CACHE.clear()  # page images of another backend's run are not first views
    manifest = open_home(load_settings(home)).manifest
    accounts = Accounts(manifest.engine, clock=manifest.clock)
    if accounts.user("bench") is None:  # a kept home has it from the first run
        users.add_user(accounts, "bench", Role.CLERK, BENCH_PASSWORD)
    app = create_app(load_settings(home), ReviewConfig(secret=load_secret(home), allowed_hosts=("testserver",)))
    out: dict[str, dict[str, float]] = {}
    with TestClient(app) as client:
        token = _CSRF.search(client.get("/login").text).group(1)
        client.post("/login", data={"csrf": token, "user": "bench", "password": BENCH_PASSWORD, "next": "/queue"})

        def get_ok(path: str) -> str:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response.text

        out["queue page (first 100 of the open items)"] = timed(lambda: get_ok("/queue"), runs)
        out["item page"] = timed(lambda: get_ok(f"/items/{rng.choice(item_ids)}"), runs)
        item = rng.choice(item_ids)
        token = _CSRF.search(get_ok(f"/items/{item}")).group(1)
        out["patient search on the item page (MRN)"] = timed(lambda: client.post(
            f"/items/{item}/patients", data={"csrf": token, "search_mrn": "83254022"}), runs)
        out["patient search on the item page (name + birth date)"] = timed(lambda: client.post(
            f"/items/{item}/patients", data={"csrf": token, "search_family": "Henson",
                                             "search_birth_date": "1950-01-01"}), runs)
        manifest = open_home(load_settings(home)).manifest
        out["chart search (patient + type, services.documents)"] = timed(lambda: manifest.search(
            patient_mrn=store_manifest.mrn(rng.randrange(store_manifest.PATIENTS)),
            doc_type=rng.choice(store_manifest.TYPES)[0]), runs)
        first, cached = [], []
        for item in page_items:
            start = time.perf_counter()
            assert client.get(f"/items/{item}/pages/1.png").status_code == 200
            first.append((time.perf_counter() - start) * 1000)
            for _ in range(5):
                start = time.perf_counter()
                assert client.get(f"/items/{item}/pages/1.png").status_code == 200
                cached.append((time.perf_counter() - start) * 1000)
        out["300-dpi page image, first view"] = {"p50": statistics.median(first), "p95": p95(first)}
        out["300-dpi page image, cached"] = {"p50": statistics.median(cached), "p95": p95(cached)}
    return out


def build(backend: str, url: str, scratch: Path, sample: dict, args: argparse.Namespace) -> tuple[Path, list, list]:
    home = scratch / f"home-{backend}"
    os.environ["PIPELINE_DATABASE_URL"] = url
    run("--home", str(home), "patients", "import", str(ROOT / "samples" / "patients.csv"))  # migrates too
    started = time.perf_counter()
    if backend == "sqlite":
        store_manifest.load_sqlite(url, args.filed, args.seed)
    else:
        store_manifest.load_postgresql(url, args.filed, args.seed)
    item_ids = load_queue(url, sample, args.open, args.seed)
    print(f"{backend}: {args.filed:,} filed + {args.open:,} queued rows loaded in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    manifest, store = open_home(load_settings(home))
    doc = sample["doc"]
    store.put(doc.original_key, sample["original"], doc.media_type)
    store.put(doc.searchable_key, sample["searchable"], "application/pdf")
    page_items = item_ids[:args.page_views]
    for n, item in enumerate(page_items):
        pdf = scratch / f"page-300dpi-{n}.pdf"
        page_300_dpi(pdf, args.seed + n)
        key = f"review/bench/page-300dpi-{n}.pdf"
        store.put(key, pdf, "application/pdf")
        document_id = manifest.review_item(item).document_id
        with manifest.engine.begin() as conn:
            conn.execute(text("UPDATE documents SET searchable_key = :k, pages = 1 WHERE document_id = :d"),
                         {"k": key, "d": document_id})
    return home, item_ids[args.page_views:], page_items


def kept_or_built(backend: str, scratch: Path, sample, args: argparse.Namespace) -> tuple[Path, list, list, object]:
    """The home to measure and what removes it after: one a `--keep` run left in `scratch`, else
    built now from `sample()` (and, with `--keep`, recorded there and left in place)."""
    record = scratch / f"{backend}.json"
    if args.keep and record.exists():
        kept = json.loads(record.read_text())
        os.environ["PIPELINE_DATABASE_URL"] = kept["url"]
        print(f"{backend}: measuring the home kept in {scratch}", file=sys.stderr, flush=True)
        return Path(kept["home"]), kept["item_ids"], kept["page_items"], lambda: None
    if backend == "sqlite":
        url, drop = f"sqlite:///{scratch / 'bench.db'}", lambda: None
    else:
        url, drop = store_manifest.throwaway_postgresql(keep=bool(args.keep))
    try:
        home, item_ids, page_items = build(backend, url, scratch, sample(), args)
    except BaseException:
        drop()
        raise
    if args.keep:
        record.write_text(json.dumps({"url": url, "home": str(home), "item_ids": item_ids, "page_items": page_items}))
        return home, item_ids, page_items, lambda: None

    def cleanup() -> None:
        shutil.rmtree(home / "objects", ignore_errors=True)
        drop()
    return home, item_ids, page_items, cleanup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--filed", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--page-views", type=int, default=10, help="300-dpi pages rendered (first views)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the loaded homes in this folder; measure them again if there")
    args = parser.parse_args()
    store_manifest.PATIENTS = max(args.filed // 10, 1)
    results, loads = {}, {}
    with (contextlib.nullcontext(str(args.keep)) if args.keep else
          tempfile.TemporaryDirectory(prefix="bench-review-")) as tmp:
        scratch = Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        sample = functools.cache(lambda: sample_item(scratch))
        for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
            home, item_ids, page_items, cleanup = kept_or_built(backend, scratch, sample, args)
            try:
                loads[backend] = [os.getloadavg()]
                results[backend] = measure(home, item_ids, page_items, args.runs, args.seed)
                loads[backend].append(os.getloadavg())
            finally:
                cleanup()
    print(f"## Review pages at scale ({args.open:,} items waiting, {args.filed:,} documents filed)\n")
    print(f"`python benchmarks/review_pages.py --filed {args.filed} --open {args.open} --backend {args.backend}`; "
          f"{args.runs} requests each after one warm-up, in-process (TestClient), p50 / p95 in ms. Load average "
          "(1 / 5 / 15 min) as each database's requests began and ended: " + "; ".join(
              f"{b} " + " -> ".join(" / ".join(f"{v:.1f}" for v in load) for load in pair) for b, pair in loads.items())
          + ".\n")
    print("| request | " + " | ".join(f"{b} p50 | {b} p95" for b in results) + " |")
    print("|---|" + "---:|---:|" * len(results))
    for name in next(iter(results.values())):
        print(f"| {name} | " + " | ".join(f"{r[name]['p50']:.0f} | {r[name]['p95']:.0f}" for r in results.values())
              + " |")
    print("\n" + json.dumps(results), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
