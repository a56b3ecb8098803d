"""Scaled-out processing: the same orchestrator behind Celery workers on Redis.

`pipeline worker` runs a worker (thread pool: the OCR process pool lives in the worker process);
`pipeline process` with `PIPELINE_WORKER_MODE=celery` sends each file as a task (a batch is split in
the worker) and prints the results in the order sent. Workers and the submitter share the database, the object store (S3 or a
shared folder) and the input paths. Nothing here is configured at import time: `configure()` does it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from celery import Celery, Task

from pipeline.faults import RetryPolicy, passing_fault
from pipeline.ingest.batchfile import whole_file
from pipeline.ingest.names import name_tag
from pipeline.records import BatchResult, Outcome
from pipeline.services.backfill import BACKFILL_TASK
from pipeline.settings import Settings, load_settings

log = logging.getLogger(__name__)

app = Celery("pipeline")

_state: dict[str, object] = {}
_state_lock = threading.Lock()

#: the task `pipeline process` sends per file (it returned one document, as `pipeline.process_document`,
#: before batches were split: a new name, so a worker and a submitter of different versions never
#: misread each other's results)
PROCESS_TASK = "pipeline.process_file"
#: how long `submit_and_wait` waits for one file's result before giving up on the run
RESULT_TIMEOUT_SECONDS = 3600
#: the longest wait before a task hit by a passing fault runs again (also at most half the visibility
#: timeout: Redis hands a task whose countdown outlasts it to a second worker)
CELERY_MAX_RETRY_DELAY = 300.0


def configure(settings: Settings) -> Celery:
    app.conf.update(
        broker_url=settings.celery_broker_url,
        result_backend=settings.celery_broker_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a worker that dies mid-document leaves the task for another
        # ... once the broker gives it back: Redis does after this long without an acknowledgement
        broker_transport_options=transport_options(settings),
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.celery_queue,
    )
    with _state_lock:
        _state["settings"] = settings
    return app


def transport_options(settings: Settings) -> dict[str, float]:
    """Redis: a task unacknowledged for `celery_visibility_timeout` (its worker died) goes back to the
    queue when a running worker scans for such tasks. kombu's timer fires every 10 s but scans only
    every 10th time (`unacked_restore_throttle`), so the task waited up to 100 s more; now every time."""
    return {"visibility_timeout": settings.celery_visibility_timeout, "unacked_restore_throttle": 1}


def _settings() -> Settings:
    with _state_lock:
        if "settings" not in _state:
            _state["settings"] = load_settings()
        return _state["settings"]  # type: ignore[return-value]


def _pipeline():
    """The worker's pipeline, opened on its first task. It tries each file once: the task, not the
    pipeline, waits out a passing fault (`_until_done`), so the worker thread is free meanwhile."""
    from pipeline.orchestrator import Pipeline

    settings = _settings()
    with _state_lock:
        if "pipeline" not in _state:
            pipeline = Pipeline.open(settings).ready()
            pipeline.retry_policy = RetryPolicy(attempts=1)
            _state["pipeline"] = pipeline
        return _state["pipeline"]


@app.task(name=PROCESS_TASK, bind=True)
def process_file(self: Task, path: str) -> dict:
    """One file of `pipeline process` (`Pipeline.process_file`: a batch split into its documents);
    a passing fault is retried by the task (`_until_done`); the result is the file's `BatchResult` JSON."""
    return _until_done(self, Path(path)).to_json()


@app.task(name=BACKFILL_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def backfill_file(self: Task, path: str) -> dict:
    """One input file of a backfill run: a batch split into its documents, or one document. A
    worker killed mid-task leaves it unacknowledged, so another worker takes it (`acks_late`,
    `reject_on_worker_lost`); a passing fault is retried by the task (`_until_done`); parts filed
    before are found, not filed twice."""
    return _until_done(self, Path(path)).to_json()


def _until_done(task: Task, path: Path) -> BatchResult:
    """One attempt at the file. A passing fault (`faults.passing_fault`: locked or unreachable
    database, full disk, unreachable store, a dead OCR worker), whether raised or returned as an
    `undone` result, sends the task back to the queue after a jittered, doubling wait (any worker may
    take it), up to `celery_fault_retries` times; after the last the undone result is returned: the
    file is untouched where it was, and the submitter reports it undone (exit 12). Input defects are
    outcomes of the first attempt (rejected), never retried; any other error fails the task."""
    from pipeline.orchestrator import undone_result

    try:
        batch = _pipeline().process_file(path)
        reason = next((r.reasons[0] for r in batch.results if r.status is Outcome.UNDONE), None)
    except Exception as exc:
        reason = passing_fault(exc)
        if reason is None:
            raise
        batch = whole_file(undone_result(path, reason))
    if reason is None:
        return batch
    settings = _settings()
    tries = task.request.retries
    if tries >= settings.celery_fault_retries:
        log.warning("task %s: input %s still undone after %d retries; left where it was", task.request.id,
                    name_tag(path), tries)
        return batch
    wait = celery_retry_policy(settings).jittered_delay_after(tries + 1)
    log.warning("task %s: input %s met a passing fault; retry %d of %d in %.1f s", task.request.id,
                name_tag(path), tries + 1, settings.celery_fault_retries, wait)
    raise task.retry(countdown=wait, max_retries=settings.celery_fault_retries)


def celery_retry_policy(settings: Settings) -> RetryPolicy:
    """The waits between a task's tries: from `fault_retry_delay`, doubling, at most 5 minutes and
    half the visibility timeout (a countdown held past it would hand the task to a second worker)."""
    return RetryPolicy(attempts=settings.celery_fault_retries + 1, first_delay=settings.fault_retry_delay,
                       max_delay=min(CELERY_MAX_RETRY_DELAY, settings.celery_visibility_timeout / 2))


def submit_and_wait(paths: Iterable[Path], settings: Settings) -> Iterator[BatchResult]:
    """Each file as a `process_file` task; its result (every document of the file) in the order sent."""
    configure(settings)
    pending = [process_file.apply_async((str(path),), argsrepr=_argsrepr(path))
               for path in (Path(p).resolve() for p in paths)]
    for async_result in pending:
        yield BatchResult.from_json(async_result.get(timeout=RESULT_TIMEOUT_SECONDS))


def _argsrepr(path: Path) -> str:
    """What Celery shows of a task's arguments (events, monitors): a hash, as scanners name files after patients."""
    return f"(path sha256 {hashlib.sha256(str(path).encode()).hexdigest()[:12]},)"


class WithholdPatientData(logging.Filter):
    """Celery logs each task's return value on success and the exception text on failure; ours name the
    input file (scanners name files after patients) and the MRN. The document id is logged by the
    orchestrator; the result itself stays in the result backend."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            args = dict(record.args)
            if "return_value" in args:
                args["return_value"] = "(result withheld from the log: it names the patient)"
            if "exc" in args:
                args["exc"] = type(record.exc_info[1]).__name__ if record.exc_info else "(withheld)"
                if not logging.getLogger("pipeline").isEnabledFor(logging.DEBUG):
                    record.exc_info, record.exc_text = None, None  # traceback only with debug logging
            record.args = args
        return True


def run_worker(settings: Settings, *, concurrency: int | None = None) -> int:
    configure(settings)
    logging.getLogger("celery.app.trace").addFilter(WithholdPatientData())
    argv = ["worker", "--pool=threads", f"--queues={settings.celery_queue}", f"--concurrency={concurrency or settings.worker_count}",
            "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname=pipeline@%h"]
    app.worker_main(argv)
    return 0
