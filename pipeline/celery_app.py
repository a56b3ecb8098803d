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

from celery import Celery

from pipeline.errors import StorageError
from pipeline.records import BatchResult
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


def configure(settings: Settings) -> Celery:
    app.conf.update(
        broker_url=settings.celery_broker_url,
        result_backend=settings.celery_broker_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a worker that dies mid-document leaves the task for another
        # ... once the broker gives it back: Redis does after this long without an acknowledgement
        broker_transport_options={"visibility_timeout": settings.celery_visibility_timeout},
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.celery_queue,
    )
    with _state_lock:
        _state["settings"] = settings
    return app


def _pipeline():
    from pipeline.orchestrator import Pipeline

    with _state_lock:
        if "pipeline" not in _state:
            settings = _state.get("settings") or load_settings()
            _state["pipeline"] = Pipeline.open(settings).ready()  # type: ignore[arg-type]
        return _state["pipeline"]


@app.task(name=PROCESS_TASK)
def process_file(path: str) -> dict:
    """One file of `pipeline process` (`Pipeline.process_file`: a batch split into its documents,
    passing faults retried, then undone); the result is the file's `BatchResult` JSON."""
    return _pipeline().process_file(Path(path)).to_json()  # type: ignore[attr-defined]


@app.task(name=BACKFILL_TASK, acks_late=True, reject_on_worker_lost=True, autoretry_for=(StorageError,),
          retry_backoff=True, retry_backoff_max=300, max_retries=8)
def backfill_file(path: str) -> dict:
    """One input file of a backfill run: a batch split into its documents, or one document. A
    worker killed mid-task leaves it unacknowledged, so another worker takes it (`acks_late`,
    `reject_on_worker_lost`); a passing fault (StorageError: locked database, full disk,
    unreachable store) is retried with backoff; parts filed before are found, not filed twice."""
    return _pipeline().process_batch(Path(path)).to_json()  # type: ignore[attr-defined]


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
