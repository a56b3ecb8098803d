"""A document filed to a certain patient with its type unconfirmed: the manifest row, its type-only
review item, the clerk's confirmation or correction, FHIR, refile, ADT re-scoring and reindex."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.documentreference import DocumentReference

from pipeline.records import DocumentStatus, MatchOutcome, Outcome, PatientMatch, ReviewKind, ReviewResolution
from pipeline.store.database import make_engine, migrate
from pipeline.store.fhir import TYPE_CONFIRMED_URL, document_reference
from pipeline.store.filing import file_document
from pipeline.store.journal import replay
from pipeline.store.manifest import Manifest


def file_unconfirmed(store, manifest, make_filing):
    entry = file_document(store=store, manifest=manifest, **make_filing(type_sure=False).kwargs())
    return entry, manifest.get(entry.document_id)


def test_it_is_filed_to_the_patient_with_the_type_marked_unconfirmed_and_a_type_only_item(
        store, manifest, make_filing) -> None:
    entry, doc = file_unconfirmed(store, manifest, make_filing)
    assert entry.outcome is Outcome.FILED and entry.type_confirmed is False
    assert (doc.outcome, doc.patient_id, doc.patient_mrn, doc.type_confirmed) == (Outcome.FILED, 7, "MRN0007", False)
    assert doc.original_key.startswith("originals/patients/7/") and "type awaits confirmation" in doc.reasons
    [item] = manifest.open_review_items()
    assert item.kind is ReviewKind.TYPE and item.document_id == doc.document_id and item.candidates == ()
    assert item.predicted_doc_type == "discharge_summary"
    assert manifest.open_review_items(kind=ReviewKind.PATIENT) == []
    assert [i.id for i in manifest.open_review_items(kind=ReviewKind.TYPE)] == [item.id]
    sure = file_document(store=store, manifest=manifest, **make_filing().kwargs())
    assert sure.type_confirmed is True and manifest.get(sure.document_id).type_confirmed is True


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_fhir_says_the_type_is_unconfirmed_until_a_clerk_confirms_it(store, manifest, make_filing) -> None:
    _, doc = file_unconfirmed(store, manifest, make_filing)
    resource = document_reference(doc)
    parsed = DocumentReference.model_validate(resource)
    assert parsed.docStatus == "preliminary" and parsed.subject.reference == "Patient/7"
    assert parsed.type.coding[0].code == "18842-5" and "awaits confirmation" in parsed.type.text
    assert parsed.type.extension[0].url == TYPE_CONFIRMED_URL and parsed.type.extension[0].valueBoolean is False
    [item] = manifest.open_review_items()
    confirmed = manifest.confirm_review_type(item.id, actor="clerk", doc_type="discharge_summary",
                                             loinc="18842-5", type_display="Discharge summary")
    parsed = DocumentReference.model_validate(document_reference(confirmed))
    assert parsed.docStatus == "final" and parsed.type.extension is None and parsed.type.text == "Discharge summary"


def test_a_corrected_type_updates_the_row_in_place_and_teaches_the_classifier(store, manifest, make_filing) -> None:
    _, doc = file_unconfirmed(store, manifest, make_filing)
    [item] = manifest.open_review_items()
    fixed = manifest.confirm_review_type(item.id, actor="clerk", doc_type="letter", loinc="51852-2",
                                         type_display="Letter", note="it is a letter")
    assert fixed.document_id == doc.document_id and fixed.revision == doc.revision + 1
    assert (fixed.doc_type, fixed.loinc, fixed.type_confirmed) == ("letter", "51852-2", True)
    assert (fixed.patient_id, fixed.original_key, fixed.status) == (7, doc.original_key, DocumentStatus.CURRENT)
    assert fixed.reasons[-1] == "type corrected from discharge_summary to letter by clerk"
    done = manifest.review_item(item.id)
    assert (done.resolution, done.resolved_doc_type, done.resolved_patient_id) == \
        (ReviewResolution.TYPE_CONFIRMED, "letter", 7)
    assert [t for _, t in manifest.reviewed_types()] == ["letter"]
    [entry] = [e for e in manifest.access_log() if e["action"] == "resolved"]
    assert entry["reason"] == "review: type corrected from discharge_summary to letter; it is a letter"
    assert manifest.open_review_items() == []


def test_a_type_only_item_cannot_be_filed_to_a_patient_and_a_patient_item_cannot_be_type_confirmed(
        store, manifest, make_filing) -> None:
    from pipeline.errors import StorageError

    file_unconfirmed(store, manifest, make_filing)
    file_document(store=store, manifest=manifest, **make_filing(filed=False).kwargs())
    type_item, patient_item = manifest.open_review_items()
    with pytest.raises(StorageError, match="type-only"):
        manifest.resolve_review_item(type_item.id, actor="clerk", patient_id=8, patient_mrn="MRN0008")
    with pytest.raises(StorageError, match="not type-only"):
        manifest.confirm_review_type(patient_item.id, actor="clerk", doc_type="letter", loinc="51852-2",
                                     type_display="Letter")
    assert len(manifest.open_review_items()) == 2


def test_adt_rescoring_never_touches_a_type_only_item(store, manifest, make_filing) -> None:
    file_unconfirmed(store, manifest, make_filing)
    file_document(store=store, manifest=manifest, **make_filing(filed=False, patient_id=7, mrn="MRN0007").kwargs())
    [(item_id, _)] = manifest.review_items_for_patients({7, 8})
    assert manifest.review_item(item_id).kind is ReviewKind.PATIENT
    manifest.rescore_review_item(item_id, PatientMatch(MatchOutcome.REVIEW, None, (), ("re-scored",)))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_refile_keeps_the_type_unconfirmed_with_a_new_type_only_item_on_the_new_row(
        store, manifest, make_filing) -> None:
    _, doc = file_unconfirmed(store, manifest, make_filing)
    [old_item] = manifest.open_review_items()
    new = manifest.refile(doc.document_id, 8, "MRN0008", "wrong chart", "supervisor")
    assert new.type_confirmed is False
    assert manifest.review_item(old_item.id).resolution is ReviewResolution.REFILED
    [item] = manifest.open_review_items()
    assert (item.kind, item.document_id) == (ReviewKind.TYPE, new.document_id)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_reindex_rebuilds_unconfirmed_confirmed_and_corrected_types(store, manifest, make_filing, tmp_path) -> None:
    from pipeline.services.backup import reindex

    file_unconfirmed(store, manifest, make_filing)
    _, corrected = file_unconfirmed(store, manifest, make_filing)
    waiting, to_fix = manifest.open_review_items()
    manifest.confirm_review_type(to_fix.id, actor="clerk", doc_type="letter", loinc="51852-2", type_display="Letter")
    assert any(line["kind"] == "review_item" for line in replay(store))
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    fresh = Manifest(make_engine(url), store=store)
    reindex(fresh, store)
    for doc in manifest.iter_documents():
        assert fresh.get(doc.document_id) == doc
    [still_open] = fresh.open_review_items()
    assert (still_open.kind, still_open.document_id) == (ReviewKind.TYPE, waiting.document_id)
    assert fresh.get(corrected.document_id).doc_type == "letter"
    assert [t for _, t in fresh.reviewed_types()] == ["letter"]


def test_revision_0005_marks_every_earlier_row_confirmed_and_every_earlier_item_a_patient_item(
        db_url, store, manifest, make_filing) -> None:
    from sqlalchemy import text

    from .test_review_states import _alembic

    file_document(store=store, manifest=manifest, **make_filing().kwargs())
    file_unconfirmed(store, manifest, make_filing)
    _alembic(db_url, "downgrade", "0003")
    with manifest.engine.connect() as conn:
        assert "type_confirmed" not in conn.execute(text("SELECT * FROM documents")).keys()
    migrate(db_url)
    assert [d.type_confirmed for d in manifest.iter_documents()] == [True, True]  # nothing said otherwise before
    assert [i.kind for i in manifest.open_review_items()] == [ReviewKind.PATIENT]


def test_a_patient_item_with_an_unsure_type_is_confirmed_when_the_clerk_files_it(store, manifest, make_filing) -> None:
    entry = file_document(store=store, manifest=manifest, **make_filing(filed=False, type_sure=False).kwargs())
    assert manifest.get(entry.document_id).type_confirmed is False
    [item] = manifest.open_review_items()
    assert item.kind is ReviewKind.PATIENT
    filed = manifest.resolve_review_item(item.id, actor="clerk", patient_id=7, patient_mrn="MRN0007",
                                         doc_type="discharge_summary", loinc="18842-5")
    assert (filed.outcome, filed.type_confirmed) == (Outcome.FILED, True)
    assert document_reference(filed)["docStatus"] == "final"
