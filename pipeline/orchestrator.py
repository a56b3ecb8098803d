"""The whole flow for one document, top to bottom, and a pool that runs many at once.

    intake -> duplicate check -> OCR -> classify -> extract identifiers -> match -> decide -> file

This module and the CLI are the only places that catch broad exceptions: a document that fails
in an unexpected way is quarantined with the error's class name, and the run goes on.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.clock import Clock, utc_now
from pipeline.errors import InputError, ModelError
from pipeline.ingest.intake import intake
from pipeline.ocr.engine import OcrEngine
from pipeline.patients.extract import extract_identifiers
from pipeline.patients.matcher import Matcher
from pipeline.records import (
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
from pipeline.store.filing import file_document, quarantine
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore, open_store

if TYPE_CHECKING:
    from pipeline.classify.model import Classifier

log = logging.getLogger(__name__)

def decide(ocr: OcrResult, classification: Classification | None, match: PatientMatch) -> FilingDecision:
    """File only when the text is readable, the type is sure and the patient is sure; else review."""
    reasons: list[str] = list(ocr.reasons)
    if classification is not None and classification.needs_review:
        reasons.extend(classification.reasons or ("document type uncertain",))
    if match.outcome is not MatchOutcome.AUTO_FILE:
        reasons.extend(match.reasons or (f"patient match: {match.outcome}",))
    if reasons or classification is None:
        return FilingDecision(Outcome.NEEDS_REVIEW, tuple(reasons) or ("document type unknown",))
    return FilingDecision(Outcome.FILED, ())


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


def index_document(ocr: OcrResult, classifier: Classifier, matcher: Matcher) -> Indexing:
    """Classify (when readable), extract identifiers, match, decide: every document's path after its
    text is read, a scan's or a part of a split one's (`services/surgery.py`)."""
    classification = classifier.classify(ocr.text) if not ocr.reasons else None
    identifiers = extract_identifiers(ocr)
    match = matcher.match(identifiers)
    return Indexing(classification, identifiers, match, decide(ocr, classification, match))


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
            engine = make_engine(settings.database)
            store = store or open_store(settings)
            return cls(
                settings=settings,
                ocr=ocr,
                classifier_loading=loading,
                matcher=Matcher.from_settings(settings, engine),
                store=store,
                manifest=Manifest(engine, store=store),
                clock=clock,
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
        """Process one file to an outcome. Never raises for a bad document."""
        received_at = self.clock()
        try:
            incoming = intake(path, received_at)
        except OSError as exc:
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
            classification, identifiers, match, decision = index_document(ocr, self.classifier, self.matcher)
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
        )

    def _reject(self, path: Path, rejection: Rejection, sha256: str | None, received_at: datetime) -> ProcessResult:
        try:
            key = quarantine(store=self.store, manifest=self.manifest, source=path, rejection=rejection,
                             sha256=sha256, received_at=received_at)
        except Exception:  # noqa: BLE001 - quarantining must not stop the run; the source stays where it is
            log.exception("could not quarantine %s; the file is left where it is", path.name)
            key = None
        log.warning("rejected %s: %s", path.name, rejection.error)
        return ProcessResult(str(path), key, Outcome.REJECTED, reasons=(rejection.reason,))

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
        """Process documents `worker_count` at a time (their pages share the OCR pool); yield as done."""
        with ThreadPoolExecutor(max_workers=self.settings.worker_count, thread_name_prefix="doc") as pool:
            futures = [pool.submit(self.process, path) for path in paths]
            for future in futures:
                yield future.result()



def _load_classifier(settings: Settings) -> Classifier:
    from pipeline.classify.model import load_classifier

    return load_classifier(settings)


def dispose_of_inbox_file(path: Path, result: ProcessResult, settings: Settings) -> None:
    """After the watcher processed a file: remove it once the store holds it; move rejects aside.

    Filed, queued and duplicate documents are safely in the object store (hash verified), so the
    inbox copy goes. A rejected file is moved to `<home>/quarantine/` with a `.reason.txt` beside it.
    """
    if not path.exists():
        return
    if result.status is Outcome.REJECTED:
        settings.quarantine.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = settings.quarantine / f"{stamp}-{path.name}"
        shutil.move(str(path), target)
        target.with_name(target.name + ".reason.txt").write_text("\n".join(result.reasons) + "\n")
    elif result.document_id is not None:
        path.unlink()
