"""Backfill an archive: every scan under some folders, as one resumable run recorded in the manifest.

    plan_inputs(paths) -> list[(path, pages)]           the inputs (discover's rules) and their pages
    estimate(inputs, workers) -> DryRun                  `--dry-run`: files, pages, time
    start_run(manifest, paths, inputs, workers) -> id    the run and its items, all pending
    run_items(manifest, run_id, process, ...) -> RunSummary   process what is not done yet
    write_report(manifest, run_id, folder) -> (csv, json)

An item (one input file) is done when every document in it has a final outcome (filed, review,
duplicate, rejected); anything else (a passing fault raised, an outcome that is not final) leaves
it undone, and `pipeline backfill --resume RUN` tries it again. A file whose bytes are already in
the manifest (filed whole, or a batch every part of which was filed) is not processed again: the
item records the documents that hold it. Documents run `workers` at a time through `process`
(the local pipeline's `process_batch`, or a Celery task by `remote_processor`); `stop` (Ctrl-C)
ends the run after the documents in flight, which are recorded.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import NotFoundError, PipelineError
from pipeline.ingest.discover import iter_inputs
from pipeline.ingest.intake import sniff
from pipeline.ocr.raster import close_cached, page_count
from pipeline.records import BatchPart, BatchResult, ItemStatus, Outcome, ProcessResult, RunStatus
from pipeline.settings import Settings
from pipeline.store.batch_log import BackfillItem
from pipeline.store.rows import StoredDocument
from pipeline.store.manifest import Manifest
from pipeline.store.objects import sha256_of

log = logging.getLogger(__name__)

#: outcomes after which a document needs nothing more from the run
FINAL = frozenset({Outcome.FILED, Outcome.NEEDS_REVIEW, Outcome.DUPLICATE, Outcome.REJECTED})
#: the Celery task a worker runs for one input file (`pipeline/celery_app.py` defines it)
BACKFILL_TASK = "pipeline.backfill_file"
#: seconds of OCR per page on one core, for `--dry-run`'s estimate (docs/benchmarks/backfill.md)
SECONDS_PER_PAGE = 2.0
ALREADY_DONE = "already in the manifest before this attempt: not processed again"
REPORT_COLUMNS = ("file", "part", "batch_pages", "pages", "outcome", "type", "patient_mrn", "document_id",
                  "reasons")

Process = Callable[[Path], BatchResult]


@dataclass(frozen=True, slots=True)
class DryRun:
    files: int
    pages: int
    seconds: float  # estimated wall time


@dataclass(slots=True)
class Progress:
    """Counts so far, for a progress bar or a periodic line."""

    files_total: int
    pages_total: int
    files_done: int = 0
    pages_done: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # per document: filed, needs_review, ...
    undone: int = 0  # files left for a resume
    started: float = field(default_factory=time.monotonic)
    pages_at_start: int = 0  # pages done before this session (a resumed run)

    @property
    def pages_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        done = self.pages_done - self.pages_at_start
        return done / elapsed if elapsed > 0 and done > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.pages_per_second
        return (self.pages_total - self.pages_done) / rate if rate else None


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    status: RunStatus
    progress: Progress
    reasons: tuple[tuple[str, int], ...]  # the most common review / rejection reasons, with counts
    undone: tuple[str, ...]  # files to try again on resume


# ---------------------------------------------------------------------------------------- plan


def plan_inputs(paths: Sequence[Path]) -> list[tuple[Path, int]]:
    """Every input under `paths` (sub-folders too; hidden, temporary and partial files skipped),
    with its page count (0 when it cannot be read: intake will say why)."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise NotFoundError(f"no such file or folder: {', '.join(missing)}; check the path")
    try:
        return [(path, count_pages(path)) for path in iter_inputs(paths)]
    finally:
        close_cached()  # the page counter keeps the last PDF open


