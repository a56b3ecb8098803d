"""The whole flow for one document, top to bottom, and a pool that runs many at once.

    intake -> duplicate check -> OCR -> classify -> extract identifiers -> match -> decide -> file

This module and the CLI are the only places that catch broad exceptions. Only the input's own
defects reject it (quarantined with the reason). A passing fault (`pipeline.faults`: the database
locked or gone, our disk full, the object store unreachable, an OCR process killed) is retried with
backoff (`settings.fault_retries`, `settings.fault_retry_delay`); if it persists the document comes
out `undone` and stays where it was. Any other failure is quarantined with the error's class name,
and the run goes on.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline import __version__
from pipeline.clock import Clock, utc_now
from pipeline.errors import InputError, ModelError
from pipeline.faults import DISK_ERRNOS, RetryPolicy, passing_fault, retry
from pipeline.ingest.batchfile import (
    BATCH_TYPES,
    cut_pages,
    is_one_document,
    mark_batch,
    part_name,
    part_ocr,
    whole_file,
    with_cover_sheet,
)
from pipeline.ingest.intake import intake
from pipeline.ingest.names import name_tag, reserve_name
from pipeline.ingest.scratch import sweep_scratch
from pipeline.ingest.split import SplitRules, split_pages
from pipeline.ocr.engine import OcrEngine
from pipeline.ocr.raster import PDF
from pipeline.patients.matcher import Matcher
from pipeline.records import (
    BatchPart,
    BatchResult,
    Classification,
    DocumentIdentifiers,
    FilingDecision,
    IncomingDocument,
    MatchOutcome,
    OcrResult,
    Outcome,
    PatientMatch,
    ProcessResult,
    Rejection,
)
from pipeline.settings import Settings
from pipeline.store.database import make_engine, migrate
from pipeline.store.filing import file_document, keep_batch, quarantine
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore, open_store, sha256_of

if TYPE_CHECKING:
    from pipeline.classify.model import Classifier

log = logging.getLogger(__name__)

R = TypeVar("R")

#: the reason a document filed with its type unconfirmed carries (manifest, JSON line, review item)
TYPE_AWAITS_CONFIRMATION = "filed to the patient; the document type awaits confirmation by a clerk"


def decide(ocr: OcrResult, classification: Classification | None, match: PatientMatch, *,
           file_unconfirmed_type: bool = True) -> FilingDecision:
    """File only when the text is readable and the patient is sure; else review.

    The patient decision and the type decision are separate: a readable document whose patient is
    sure but whose type is not is filed with its type unconfirmed (a type-only review item follows),
    unless `file_unconfirmed_type` is off. An unreadable one, or one whose patient is not sure, is
    filed to nobody.
    """
    reasons: list[str] = list(ocr.reasons)
    type_reasons: tuple[str, ...] = ()
    if classification is not None and classification.needs_review:
        type_reasons = tuple(classification.reasons or ("document type uncertain",))
    patient_sure = match.outcome is MatchOutcome.AUTO_FILE
    if not patient_sure:
        reasons.extend(match.reasons or (f"patient match: {match.outcome}",))
    if reasons or classification is None:
        reasons.extend(type_reasons)
        return FilingDecision(Outcome.NEEDS_REVIEW, tuple(reasons) or ("document type unknown",))
    if not type_reasons:
        return FilingDecision(Outcome.FILED, ())
    if file_unconfirmed_type:
        return FilingDecision(Outcome.FILED, (*type_reasons, TYPE_AWAITS_CONFIRMATION), type_confirmed=False)
    return FilingDecision(Outcome.NEEDS_REVIEW, type_reasons)


@dataclass(frozen=True, slots=True)
class Indexing:
    """What a document's text says: its type, its identifiers, its patient, and the decision."""

    classification: Classification | None
    identifiers: DocumentIdentifiers
    match: PatientMatch
    decision: FilingDecision

    def __iter__(self) -> Iterator[Any]:
        """`classification, identifiers, match, decision = index_document(...)`"""
        return iter((self.classification, self.identifiers, self.match, self.decision))


