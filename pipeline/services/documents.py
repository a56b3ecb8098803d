"""Find, read and correct filed documents: search, view or download (each logged), open the filed
record (text, versions, and for a supervisor its access log), refile.

A refile never erases: the old entry becomes entered-in-error and a new one (new id) relates to it;
the patient is found by MRN following merges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.errors import ReviewDecisionError
from pipeline.records import DocumentStatus
from pipeline.services.patients import patient_id_for_mrn
from pipeline.store.files import atomic_file
from pipeline.store.manifest import DEFAULT_LIMIT, Manifest
from pipeline.store.objects import ObjectStore
from pipeline.store.rows import StoredDocument


@dataclass(frozen=True, slots=True)
class DocumentView:
    document: StoredDocument
    history: tuple[str, ...]  # document ids of every version, oldest first


def search(manifest: Manifest, *, actor: str, patient_mrn: str | None = None, doc_type: str | None = None,
           date_from: date | None = None, date_to: date | None = None, text: str | None = None,
           include_entered_in_error: bool = False, limit: int = DEFAULT_LIMIT) -> list[StoredDocument]:
    """Documents matching every filter; listing a patient's chart index is logged as a view."""
    docs = manifest.search(patient_mrn=patient_mrn, doc_type=doc_type, date_from=date_from, date_to=date_to,
                           text=text, limit=limit,
                           status=None if include_entered_in_error else DocumentStatus.CURRENT)
    if patient_mrn:
        manifest.record_access(actor, "viewed", patient_mrn=patient_mrn, reason=f"search: {len(docs)} documents listed")
    return docs


def view(manifest: Manifest, store: ObjectStore, document_id: str, *, actor: str, reason: str | None = None,
         out: Path | None = None, original: bool = False) -> DocumentView:
    """One document's entry; with `out`, its PDF (or the original scan) is written there and the view
    is logged as a download. The stored object is hash-verified on the way out."""
    doc = manifest.get(document_id)
    if out is not None:
        key = doc.original_key if original or not doc.searchable_key else doc.searchable_key
        data = store.get(key)
        with atomic_file(out) as handle:  # never replaces an existing file
            handle.write(data)
        manifest.record_access(actor, "downloaded", document_id=doc.document_id, patient_mrn=doc.patient_mrn,
                               reason=reason)
    else:
        manifest.record_access(actor, "viewed", document_id=doc.document_id, patient_mrn=doc.patient_mrn,
                               reason=reason)
    return DocumentView(doc, tuple(d.document_id for d in manifest.history(doc.document_id)))


@dataclass(frozen=True, slots=True)
class FiledRecord:
    """One filed document as the browser shows it: the entry, its OCR text, every version."""

    document: StoredDocument
    text: str | None
    versions: tuple[StoredDocument, ...]  # oldest first: who filed it, who refiled it and why


def open_record(manifest: Manifest, document_id: str, *, actor: str, reason: str | None = None) -> FiledRecord:
    """The document's entry, text and versions; opening it is logged as a view."""
    doc = manifest.get(document_id)
    manifest.record_access(actor, "viewed", document_id=doc.document_id, patient_mrn=doc.patient_mrn,
                           reason=reason or "filed record opened")
    return FiledRecord(doc, manifest.text_of(doc.sha256), tuple(manifest.history(doc.document_id)))


def access_history(manifest: Manifest, record: FiledRecord) -> list[dict[str, Any]]:
    """Who viewed, downloaded, refiled or released any version of the document, oldest first."""
    entries = [entry for version in record.versions for entry in manifest.access_log(version.document_id)]
    return sorted(entries, key=lambda entry: entry["id"])


def refile(manifest: Manifest, document_id: str, *, patient_mrn: str, reason: str, actor: str) -> StoredDocument:
    """Move a misfiled document to the patient holding `patient_mrn`; returns the new entry. A refile
    to the patient the document is filed to already (by that MRN, or one merged into them) is refused."""
    patient_id = patient_id_for_mrn(manifest.engine, patient_mrn)
    doc = manifest.get(document_id)
    if doc.status == DocumentStatus.CURRENT and doc.patient_id is not None and doc.patient_id == patient_id:
        raise ReviewDecisionError(f"document {document_id} is filed to MRN {doc.patient_mrn} already "
                                  f"(the patient MRN {patient_mrn} names); nothing was changed",
                                  hint="give the MRN of the patient the document belongs to")
    return manifest.refile(document_id, patient_id, patient_mrn, reason, actor)
