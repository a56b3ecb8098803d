"""What the manifest hands out (`StoredDocument`, `ReviewItem`) and their JSON form.

The JSON form is used for the NDJSON manifest in the object store, `pipeline export` and
`search --json`; `from_json(to_json(x)) == x` for every record here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from pipeline.records import (
    Barcode,
    Candidate,
    DocumentIdentifiers,
    DocumentStatus,
    Evidence,
    FieldVerdict,
    Outcome,
    ReviewKind,
    ReviewResolution,
    ReviewStatus,
)


#: `filed_by` of a row the pipeline indexed itself (a refile's new row names the clerk)
FILED_BY = "pipeline"


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One manifest row: one version of one document."""

    document_id: str
    sha256: str
    sha1: str
    size: int
    media_type: str
    original_name: str
    source_name: str
    received_at: datetime
    filed_at: datetime
    outcome: Outcome
    status: DocumentStatus
    patient_id: int | None
    patient_mrn: str | None
    doc_type: str | None
    loinc: str | None
    type_display: str | None
    type_confidence: float | None
    match_confidence: float | None
    ocr_confidence: float | None
    pages: int
    date_of_service: date | None
    original_key: str
    searchable_key: str | None
    searchable_sha256: str | None
    searchable_sha1: str | None
    searchable_size: int | None
    relates_to: str | None
    relates_code: str | None
    filed_by: str
    versions: dict[str, str]
    reasons: tuple[str, ...]
    source_patient_info: DocumentIdentifiers
    revision: int = 1  # +1 on every change of this row; the journal keeps the highest
    type_confirmed: bool = True  # False: filed with the classifier's type, awaiting a clerk's confirmation
    batch_sha256: str | None = None  # cut from a batch: the batch's SHA-256, part number and batch pages
    batch_part: int | None = None
    batch_first_page: int | None = None
    batch_last_page: int | None = None
    #: page surgery: {"operation", "sources": [{"document_id", "pages"}], "rotations", "by", "reason"}
    derived_from: dict[str, Any] | None = None
    #: the barcodes read from its pages (revision 0010), so page surgery carries them to new versions
    barcodes: tuple[Barcode, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "source_patient_info":
                value = identifiers_to_json(value)
            elif f.name == "barcodes":
                value = barcodes_to_json(value)
            elif isinstance(value, datetime | date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredDocument:
        values = {f.name: data.get(f.name) for f in fields(cls)}
        values["received_at"] = aware(datetime.fromisoformat(data["received_at"]))
        values["filed_at"] = aware(datetime.fromisoformat(data["filed_at"]))
        values["date_of_service"] = _date(data.get("date_of_service"))
        values["outcome"] = Outcome(data["outcome"])
        values["status"] = DocumentStatus(data["status"])
        values["reasons"] = tuple(data.get("reasons") or ())
        values["versions"] = dict(data.get("versions") or {})
        values["source_patient_info"] = identifiers_from_json(data.get("source_patient_info") or {})
        values["revision"] = int(data.get("revision") or 1)
        values["type_confirmed"] = data.get("type_confirmed") is not False  # journals before 0005: confirmed
        values["barcodes"] = barcodes_from_json(data.get("barcodes"))  # journals before 0010: none kept
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: int
    document_id: str
    status: ReviewStatus
    created_at: datetime
    reasons: tuple[str, ...]
    match_reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    identifiers: DocumentIdentifiers
    predicted_doc_type: str | None
    resolution: ReviewResolution | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolved_doc_type: str | None = None
    resolved_patient_id: int | None = None
    revision: int = 1
    note: str | None = None  # what the clerk wrote when resolving or closing it
    kind: ReviewKind = ReviewKind.PATIENT  # TYPE: the document is filed; only its type is to confirm


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """What a line of the queue page shows of a review item: read from plain columns, without its
    identifiers (their evidence is most of a row) or its resolution."""

    id: int
    kind: ReviewKind
    created_at: datetime
    reasons: tuple[str, ...]  # its reasons, then its match reasons
    predicted_doc_type: str | None
    best: Candidate | None  # the first candidate


def type_only_item(doc: StoredDocument, now: datetime) -> ReviewItem:
    """The type-only review item of a document filed with its type unconfirmed: its reasons are the
    document's (why the type is uncertain); no candidates, the patient is the document's."""
    return ReviewItem(id=0, document_id=doc.document_id, status=ReviewStatus.OPEN, created_at=now,
                      reasons=doc.reasons, match_reasons=(), candidates=(), identifiers=doc.source_patient_info,
                      predicted_doc_type=doc.doc_type, kind=ReviewKind.TYPE)


def aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back: everything is stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


# ------------------------------------------------------------------------------------ barcodes


def barcodes_to_json(barcodes: Iterable[Barcode]) -> list[dict[str, Any]]:
    return [{"page": b.page, "format": b.format, "text": b.text, "box": list(b.box) if b.box else None}
            for b in barcodes]


def barcodes_from_json(data: list[dict[str, Any]] | None) -> tuple[Barcode, ...]:
    return tuple(Barcode(int(b["page"]), str(b["format"]), str(b["text"]), tuple(b["box"]) if b.get("box") else None)
                 for b in data or ())


# --------------------------------------------------------------------------------- identifiers


def identifiers_to_json(ids: DocumentIdentifiers) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(ids):
        value = getattr(ids, f.name)
        if f.name == "evidence":
            out["evidence"] = [_evidence_to_json(e) for e in value]
        elif isinstance(value, date):
            out[f.name] = value.isoformat()
        else:
            out[f.name] = value
    return out


def identifiers_from_json(data: dict[str, Any]) -> DocumentIdentifiers:
    values = {f.name: data.get(f.name) for f in fields(DocumentIdentifiers) if f.name in data}
    for name in ("birth_date", "date_of_service"):
        if values.get(name):
            values[name] = _date(values[name])
    values["evidence"] = tuple(_evidence_from_json(e) for e in data.get("evidence") or ())
    return DocumentIdentifiers(**values)


def _evidence_to_json(e: Evidence) -> dict[str, Any]:
    return {"field": e.field, "value": e.value, "source": e.source, "page": e.page,
            "box": list(e.box) if e.box else None, "label": e.label}


def _evidence_from_json(data: dict[str, Any]) -> Evidence:
    box = data.get("box")
    return Evidence(field=data["field"], value=data["value"], source=data["source"], page=data.get("page"),
                    box=tuple(box) if box else None, label=data.get("label", ""))


# ---------------------------------------------------------------------------------- candidates


def candidates_to_json(candidates: Iterable[Candidate]) -> list[dict[str, Any]]:
    return [{"patient_id": c.patient_id, "mrn": c.mrn, "probability": c.probability,
             "match_weight": c.match_weight, "fields": {k: str(v) for k, v in c.fields.items()},
             "display_name": c.display_name} for c in candidates]


def candidates_from_json(data: list[dict[str, Any]]) -> tuple[Candidate, ...]:
    return tuple(Candidate(patient_id=int(c["patient_id"]), mrn=c["mrn"], probability=float(c["probability"]),
                           match_weight=float(c.get("match_weight", 0.0)),
                           fields={k: FieldVerdict(v) for k, v in (c.get("fields") or {}).items()},
                           display_name=c.get("display_name", "")) for c in data)