def index_document(ocr: OcrResult, classifier: Classifier, matcher: Matcher, *, part: BatchPart | None = None,
                   file_unconfirmed_type: bool = True) -> Indexing:
    """Classify (when readable), read the identifiers (labels and header zones, verified against the
    index), match, decide: every document's path after its text is read, a scan's, a part of a
    batch's (its cover sheet's MRN first, its split's doubts kept) or a new version's after page
    surgery (`services/surgery.py`)."""
    classification = classifier.classify(ocr.text) if not ocr.reasons else None
    identifiers, match = matcher.identify(ocr)
    identifiers, doubts = with_cover_sheet(identifiers, ocr, part)
    if part is not None and part.cover is not None:
        match = matcher.match(identifiers)  # the cover sheet's MRN counts as one identifier
    decision = decide(ocr, classification, match, file_unconfirmed_type=file_unconfirmed_type)
    if doubts:
        decision = FilingDecision(Outcome.NEEDS_REVIEW, (*decision.reasons, *doubts))
    return Indexing(classification, identifiers, match, decision)


def versions_of(ocr: OcrResult, classification: Classification | None, matcher: Matcher) -> dict[str, str]:
    """The versions of what indexed a document, kept in its manifest row."""
    versions = {"pipeline": __version__, "ocr": ocr.engine,
                "matcher": f"fellegi-sunter splink {matcher.model.meta.get('splink_version', '?')}"}
    if classification is not None:
        versions["classifier"] = classification.model_version
    return versions


