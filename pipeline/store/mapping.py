"""ORM rows <-> the records the manifest hands out, and rows <-> JSON for export/import."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import inspect

from pipeline.records import DocumentStatus, Outcome, ReviewKind, ReviewResolution, ReviewStatus
from pipeline.store.rows import (
    ReviewItem,
    StoredDocument,
    aware,
    barcodes_from_json,
    barcodes_to_json,
    candidates_from_json,
    candidates_to_json,
    identifiers_from_json,
    identifiers_to_json,
)
from pipeline.store.tables import DocumentRow, ReviewItemRow

def row_values(doc: StoredDocument) -> dict[str, Any]:
    values = {f.name: getattr(doc, f.name) for f in fields(doc)}
    values["outcome"] = str(doc.outcome)
    values["status"] = str(doc.status)
    values["reasons"] = list(doc.reasons)
    values["versions"] = dict(doc.versions)
    values["source_patient_info"] = identifiers_to_json(doc.source_patient_info)
    values["barcodes"] = barcodes_to_json(doc.barcodes)
    values["received_at"] = doc.received_at.astimezone(UTC)
    values["filed_at"] = doc.filed_at.astimezone(UTC)
    return values


def document_to_row(doc: StoredDocument) -> DocumentRow:
    return DocumentRow(**row_values(doc))


def document_from_row(row: DocumentRow) -> StoredDocument:
    values = {f.name: getattr(row, f.name) for f in fields(StoredDocument)}
    values["outcome"] = Outcome(row.outcome)
    values["status"] = DocumentStatus(row.status)
    values["reasons"] = tuple(row.reasons or ())
    values["versions"] = dict(row.versions or {})
    values["source_patient_info"] = identifiers_from_json(row.source_patient_info or {})
    values["received_at"] = aware(row.received_at)
    values["filed_at"] = aware(row.filed_at)
    values["type_confirmed"] = row.type_confirmed is not False
    values["barcodes"] = barcodes_from_json(row.barcodes)
    return StoredDocument(**values)


def review_from_row(row: ReviewItemRow) -> ReviewItem:
    return ReviewItem(
        id=row.id, document_id=row.document_id, status=ReviewStatus(row.status), created_at=aware(row.created_at),
        reasons=tuple(row.reasons or ()), match_reasons=tuple(row.match_reasons or ()),
        candidates=candidates_from_json(row.candidates or []), identifiers=identifiers_from_json(row.identifiers or {}),
        predicted_doc_type=row.predicted_doc_type, resolution=ReviewResolution.stored(row.resolution),
        resolved_by=row.resolved_by,
        resolved_at=aware(row.resolved_at) if row.resolved_at else None, resolved_doc_type=row.resolved_doc_type,
        resolved_patient_id=row.resolved_patient_id, revision=row.revision or 1, note=row.note,
        kind=ReviewKind(row.kind or ReviewKind.PATIENT))


def review_to_json(item: ReviewItem) -> dict[str, Any]:
    return {"document_id": item.document_id, "status": str(item.status), "created_at": item.created_at.isoformat(),
            "reasons": list(item.reasons), "match_reasons": list(item.match_reasons),
            "candidates": candidates_to_json(item.candidates),
            "identifiers": identifiers_to_json(item.identifiers), "predicted_doc_type": item.predicted_doc_type,
            "resolution": str(item.resolution) if item.resolution else None, "resolved_by": item.resolved_by,
            "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
            "resolved_doc_type": item.resolved_doc_type, "resolved_patient_id": item.resolved_patient_id,
            "revision": item.revision, "note": item.note, "kind": str(item.kind)}



def review_from_json(data: dict[str, Any]) -> ReviewItem:
    return ReviewItem(
        id=0, document_id=data["document_id"], status=ReviewStatus(data["status"]),
        created_at=aware(datetime.fromisoformat(data["created_at"])), reasons=tuple(data.get("reasons") or ()),
        match_reasons=tuple(data.get("match_reasons") or ()), candidates=candidates_from_json(data.get("candidates") or []),
        identifiers=identifiers_from_json(data.get("identifiers") or {}), predicted_doc_type=data.get("predicted_doc_type"),
        resolution=ReviewResolution.stored(data.get("resolution")), resolved_by=data.get("resolved_by"),
        resolved_at=aware(datetime.fromisoformat(data["resolved_at"])) if data.get("resolved_at") else None,
        resolved_doc_type=data.get("resolved_doc_type"), resolved_patient_id=data.get("resolved_patient_id"),
        revision=int(data.get("revision") or 1), note=data.get("note"),
        kind=ReviewKind(data.get("kind") or ReviewKind.PATIENT))  # journals before revision 0005: patient


def row_to_json(row: Any) -> dict[str, Any]:
    return {column.key: value_to_json(getattr(row, column.key)) for column in inspect(type(row)).columns}


def value_to_json(value: Any) -> Any:
    """A column's value as JSON: times in UTC ISO form, dates ISO, the rest as it is."""
    if isinstance(value, datetime):
        return aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_to_column(column: Any, value: Any) -> Any:
    if value is None:
        return None
    python_type = None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return aware(datetime.fromisoformat(value))
    if python_type is date:
        return date.fromisoformat(value)
    return value
