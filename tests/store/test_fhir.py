"""Manifest rows as FHIR R4 DocumentReferences, validated with fhir.resources (R4B)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from fhir.resources.R4B.documentreference import DocumentReference

from pipeline.store.fhir import document_reference
from pipeline.store.filing import file_document


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_filed_document_maps_to_a_valid_document_reference(store, manifest, make_filing) -> None:
    filing = make_filing()
    entry = file_document(store=store, manifest=manifest, **filing.kwargs())
    resource = document_reference(manifest.get(entry.document_id), store.url)
    parsed = DocumentReference.model_validate(resource)
    assert parsed.status == "current" and parsed.docStatus == "final"
    assert parsed.type.coding[0].system == "http://loinc.org" and parsed.type.coding[0].code == "18842-5"
    assert parsed.subject.reference == "Patient/7" and parsed.subject.identifier.value == "MRN0007"
    assert parsed.date.tzinfo is not None
    searchable, original = parsed.content
    assert original.attachment.title == filing.incoming.original_name
    sha1 = hashlib.sha1(filing.incoming.source.read_bytes()).digest()
    assert base64.b64decode(resource["content"][1]["attachment"]["hash"]) == sha1
    assert original.attachment.size == filing.incoming.size
    assert original.attachment.url == store.url(entry.original.key)
    assert base64.b64decode(resource["content"][0]["attachment"]["hash"]) == \
        hashlib.sha1(filing.ocr.searchable_pdf.read_bytes()).digest()
    assert searchable.attachment.contentType == "application/pdf"
    assert str(parsed.context.period.start) == "2025-12-30"
    assert parsed.context.sourcePatientInfo.reference == "#source-patient"
    [contained] = resource["contained"]
    assert contained["birthDate"] == "1961-04-02" and contained["name"][0]["family"] == "DOE"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_refiled_and_queued_documents(store, manifest, make_filing) -> None:
    entry = file_document(store=store, manifest=manifest, **make_filing().kwargs())
    new = manifest.refile(entry.document_id, 8, "MRN0008", "wrong patient", "clerk")
    old_resource = DocumentReference.model_validate(document_reference(manifest.get(entry.document_id)))
    new_resource = DocumentReference.model_validate(document_reference(new))
    assert old_resource.status == "entered-in-error"
    assert new_resource.relatesTo[0].code == "replaces"
    assert new_resource.relatesTo[0].target.reference == f"DocumentReference/{entry.document_id}"
    queued = file_document(store=store, manifest=manifest, **make_filing(filed=False).kwargs())
    resource = DocumentReference.model_validate(document_reference(manifest.get(queued.document_id)))
    assert resource.docStatus == "preliminary" and resource.subject is None


def test_an_unknown_status_is_refused() -> None:
    from pipeline.store.rows import StoredDocument

    doc = StoredDocument.from_json({
        "document_id": "d", "sha256": "0" * 64, "sha1": "0" * 40, "size": 1, "media_type": "application/pdf",
        "original_name": "a.pdf", "source_name": "a.pdf", "received_at": "2026-01-01T00:00:00+00:00",
        "filed_at": "2026-01-01T00:00:00+00:00", "outcome": "filed", "status": "current", "pages": 1,
        "original_key": "k", "filed_by": "pipeline"})
    object.__setattr__(doc, "status", "deleted")
    with pytest.raises(ValueError, match="not a DocumentReference status"):
        document_reference(doc)