@dataclass
class Pipeline:
    """The stages wired to their services. Build with `Pipeline.open(settings)`; close when done."""

    settings: Settings
    ocr: OcrEngine
    classifier_loading: Future[Classifier]  # loads while the first pages are OCR'd; see `classifier`
    matcher: Matcher
    store: ObjectStore
    manifest: Manifest
    clock: Clock = utc_now
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    _in_flight: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = utc_now, ocr: OcrEngine | None = None,
             classifier: Classifier | None = None, store: ObjectStore | None = None) -> Pipeline:
        """Start the services, or use those given (a started OCR engine, a loaded classifier, an
        object store). The classifier (scikit-learn: 1.5 s to import and unpickle) loads in the
        background while the first pages are OCR'd; `ready()` waits for it. The pipeline closes
        its OCR engine, given or not."""
        settings.ensure_folders()
        sweep_scratch(settings.work_dir)  # scratch left by a run that was killed
        if ocr is None:
            ocr = OcrEngine.from_settings(settings)  # first: its workers start while the rest loads
            ocr.start()
        if classifier is None:
            loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-classifier")
            loading = loader.submit(_load_classifier, settings)
            loader.shutdown(wait=False)  # the one task still runs; the thread ends with it
        else:
            loading = Future()
            loading.set_result(classifier)
        try:
            migrate(settings.database)
            engine = make_engine(settings.database, busy_timeout=settings.database_busy_timeout)
            store = store or open_store(settings)
            return cls(
                settings=settings,
                ocr=ocr,
                classifier_loading=loading,
                matcher=Matcher.from_settings(settings, engine),
                store=store,
                manifest=Manifest(engine, store=store),
                clock=clock,
                retry_policy=fault_retry_policy(settings),
            )
        except BaseException:
            ocr.close()
            raise

    @property
    def classifier(self) -> Classifier:
        """The document-type classifier, once loaded; raises its ModelError if it could not be."""
        return self.classifier_loading.result()

    def ready(self) -> Pipeline:
        """Wait until every service is loaded; raise what failed (for long-running commands)."""
        self.classifier  # noqa: B018 - waits, and raises a load failure
        return self

    def close(self) -> None:
        self.ocr.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ one document

    def process(self, path: Path) -> ProcessResult:
        """Process one file to an outcome, as one document. Never raises for a bad document; a
        passing fault is tried again (`retry_policy`) and, if it lasts, is the outcome UNDONE: the
        file is untouched."""
        return self._until_undone(path, self._process_once, lambda undone: undone)

    def process_file(self, path: Path) -> BatchResult:
        """Process one file that may be a batch (`process_batch`: split at separators and cover
        sheets, each part filed or queued on its own, the batch kept whole; a file that is one
        document filed whole, as `process` files it). Never raises for a bad document; a passing
        fault is tried again and, if it lasts, is one UNDONE result: the file is untouched, and the
        parts filed before it are found, not filed twice, when it is processed again."""
        return self._until_undone(path, self.process_batch, whole_file)

    def _until_undone(self, path: Path, attempt: Callable[[Path], R],
                      undone: Callable[[ProcessResult], R]) -> R:
        """`attempt(path)` under the retry policy; a passing fault that outlasts it is `undone`."""
        tag = name_tag(path)
        try:
            return retry(lambda: attempt(path), self.retry_policy, what=f"input {tag}")
        except ModelError:
            raise
        except Exception as exc:
            reason = passing_fault(exc)
            if reason is None:
                raise
            log.warning("undone: input %s: %s; left where it was", tag, reason)
            return undone(undone_result(path, reason))

    def _process_once(self, path: Path) -> ProcessResult:
        """One attempt; a passing fault is raised (for `process` to retry), everything else is an outcome."""
        received_at = self.clock()
        try:
            incoming = intake(path, received_at, max_bytes=self.settings.max_input_bytes)
        except OSError as exc:
            if exc.errno in DISK_ERRNOS:
                raise
            incoming = Rejection(path, f"{path.name}: cannot be read ({exc.strerror}); "
                                 "check the file's permissions and drop it in again", "OSError")
        if isinstance(incoming, Rejection):
            return self._reject(path, incoming, None, received_at)
        with self._claim(incoming.sha256):
            existing = self.manifest.find_duplicate(incoming.sha256)
            if existing is not None:
                self.manifest.record_duplicate(incoming.original_name, incoming.sha256, existing, received_at)
                log.info("duplicate of %s: sha256 %s", existing, incoming.sha256[:12])
                return ProcessResult(str(path), existing, Outcome.DUPLICATE,
                                     reasons=(f"same bytes as document {existing}; nothing filed twice",))
            try:
                return self._process_new(incoming)
            except ModelError:
                raise  # no model, no run: the CLI says what to do (exit 5); the file is untouched
            except InputError as exc:
                return self._reject(path, Rejection(path, str(exc), type(exc).__name__), incoming.sha256, received_at)
            except Exception as exc:  # noqa: BLE001 - the run must go on; the original is kept
                if passing_fault(exc) is not None:
                    raise  # not the document's fault: `process` tries again, or leaves it undone
                log.exception("unexpected failure on sha256 %s", incoming.sha256[:12])
                reason = (f"{path.name}: processing failed ({type(exc).__name__}); the original is kept in "
                          "quarantine: report this to support with the pipeline log")
                return self._reject(path, Rejection(path, reason, type(exc).__name__), incoming.sha256, received_at)

    def _process_new(self, incoming: IncomingDocument) -> ProcessResult:
        if self.classifier_loading.done():
            self.classifier  # noqa: B018 - a model that failed to load stops the run before OCR
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir, prefix="doc-") as scratch:
            ocr = self.ocr.recognize(incoming, Path(scratch))
            return self._file(incoming, ocr)

    def _file(self, incoming: IncomingDocument, ocr: OcrResult, part: BatchPart | None = None) -> ProcessResult:
        """Classify, match, decide and file one read document (a whole file, or a part of a batch)."""
        classification, identifiers, match, decision = index_document(
            ocr, self.classifier, self.matcher, part=part,
            file_unconfirmed_type=self.settings.file_with_unconfirmed_type)
        entry = file_document(
            store=self.store,
            manifest=self.manifest,
            incoming=incoming,
            ocr=ocr,
            classification=classification,
            identifiers=identifiers,
            match=match,
            decision=decision,
            versions=versions_of(ocr, classification, self.matcher),
            clock=self.clock,
            batch=part,
        )
        chosen = match.patient if decision.outcome is Outcome.FILED else None
        best = match.patient or (match.candidates[0] if match.candidates else None)
        log.info("%s %s: %d pages, type %s", decision.outcome, entry.document_id, len(ocr.pages),
                 classification.doc_type if classification else "-")
        return ProcessResult(
            source=str(incoming.source),
            document_id=entry.document_id,
            status=decision.outcome,
            doc_type=classification.doc_type if classification else None,
            loinc=classification.loinc if classification else None,
            type_confidence=classification.confidence if classification else None,
            patient_mrn=chosen.mrn if chosen else None,
            match_confidence=best.probability if best else None,
            pages=len(ocr.pages),
            reasons=decision.reasons,
            type_confirmed=entry.type_confirmed,
        )

    def _reject(self, path: Path, rejection: Rejection, sha256: str | None, received_at: datetime) -> ProcessResult:
        tag = f"sha256 {sha256[:12]}" if sha256 else f"input {name_tag(path)}"
        try:
            key = quarantine(store=self.store, manifest=self.manifest, source=path, rejection=rejection,
                             sha256=sha256, received_at=received_at)
        except Exception as exc:  # noqa: BLE001 - quarantining must not stop the run; the source stays where it is
            if passing_fault(exc) is not None:
                raise  # the rejection is not recorded yet: try again, or leave the input undone
            log.exception("could not quarantine %s; the file is left where it is", tag)
            key = None
        log.warning("rejected %s: %s", tag, rejection.error)
        return ProcessResult(str(path), key, Outcome.REJECTED, reasons=(rejection.reason,))

    # ------------------------------------------------------------------------------ a batch file

    def process_batch(self, path: Path) -> BatchResult:
        """Process a file that may hold several documents (a scanned batch): each part is filed or
        queued on its own, the batch original is kept whole once. A file that turns out to be one
        document (no separator, no cover sheet, no blank page dropped) is filed whole, as `process`
        files it; a single-page file or an image goes to `process` directly. One attempt: never
        raises for a bad document; a passing fault (`faults.passing_fault`) propagates so the caller
        can try the file again (`process_file` does, with backoff)."""
        try:
            incoming = intake(path, self.clock(), max_bytes=self.settings.max_input_bytes)
        except OSError:
            incoming = None
        if not isinstance(incoming, IncomingDocument) or incoming.media_type not in BATCH_TYPES:
            return whole_file(self.process(path))
        with self._claim(incoming.sha256):
            seen = self._batch_seen_before(incoming)
            if seen is not None:
                return seen
            try:
                return self._split_and_file(incoming)
            except ModelError:
                raise  # no model: the run stops (exit 5)
            except InputError as exc:
                rejection = Rejection(path, str(exc), type(exc).__name__)
            except Exception as exc:  # noqa: BLE001 - the run must go on; the original is kept
                if passing_fault(exc) is not None:
                    raise  # not the batch's fault: the caller tries the file again
                log.exception("unexpected failure on batch sha256 %s", incoming.sha256[:12])
                rejection = Rejection(path, f"{path.name}: processing failed ({type(exc).__name__}); the original "
                                      "is kept in quarantine: report this to support with the pipeline log",
                                      type(exc).__name__)
        return whole_file(self._reject(path, rejection, incoming.sha256, incoming.received_at))

    def _batch_seen_before(self, incoming: IncomingDocument) -> BatchResult | None:
        """The same bytes filed whole before, or a batch whose every part was filed: nothing twice."""
        existing = self.manifest.find_duplicate(incoming.sha256)
        if existing is not None:
            self.manifest.record_duplicate(incoming.original_name, incoming.sha256, existing, incoming.received_at)
            return whole_file(ProcessResult(str(incoming.source), existing, Outcome.DUPLICATE,
                                            reasons=(f"same bytes as document {existing}; nothing filed twice",)))
        kept = self.manifest.batch(incoming.sha256)
        if kept is None or kept.completed_at is None:
            return None
        parts = self.manifest.batch_parts(incoming.sha256)
        why = f"same bytes as batch {incoming.sha256[:12]}, already split; nothing filed twice"
        return BatchResult(str(incoming.source), incoming.sha256, kept.pages,
                           tuple(ProcessResult(str(incoming.source), doc.document_id, Outcome.DUPLICATE,
                                               pages=doc.pages, reasons=(why,)) for doc in parts),
                           tuple(None for _ in parts))

    def _split_and_file(self, incoming: IncomingDocument) -> BatchResult:
        if self.classifier_loading.done():
            self.classifier  # noqa: B018 - a model that failed to load stops the run before OCR
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        rules = SplitRules.from_settings(self.settings)
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir, prefix="batch-") as scratch:
            ocr = self.ocr.recognize(incoming, Path(scratch))
            if len(ocr.pages) < 2:  # one page is one document: nothing to mark
                return whole_file(self._file(incoming, ocr), sha256=incoming.sha256)
            marks = mark_batch(incoming.source, incoming.original_name, incoming.media_type, ocr, rules,
                               self.settings.ocr_max_pixels)
            parts = split_pages(incoming.sha256, marks, rules)
            if is_one_document(parts, len(ocr.pages)):
                return whole_file(self._file(incoming, ocr), sha256=incoming.sha256)
            keep_batch(store=self.store, manifest=self.manifest, incoming=incoming, pages=len(ocr.pages),
                       parts=len(parts))
            results = tuple(self._file_part(incoming, ocr, part, Path(scratch)) for part in parts)
        self.manifest.complete_batch(incoming.sha256)
        log.info("batch %s: %d pages split into %d documents", incoming.sha256[:12], len(ocr.pages), len(parts))
        return BatchResult(str(incoming.source), incoming.sha256, len(ocr.pages), results, parts)

    def _file_part(self, batch: IncomingDocument, ocr: OcrResult, part: BatchPart, scratch: Path) -> ProcessResult:
        """One part of a batch as a document of its own; a part filed before (an interrupted run) is
        found by its batch and part number and not filed again."""
        done = self.manifest.part_document(part.batch_sha256, part.index)
        if done is not None:
            return ProcessResult(str(batch.source), done.document_id, done.outcome, doc_type=done.doc_type,
                                 loinc=done.loinc, type_confidence=done.type_confidence,
                                 patient_mrn=done.patient_mrn, match_confidence=done.match_confidence,
                                 pages=done.pages, reasons=done.reasons)
        folder = scratch / f"part-{part.index}"
        folder.mkdir()
        name = part_name(batch.original_name, part)
        source = cut_pages(batch.source, batch.media_type, part.pages, folder / name)
        searchable = (cut_pages(ocr.searchable_pdf, PDF, part.pages, folder / "searchable.pdf")
                      if ocr.searchable_pdf is not None else None)
        sha256, size = sha256_of(source)
        incoming = IncomingDocument(source=source, original_name=name, sha256=sha256, size=size,
                                    media_type=batch.media_type, received_at=batch.received_at)
        result = self._file(incoming, part_ocr(ocr, part.pages, searchable, self.settings.ocr_min_confidence), part)
        return replace(result, source=str(batch.source))

    # ---------------------------------------------------------------------- duplicate claiming

    @contextmanager
    def _claim(self, sha256: str) -> Iterator[None]:
        """Serialise documents with the same SHA-256 in this process, so twins in one batch file once."""
        while True:
            with self._lock:
                other = self._in_flight.get(sha256)
                if other is None:
                    mine = self._in_flight[sha256] = threading.Event()
                    break
            other.wait()
        try:
            yield
        finally:
            with self._lock:
                del self._in_flight[sha256]
            mine.set()

    # ------------------------------------------------------------------------------ many at once

    def process_many(self, paths: Iterable[Path]) -> Iterator[ProcessResult]:
        """`process` (each file one document) `worker_count` files at a time; yield in order."""
        return self._many(self.process, paths)

    def process_files(self, paths: Iterable[Path]) -> Iterator[BatchResult]:
        """`process_file` (batches split) `worker_count` files at a time; yield in order."""
        return self._many(self.process_file, paths)

    def _many(self, work: Callable[[Path], R], paths: Iterable[Path]) -> Iterator[R]:
        """Run `work` on the files `worker_count` at a time (their pages share the OCR pool)."""
        with ThreadPoolExecutor(max_workers=self.settings.worker_count, thread_name_prefix="doc") as pool:
            futures = [pool.submit(work, path) for path in paths]
            for future in futures:
                yield future.result()