def count_pages(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            media_type = sniff(handle.read(4096))
        return page_count(path, path.name, media_type) if media_type else 0
    except (OSError, PipelineError, ValueError):
        return 0


def estimate(inputs: Sequence[tuple[Path, int]], workers: int) -> DryRun:
    pages = sum(pages for _, pages in inputs)
    return DryRun(len(inputs), pages, pages * SECONDS_PER_PAGE / max(1, workers))


def start_run(manifest: Manifest, paths: Sequence[Path], inputs: Sequence[tuple[Path, int]], workers: int) -> str:
    run_id = uuid.uuid4().hex[:12]
    manifest.start_run(run_id, [str(p) for p in paths], workers,
                       [(str(path.resolve()), pages) for path, pages in inputs])
    log.info("backfill run %s: %d files, %d pages", run_id, len(inputs), sum(p for _, p in inputs))
    return run_id


def find_run(manifest: Manifest, run_id: str) -> str:
    """The run named (or the latest for "last"); NotFoundError when there is none."""
    found = manifest.latest_run() if run_id == "last" else run_id
    if found is None or manifest.run_info(found) is None:
        raise NotFoundError(f"no backfill run {run_id!r}; `pipeline backfill --runs` lists them")
    return found


# ----------------------------------------------------------------------------------------- run


def run_items(manifest: Manifest, run_id: str, process: Process, *, workers: int,
              stop: threading.Event | None = None,
              on_progress: Callable[[Progress], None] | None = None) -> RunSummary:
    """Process the run's items that are not done, `workers` at a time; record each as it ends."""
    stop = stop or threading.Event()
    items = manifest.run_items(run_id)
    progress = Progress(files_total=len(items), pages_total=sum(i.pages for i in items))
    for item in items:
        if item.status is ItemStatus.DONE:
            _count(progress, item)
    progress.pages_at_start = progress.pages_done
    todo = [item for item in items if item.status is not ItemStatus.DONE]
    manifest.set_run_status(run_id, RunStatus.RUNNING)
    if on_progress:
        on_progress(progress)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="backfill") as pool:
        in_flight: dict[Future[BackfillItem], BackfillItem] = {}
        queue = iter(todo)
        while True:
            while not stop.is_set() and len(in_flight) < max(1, workers):
                item = next(queue, None)
                if item is None:
                    break
                in_flight[pool.submit(_one, manifest, item, process)] = item
            if not in_flight:
                break
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                del in_flight[future]
                done = future.result()
                manifest.finish_item(run_id, done)
                _count(progress, done)
                if on_progress:
                    on_progress(progress)
    left = manifest.run_items(run_id, not_done=True)
    status = RunStatus.FINISHED if not left else RunStatus.STOPPED
    manifest.set_run_status(run_id, status)
    log.info("backfill run %s %s: %d files done, %d left", run_id, status, progress.files_done, len(left))
    return RunSummary(run_id, status, progress, _top_reasons(manifest.run_items(run_id)),
                      tuple(item.path for item in left))


def _one(manifest: Manifest, item: BackfillItem, process: Process) -> BackfillItem:
    """One input file to a recorded item; never raises (a failure leaves it undone)."""
    path = Path(item.path)
    try:
        sha256 = sha256_of(path)[0]
        held = already_done(manifest, sha256, item.path)
        result = held if held is not None else process(path)
    except FileNotFoundError:
        return BackfillItem(item.path, item.pages, ItemStatus.DONE, None,
                            error="the file is gone from the archive; nothing was filed from it")
    except Exception as exc:  # noqa: BLE001 - a passing fault or a bug: the item is tried again on resume
        log.warning("backfill: %s left undone (%s)", _tag(item.path), type(exc).__name__,
                    exc_info=log.isEnabledFor(logging.DEBUG))
        return BackfillItem(item.path, item.pages, ItemStatus.UNDONE, None, error=type(exc).__name__)
    final = all(r.status in FINAL for r in result.results)
    return BackfillItem(item.path, result.pages or item.pages, ItemStatus.DONE if final else ItemStatus.UNDONE,
                        result.sha256 or sha256, tuple(result.to_json()["documents"]))


