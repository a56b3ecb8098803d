"""Filing: store the untouched original and the searchable copy, then write the manifest row.

Order matters for crash safety: objects first (each verified by its SHA-256), then the manifest
row, its text, review item and journal event in one transaction, then the journal event is copied
to the store. A crash in between leaves at worst an orphan object, which `pipeline audit` reports,
or an event still in the outbox, which the next store command copies; never a manifest row
pointing at nothing.

The rule above all: a document is filed to a patient only when the decision says FILED *and* the
match names the patient. Anything else lands under the review prefix with its reasons. A document
filed with its type unconfirmed (the decision's `type_confirmed` is False) is filed to its patient
like any other, marked so, with a type-only review item for a clerk to confirm or correct the type.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from pipeline.clock import Clock, utc_now
from pipeline.errors import CorruptFileError, StorageError
from pipeline.records import (
    BatchPart,
    Classification,
    DocumentIdentifiers,
    DocumentStatus,
    FilingDecision,
    IncomingDocument,
    ManifestEntry,
    OcrResult,
    Outcome,
    PatientMatch,
    Rejection,
    ReviewStatus,
    StoredObject,
)
from pipeline.store.batch_log import StoredBatch
from pipeline.store.keys import batch_key, extension_for, filed_keys, quarantine_key, review_keys
from pipeline.store.manifest import Manifest, new_document_id
from pipeline.store.objects import CHUNK, ObjectStore, sha256_of
from pipeline.store.rows import ReviewItem, StoredDocument, type_only_item

log = logging.getLogger(__name__)

FILED_BY = "pipeline"
UNKNOWN_TYPE = "unknown"


def file_document(*, store: ObjectStore, manifest: Manifest, incoming: IncomingDocument, ocr: OcrResult,
                  classification: Classification | None, identifiers: DocumentIdentifiers,
                  match: PatientMatch | None, decision: FilingDecision, versions: Mapping[str, str],
                  clock: Clock = utc_now, batch: BatchPart | None = None) -> ManifestEntry:
    """Store a processed document and index it; returns its manifest entry.

    `batch`: the document was cut from a batch file; its row records the batch and its pages.

    The entry's outcome is FILED, NEEDS_REVIEW, or DUPLICATE when the same bytes were filed
    meanwhile (then nothing new is kept in the manifest).
    """
    now = clock()
    existing = manifest.find_duplicate(incoming.sha256)
    if existing is not None:
        manifest.record_duplicate(incoming.original_name, incoming.sha256, existing, incoming.received_at)
        return _entry(manifest.get(existing), Outcome.DUPLICATE)

    outcome, reasons = decision.outcome, tuple(decision.reasons)
    patient = match.patient if match is not None else None
    if outcome is Outcome.FILED and patient is None:
        outcome, reasons = Outcome.NEEDS_REVIEW, (*reasons, "no patient was chosen by the matcher")
    type_confirmed = decision.type_confirmed and classification is not None and not classification.needs_review
    if outcome not in (Outcome.FILED, Outcome.NEEDS_REVIEW):
        raise StorageError(f"file_document cannot file a document whose outcome is {outcome}")

    document_id = new_document_id()
    doc_type = classification.doc_type if classification else UNKNOWN_TYPE
    when = identifiers.date_of_service or incoming.received_at.date()
    extension = extension_for(incoming.media_type, incoming.original_name)
    if outcome is Outcome.FILED:
        original_key, searchable_key = filed_keys(patient.patient_id, doc_type, when, document_id, extension)
    else:
        original_key, searchable_key = review_keys(when, document_id, extension)

    original = store.put(original_key, incoming.source, incoming.media_type)
    if original.sha256 != incoming.sha256:
        raise CorruptFileError(f"{incoming.original_name}: the file changed while it was being processed",
                               hint="wait until the scanner has finished writing it and drop it in again")
    searchable: StoredObject | None = None
    searchable_sha1 = None
    if ocr.searchable_pdf is not None:
        searchable = store.put(searchable_key, ocr.searchable_pdf, "application/pdf")
        searchable_sha1 = _sha1(ocr.searchable_pdf)

    best = patient or (match.candidates[0] if match is not None and match.candidates else None)
    doc = StoredDocument(
        document_id=document_id, sha256=incoming.sha256, sha1=_sha1(incoming.source), size=original.size,
        media_type=incoming.media_type, original_name=incoming.original_name, source_name=str(incoming.source),
        received_at=incoming.received_at, filed_at=now, outcome=outcome, status=DocumentStatus.CURRENT,
        patient_id=patient.patient_id if outcome is Outcome.FILED else None,
        patient_mrn=patient.mrn if outcome is Outcome.FILED else None,
        doc_type=classification.doc_type if classification else None,
        loinc=classification.loinc if classification else None,
        type_display=classification.display if classification else None,
        type_confidence=classification.confidence if classification else None,
        match_confidence=best.probability if best else None,
        ocr_confidence=ocr.confidence if ocr.confidence >= 0 else None,
        pages=len(ocr.pages), date_of_service=identifiers.date_of_service,
        original_key=original.key, searchable_key=searchable.key if searchable else None,
        searchable_sha256=searchable.sha256 if searchable else None, searchable_sha1=searchable_sha1,
        searchable_size=searchable.size if searchable else None, relates_to=None, relates_code=None,
        filed_by=FILED_BY, versions=dict(versions), reasons=reasons, source_patient_info=identifiers,
        type_confirmed=type_confirmed,
        batch_sha256=batch.batch_sha256 if batch else None, batch_part=batch.index if batch else None,
        batch_first_page=batch.first_page if batch else None, batch_last_page=batch.last_page if batch else None,
    )
    review = None
    if outcome is Outcome.FILED and not type_confirmed:
        review = type_only_item(doc, now)
    elif outcome is Outcome.NEEDS_REVIEW:
        review = ReviewItem(
            id=0, document_id=document_id, status=ReviewStatus.OPEN, created_at=now,
            reasons=tuple(r for r in reasons if match is None or r not in match.reasons),
            match_reasons=tuple(match.reasons) if match is not None else (),
            candidates=tuple(match.candidates) if match is not None else (), identifiers=identifiers,
            predicted_doc_type=classification.doc_type if classification else None)

    text = ocr.text
    holder = manifest.insert_document(doc, text, review)
    if holder != document_id:
        log.warning("sha256 %s was filed as %s meanwhile; objects of %s are left as orphans",
                    incoming.sha256[:12], holder, document_id)
        manifest.record_duplicate(incoming.original_name, incoming.sha256, holder, incoming.received_at)
        return _entry(manifest.get(holder), Outcome.DUPLICATE)
    try:
        manifest.flush_journal(store)  # the row's journal event went into the outbox with the row
    except StorageError:
        log.warning("document %s is filed; its journal event waits in the outbox for the next store command",
                    document_id, exc_info=True)
    return _entry(doc, outcome)


def keep_batch(*, store: ObjectStore, manifest: Manifest, incoming: IncomingDocument, pages: int,
               parts: int) -> StoredBatch:
    """Store a batch file whole (once, by its SHA-256) before its parts are filed; returns its row."""
    kept = manifest.batch(incoming.sha256)
    if kept is not None:
        return kept
    key = batch_key(incoming.received_at, incoming.sha256, extension_for(incoming.media_type, incoming.original_name))
    stored = store.put(key, incoming.source, incoming.media_type)
    if stored.sha256 != incoming.sha256:
        raise CorruptFileError(f"{incoming.original_name}: the file changed while it was being processed",
                               hint="wait until the scanner has finished writing it and drop it in again")
    batch = StoredBatch(sha256=incoming.sha256, original_name=incoming.original_name, media_type=incoming.media_type,
                        size=stored.size, pages=pages, parts=parts, original_key=stored.key,
                        received_at=incoming.received_at)
    manifest.record_batch(batch)
    return batch


def quarantine(*, store: ObjectStore, manifest: Manifest, source: Path, rejection: Rejection,
               sha256: str | None, received_at: datetime) -> str:
    """Keep a rejected input's bytes (when they can be read at all) with its reason; returns the key.

    The bytes go to `quarantine/<yyyy>/<mm>/<dd>/<sha256 prefix>-<name>` (the same bytes rejected
    twice are kept once); each rejection's reason goes beside them as its own
    `<key>.<time>-<random>.reason.txt`. When the file cannot be read, only the reason is stored and
    its key is returned. A symbolic link, FIFO or device is never read (its name is enough to
    record): only regular files are opened, and without following a link.
    """
    readable = _regular_file(source)
    if readable and sha256 is None:
        sha256, _ = sha256_of(source)
    tag = sha256[:16] if sha256 else "unreadable"
    key = quarantine_key(received_at, tag, source.name)
    reason_key = f"{key}.{received_at:%H%M%S%f}-{secrets.token_hex(3)}.reason.txt"
    store.put(reason_key, f"{rejection.error}: {rejection.reason}\n".encode(), "text/plain; charset=utf-8")
    if readable:
        store.put(key, source, "application/octet-stream")
    kept = key if readable else reason_key
    manifest.record_rejection(source.name, sha256, rejection.error, rejection.reason, kept, received_at)
    log.info("quarantined %s as sha256 %s", rejection.error, tag)
    return kept


def _regular_file(path: Path) -> bool:
    """Whether `path` itself (a link not followed) is a regular file this process can open."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(descriptor).st_mode)
    finally:
        os.close(descriptor)


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()  # noqa: S324 - FHIR Attachment.hash is SHA-1 by definition
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _entry(doc: StoredDocument, outcome: Outcome) -> ManifestEntry:
    original = StoredObject(doc.original_key, doc.sha256, doc.size)
    searchable = (StoredObject(doc.searchable_key, doc.searchable_sha256 or "", doc.searchable_size or 0)
                  if doc.searchable_key else None)
    return ManifestEntry(document_id=doc.document_id, status=doc.status, outcome=outcome, sha256=doc.sha256,
                         patient_mrn=doc.patient_mrn, doc_type=doc.doc_type, loinc=doc.loinc, original=original,
                         searchable=searchable, pages=doc.pages, type_confirmed=doc.type_confirmed)