def undone_result(path: Path, reason: str) -> ProcessResult:
    """The outcome of a file a passing fault kept from being processed: nothing moved, nothing recorded."""
    return ProcessResult(str(path), None, Outcome.UNDONE,
                         reasons=(f"not processed: {reason}; left where it was, to be processed again",))


def _load_classifier(settings: Settings) -> Classifier:
    from pipeline.classify.model import load_classifier

    return load_classifier(settings)


def fault_retry_policy(settings: Settings) -> RetryPolicy:
    """How many times one run tries a document hit by a passing fault, and how long it waits between."""
    return RetryPolicy(attempts=settings.fault_retries + 1, first_delay=settings.fault_retry_delay)


def dispose_of_inbox_file(path: Path, batch: BatchResult, settings: Settings) -> None:
    """After the watcher processed a file (`process_file`): remove it once the store holds it; move
    rejects aside.

    Filed, queued and duplicate documents are safely in the object store (hash verified), and so is
    a split batch's original (`batches/`), so the inbox copy goes once every document of the file
    has its row. A rejected file is moved to `<home>/quarantine/` under a name no other rejection
    holds (`names.reserve_name`), with a `.reason.txt` beside it. A file with anything undone stays.
    """
    if any(r.status is Outcome.UNDONE for r in batch.results) or not os.path.lexists(path):
        return
    result = batch.results[0] if len(batch.results) == 1 else None
    if result is not None and result.status is Outcome.REJECTED:
        target = reserve_name(settings.quarantine, path.name, datetime.now(UTC))
        try:
            os.replace(path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copyfile(path, target)  # an inbox on another file system than the home
            path.unlink()
        target.with_name(target.name + ".reason.txt").write_text("\n".join(result.reasons) + "\n")
    elif batch.results and all(r.document_id is not None for r in batch.results):
        path.unlink()