def already_done(manifest: Manifest, sha256: str, source: str) -> BatchResult | None:
    """The documents that already hold these bytes (filed whole, or every part of a split batch)."""
    document_id = manifest.find_duplicate(sha256)
    if document_id is not None:
        return BatchResult(source, sha256, 0, (_held(manifest.get(document_id), source),), (None,))
    batch = manifest.batch(sha256)
    if batch is None or batch.completed_at is None:
        return None
    docs = manifest.batch_parts(sha256)
    parts = tuple(BatchPart(sha256, d.batch_part or 0, (), d.batch_first_page or 0, d.batch_last_page or 0)
                  for d in docs)
    return BatchResult(source, sha256, batch.pages, tuple(_held(d, source) for d in docs), parts)


def _held(doc: StoredDocument, source: str) -> ProcessResult:
    return ProcessResult(source, doc.document_id, doc.outcome, doc_type=doc.doc_type, loinc=doc.loinc,
                         type_confidence=doc.type_confidence, patient_mrn=doc.patient_mrn,
                         match_confidence=doc.match_confidence, pages=doc.pages,
                         reasons=(*doc.reasons, ALREADY_DONE))


def _count(progress: Progress, item: BackfillItem) -> None:
    if item.status is ItemStatus.DONE:
        progress.files_done += 1
        progress.pages_done += item.pages
        progress.outcomes.update(str(r.get("status")) for r in item.results)
    else:
        progress.undone += 1


def _top_reasons(items: Iterable[BackfillItem], top: int = 5) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for item in items:
        for row in item.results:
            if row.get("status") in (Outcome.NEEDS_REVIEW, Outcome.REJECTED):
                counts.update(_reason_kind(r) for r in row.get("reasons") or () if r != ALREADY_DONE)
    return tuple(counts.most_common(top))


def _reason_kind(reason: str) -> str:
    """A reason without the file name it may start with (names may name patients)."""
    head, sep, rest = reason.partition(": ")
    return rest if sep and "." in head else reason


def _tag(path: str) -> str:
    """A path in a log line: its hash, since scanners name files after patients."""
    return f"file {hashlib.sha256(path.encode()).hexdigest()[:12]}"


# -------------------------------------------------------------------------------------- report


def report_rows(items: Iterable[BackfillItem]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        documents = item.results or ({"status": str(item.status), "reasons": [item.error] if item.error else []},)
        for doc in documents:
            first_last = doc.get("batch_pages")
            rows.append({
                "file": item.path,
                "part": doc.get("part"),
                "batch_pages": f"{first_last[0]}-{first_last[1]}" if first_last else None,
                "pages": doc.get("pages", item.pages),
                "outcome": doc.get("status"),
                "type": doc.get("doc_type"),
                "patient_mrn": doc.get("patient_mrn"),
                "document_id": doc.get("document_id"),
                "reasons": list(doc.get("reasons") or ()),
            })
    return rows


def write_report(manifest: Manifest, run_id: str, folder: Path) -> tuple[Path, Path]:
    """The run's report as CSV and JSON (one row per document: file, part, pages, outcome, type,
    patient MRN, reasons) in `folder`; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = report_rows(manifest.run_items(run_id))
    csv_path, json_path = folder / f"backfill-{run_id}.csv", folder / f"backfill-{run_id}.json"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "reasons": "; ".join(row["reasons"])})
    json_path.write_text(json.dumps({"run": run_id, "documents": rows}, indent=1) + "\n", encoding="utf-8")
    return csv_path, json_path


# ------------------------------------------------------------------------------ remote workers


def remote_processor(settings: Settings) -> Process:
    """`process` through Celery workers (`PIPELINE_WORKER_MODE=celery`): one task per input file,
    sent by name to the queue `pipeline worker` consumes; waits for its result."""
    from celery import Celery

    client = Celery("pipeline-backfill", broker=settings.celery_broker_url, backend=settings.celery_broker_url)
    client.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                       broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout})

    def process(path: Path) -> BatchResult:
        sent = client.send_task(BACKFILL_TASK, (str(path.resolve()),), queue=settings.celery_queue,
                                argsrepr="(path withheld)")
        return BatchResult.from_json(sent.get(timeout=RESULT_TIMEOUT_SECONDS, propagate=True))

    return process


#: how long one file may take in a worker before the submitter gives up on it (it stays undone)
RESULT_TIMEOUT_SECONDS = 3600
