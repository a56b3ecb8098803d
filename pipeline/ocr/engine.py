"""The OCR engine: every page of every document in flight through one shared process pool.

    recognize(doc, workdir)
      probe (page count, encrypted? damaged?)      -- in a worker: pdfium is not thread-safe
      -> limits (pages)                            -- LimitExceededError
      -> pages, a few at a time per document       -- worker.process_page: render one page,
                                                      text layer or deskew + Tesseract + OSD,
                                                      barcodes, one-page PDF
      -> searchable PDF (pdfout.assemble)          -- written into workdir
      -> confidence and reasons                    -- "unreadable text: ..." is a value, not an error

A one-page image file met while no pool is running (`pipeline ocr FILE`) is read in the calling
process instead: no pool is started for it. The orchestrator starts the pool at once and calls
`recognize` from several threads at once (one per document in flight); all
of them share the engine's pool of `settings.worker_count` single-threaded processes, so the
machine's cores stay busy with pages whatever the mix of documents. Each document keeps at most
`2 x workers` pages queued, so a long document does not starve the others and a failure stops it
early; memory stays flat with the page count because a page image lives only in its worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pipeline.errors import (
    CorruptFileError,
    LimitExceededError,
    PipelineError,
    UnsupportedFormatError,
)
from pipeline.ocr import pdfout, raster, tesseract, worker
from pipeline.records import IncomingDocument, OcrPage, OcrResult
from pipeline.settings import OcrMode, OrientationMode, Settings

log = logging.getLogger(__name__)

#: A page still running this long after its time limit is stuck where no timeout reaches (inside
#: pdfium's renderer); the watchdog stops its worker process. Tesseract's own timeout comes first.
KILL_GRACE = 10.0
#: How often a document waiting on its pages looks for a stuck one.
WATCH_SECONDS = 1.0


class OcrEngine:
    """Tesseract OCR over a shared process pool; safe to call from several threads at once."""

    def __init__(
        self,
        *,
        languages: str = "eng",
        mode: OcrMode = OcrMode.AUTO,
        orientation: OrientationMode = OrientationMode.AUTO,
        deskew: bool = True,
        dpi: int = 300,
        page_timeout: float = 120.0,
        max_pages: int = 2000,
        max_pixels: int = 200_000_000,
        min_confidence: float = 45.0,
        searchable_pdf: bool = True,
        workers: int = 1,
    ) -> None:
        self.languages = languages
        self.mode = OcrMode(mode)
        self.orientation = OrientationMode(orientation)
        self.deskew = deskew
        self.dpi = dpi
        self.page_timeout = page_timeout
        self.max_pages = max_pages
        self.max_pixels = max_pixels
        self.min_confidence = min_confidence
        self.searchable_pdf = searchable_pdf
        self.workers = max(1, workers)
        if self.mode is OcrMode.SKIP:
            self.engine_name = "pdfium (OCR off)"
        else:
            self.engine_name = f"tesseract {tesseract.tesseract_version()}"
            tesseract.check_languages(languages)
        self._pool: ProcessPoolExecutor | _InlineExecutor | None = None
        self._lock = threading.Lock()
        self._here = threading.Lock()  # held while a one-page file is read in this process
        self._closed = False
        self._restarts = 0  # pools the watchdog has replaced

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            languages=settings.ocr_languages,
            mode=settings.ocr_mode,
            orientation=settings.ocr_orientation,
            deskew=settings.ocr_deskew,
            dpi=settings.ocr_dpi,
            page_timeout=settings.ocr_page_timeout,
            max_pages=settings.ocr_max_pages,
            max_pixels=settings.ocr_max_pixels,
            min_confidence=settings.ocr_min_confidence,
            searchable_pdf=settings.ocr_searchable_pdf,
            workers=settings.worker_count,
        )

    # ---------------------------------------------------------------------------------- public

    def recognize(self, doc: IncomingDocument, workdir: Path) -> OcrResult:
        """OCR every page of `doc`; the searchable PDF (if made) is written into `workdir`."""
        name = doc.original_name or doc.source.name
        if doc.media_type not in raster.MEDIA_TYPES:
            raise UnsupportedFormatError(
                f"{name}: {doc.media_type} cannot be OCR'd; send a PDF, TIFF, PNG or JPEG"
            )
        started = time.monotonic()
        workdir.mkdir(parents=True, exist_ok=True)
        for attempt in (1, 2):
            restarts = self._restarts
            scratch = Path(tempfile.mkdtemp(prefix=f"ocr-{doc.sha256[:12]}-", dir=workdir))
            try:
                outputs = self._read_here(doc, name, scratch)
                if outputs is None:
                    count = self._call(worker.probe, doc.source, name, doc.media_type).result().pages
                    self._check_page_count(name, count)
                    outputs = self._run_pages(doc, name, count, scratch)
                pages = tuple(out.page for out in outputs)
                searchable = self._searchable(doc, outputs, workdir)
                break
            except BrokenProcessPool as exc:
                self._drop_broken_pool()
                if attempt == 1 and self._restarts != restarts:
                    # the watchdog stopped a worker stuck on another document's page: not ours
                    log.info("document %s: OCR pool restarted under it; reading it again",
                             doc.sha256[:12])
                    continue
                raise PipelineError(
                    f"{name}: an OCR worker process died while reading it; process it again, and "
                    "if it happens again, rescan or re-export the document"
                ) from exc
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        result = OcrResult(pages=pages, searchable_pdf=searchable, engine=self.engine_name,
                           reasons=self._reasons(pages))
        log.info("document %s: %d page(s) in %.1f s, confidence %.0f%s",
                 doc.sha256[:12], len(pages), time.monotonic() - started, result.confidence,
                 f" ({'; '.join(result.reasons)})" if result.reasons else "")
        return result

    def start(self) -> None:
        """Start the worker processes now (they take a moment), rather than at the first page."""
        self._get_pool()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -------------------------------------------------------------------------------- internals

    def _check_page_count(self, name: str, count: int) -> None:
        if count < 1:
            raise CorruptFileError(f"{name}: the document has no pages; rescan it")
        if count > self.max_pages:
            raise LimitExceededError(
                f"{name}: {count} pages is over the limit of {self.max_pages} "
                "(PIPELINE_OCR_MAX_PAGES); split the document and drop the parts in again"
            )

    def _job(self, doc: IncomingDocument, name: str, scratch: Path, index: int) -> worker.PageJob:
        return worker.PageJob(source=doc.source, name=name, media_type=doc.media_type,
                              index=index, scratch=scratch,
                              make_pdf=self.searchable_pdf and self.mode is not OcrMode.SKIP,
                              mode=self.mode, orientation=self.orientation, deskew=self.deskew,
                              languages=self.languages, dpi=self.dpi,
                              page_timeout=self.page_timeout, max_pixels=self.max_pixels)

    def _read_here(self, doc: IncomingDocument, name: str,
                   scratch: Path) -> list[worker.PageOutput] | None:
        """A one-page image file, while no pool is running, is read in this process: None if not.

        Starting the pool (spawned interpreters importing Pillow, pdfium, pikepdf) costs about as
        much as the page, and `pipeline ocr FILE`, `classify FILE` and `match --document` read one
        file (docs/benchmarks/ocr.md, "One file"). One such read at a time; a second thread meanwhile
        uses the pool. A PDF always goes to the pool: only a worker process can be stopped when
        pdfium hangs on a page.
        """
        if doc.media_type not in raster.IMAGE_TYPES:
            return None
        with self._lock:
            if self._closed:
                raise PipelineError("the OCR engine is closed")
            if self._pool is not None:
                return None
        if not self._here.acquire(blocking=False):
            return None
        try:
            worker.guard_pixels(self.max_pixels)
            if worker.probe(doc.source, name, doc.media_type).pages != 1:
                return None
            return [worker.process_page(self._job(doc, name, scratch, 0))]
        finally:
            self._here.release()

    def _run_pages(self, doc: IncomingDocument, name: str, count: int,
                   scratch: Path) -> list[worker.PageOutput]:
        jobs = [self._job(doc, name, scratch, i) for i in range(count)]
        results: dict[int, worker.PageOutput] = {}
        pending: dict[Future[worker.PageOutput], int] = {}
        window = 2 * self.workers
        next_job = 0
        try:
            while next_job < len(jobs) or pending:
                while next_job < len(jobs) and len(pending) < window:
                    pending[self._call(worker.process_page, jobs[next_job])] = next_job
                    next_job += 1
                done, _ = wait(pending, timeout=WATCH_SECONDS, return_when=FIRST_COMPLETED)
                if not done:
                    self._stop_stuck_page(name, scratch)
                for future in done:
                    index = pending.pop(future)
                    results[index] = future.result()
        finally:
            for future in pending:
                future.cancel()
        return [results[i] for i in range(count)]

    def _stop_stuck_page(self, name: str, scratch: Path) -> None:
        """Stop the worker on a page of this document that is far past its time limit."""
        for marker in scratch.glob("p*.running"):
            try:
                age = time.time() - marker.stat().st_mtime
                pid = int(marker.read_text())
            except (OSError, ValueError):
                continue  # the page just finished, or the worker is writing the marker
            if age < self.page_timeout + KILL_GRACE:
                continue
            page = int(marker.stem[1:])
            self._restart_pool(pid)
            raise LimitExceededError(
                f"{name}: page {page} was still being read after {age:.0f} s "
                f"(limit {self.page_timeout:.0f} s, PIPELINE_OCR_PAGE_TIMEOUT) and was stopped; "
                "the page is too complex to render: rescan or re-export it as an image PDF, "
                "or raise the limit"
            )

    def _restart_pool(self, pid: int) -> None:
        """Kill worker `pid` of the current pool and start afresh (other documents retry)."""
        with self._lock:
            pool = self._pool
            processes = getattr(pool, "_processes", None) or {}
            if pool is None or pid not in processes:
                return
            self._pool = None
            self._restarts += 1
        log.warning("OCR worker %d stopped: a page ran past its time limit", pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        pool.shutdown(wait=False, cancel_futures=True)

    def _searchable(self, doc: IncomingDocument, outputs: list[worker.PageOutput],
                    workdir: Path) -> Path | None:
        if not self.searchable_pdf or self.mode is OcrMode.SKIP:
            return None
        parts: list[pdfout.PagePart] = []
        for out in outputs:
            if out.part is None:
                return None
            parts.append(out.part)
        target = workdir / f"{doc.sha256[:16]}.searchable.pdf"
        original = doc.source if doc.media_type == raster.PDF else None
        return pdfout.assemble(parts, original, target)

    def _reasons(self, pages: tuple[OcrPage, ...]) -> tuple[str, ...]:
        words = sum(len(p.words) for p in pages)
        has_text = any(p.text.strip() for p in pages)
        if self.mode is OcrMode.SKIP and not has_text:
            return ("no text: OCR is off (PIPELINE_OCR_MODE=skip) and the document has no "
                    "text layer",)
        if words == 0:
            return ("unreadable text: no words found",)
        confidence = OcrResult(pages=pages, searchable_pdf=None, engine="").confidence
        if confidence < self.min_confidence:
            return (f"unreadable text: mean word confidence {confidence:.0f} < "
                    f"{self.min_confidence:.0f}",)
        return ()

    def _call(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._get_pool().submit(fn, *args)

    def _get_pool(self) -> ProcessPoolExecutor | _InlineExecutor:
        with self._lock:
            if self._closed:
                raise PipelineError("the OCR engine is closed")
            if self._pool is None and multiprocessing.current_process().daemon:
                # A daemonic process (a Celery prefork child) may not start children: run pages
                # here, one at a time, instead.
                log.info("OCR runs in-process: this is a daemonic worker process")
                self._pool = _InlineExecutor(self.max_pixels)
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=worker.init_worker,
                    initargs=(self.max_pixels,),
                )
                # The executor starts processes on demand and counts a finished task as an idle
                # worker, so a pool that met one page at a time would stay at one process. Start
                # them all now: each of these calls arrives before any worker is up.
                for _ in range(self.workers):
                    self._pool.submit(worker.started)
            return self._pool

    def _drop_broken_pool(self) -> None:
        """Forget a pool whose worker died, so that the next call starts a fresh one."""
        with self._lock:
            pool = self._pool
            if pool is None or not getattr(pool, "_broken", False):
                return
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


class _InlineExecutor:
    """Runs each call at once in the calling thread, one at a time (pdfium is not thread-safe)."""

    _lock = threading.Lock()

    def __init__(self, max_pixels: int) -> None:
        worker.init_worker(max_pixels)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        del wait, cancel_futures
