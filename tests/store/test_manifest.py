"""The manifest on SQLite and PostgreSQL: search, refile, merges, review queue, access log."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, text

from pipeline.errors import NotFoundError, StorageError
from pipeline.records import DocumentStatus, MatchOutcome, Outcome, PatientMatch
from pipeline.store.database import make_engine, migrate
from pipeline.store.filing import file_document

from .conftest import candidate


@pytest.fixture
def filed(store, manifest, make_filing):
    def go(**kwargs):
        return file_document(store=store, manifest=manifest, **make_filing(**kwargs).kwargs())
    return go


def test_migrate_is_idempotent_and_creates_every_table(db_url: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini in sight: the scripts ship inside the package
    migrate(db_url)
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"documents", "document_text", "intake_events", "review_items", "review_candidates",
            "access_log"} <= tables


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def test_workers_starting_at_once_migrate_without_tripping_over_each_other(backend, tmp_path, request) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url = f"sqlite:///{tmp_path / 'fresh.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: migrate(url), range(4)))  # raises if any of them failed
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_migrate_reports_an_unreachable_database_as_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot migrate") as info:
        migrate("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    assert info.value.exit_code == 7


def test_text_search_lists_the_most_recently_indexed_first(manifest, filed) -> None:
    older = filed(text="Progress note asthma", service=date(2025, 12, 1))
    newer = filed(text="Progress note asthma again", service=date(2020, 1, 1))
    assert [d.document_id for d in manifest.search(text="asthma")] == [newer.document_id, older.document_id]
    assert [d.document_id for d in manifest.search(text="asthma", patient_mrn="MRN0007", limit=1)] == \
        [newer.document_id]


def test_search_by_patient_type_dates_and_text(manifest, filed) -> None:
    a = filed(mrn="MRN1", patient_id=1, service=date(2024, 1, 5), text="Discharge summary pneumonia resolved")
    b = filed(mrn="MRN1", patient_id=1, service=date(2025, 6, 1), doc_type="consent", loinc="59284-0",
              text="Consent for colonoscopy procedure")
    c = filed(mrn="MRN2", patient_id=2, service=date(2025, 2, 1), text="Discharge summary fractured femur")
    ids = lambda docs: [d.document_id for d in docs]  # noqa: E731
    assert ids(manifest.search(patient_mrn="MRN1")) == [b.document_id, a.document_id]  # newest first
    assert ids(manifest.search(patient_mrn="MRN1", doc_type="discharge_summary")) == [a.document_id]
    assert ids(manifest.search(date_from=date(2025, 1, 1))) == [b.document_id, c.document_id]
    assert ids(manifest.search(date_to=date(2024, 12, 31))) == [a.document_id]
    assert ids(manifest.search(text="femur")) == [c.document_id]
    assert ids(manifest.search(text="discharge pneumonia")) == [a.document_id]  # every word must be there
    assert ids(manifest.search(text="colonoscopy", patient_mrn="MRN2")) == []
    assert ids(manifest.search(text="   ")) == []
    assert ids(manifest.search(text='"quoted" AND OR NEAR(')) == []  # user text never breaks the query
    assert len(manifest.search(limit=2)) == 2


def test_stemmed_full_text_search(manifest, filed) -> None:
    doc = filed(text="The patient was admitted with fractures")
    assert [d.document_id for d in manifest.search(text="fracture")] == [doc.document_id]


def test_refile_marks_the_old_entry_entered_in_error_and_relates_the_new(manifest, store, filed) -> None:
    old = filed(mrn="MRN1", patient_id=1)
    new = manifest.refile(old.document_id, 2, "MRN2", "label showed the wrong patient", "clerk.ann")
    assert new.relates_to == old.document_id and new.relates_code == "replaces"
    assert new.patient_mrn == "MRN2" and new.status is DocumentStatus.CURRENT and new.filed_by == "clerk.ann"
    assert new.original_key == old.original.key  # the object stays
    assert manifest.get(old.document_id).status is DocumentStatus.ENTERED_IN_ERROR
    assert [d.document_id for d in manifest.search(patient_mrn="MRN1")] == []
    assert [d.document_id for d in manifest.search(patient_mrn="MRN1", status=None)] == [old.document_id]
    assert manifest.find_duplicate(old.sha256) == new.document_id
    assert [d.document_id for d in manifest.history(old.document_id)] == [old.document_id, new.document_id]
    log = manifest.access_log(old.document_id)
    assert log[0]["action"] == "refiled" and log[0]["actor"] == "clerk.ann" and "wrong patient" in log[0]["reason"]
    with pytest.raises(StorageError, match="entered-in-error; refile its current version"):
        manifest.refile(old.document_id, 3, "MRN3", "again", "clerk.ann")
    with pytest.raises(NotFoundError):
        manifest.refile("no-such-id", 3, "MRN3", "x", "clerk.ann")
    with pytest.raises(StorageError, match="needs a reason"):
        manifest.refile(new.document_id, 3, "MRN3", " ", "clerk.ann")


def test_merge_repoints_documents_to_the_survivor(manifest, filed) -> None:
    a = filed(mrn="OLD9", patient_id=9)
    b = filed(mrn="OLD9", patient_id=9, doc_type="consent")
    other = filed(mrn="KEEP5", patient_id=5)
    moved = manifest.repoint_patient(9, 4, "SURV4", "ADT A40 merge", "adt")
    assert moved == 2
    assert {d.document_id for d in manifest.search(patient_mrn="SURV4")} == {a.document_id, b.document_id}
    assert manifest.get(other.document_id).patient_mrn == "KEEP5"
    entries = manifest.access_log(a.document_id)
    assert entries[-1]["action"] == "merged" and "was MRN OLD9" in entries[-1]["reason"]
    assert manifest.repoint_patient(9, 4, "SURV4", "again", "adt") == 0


def test_review_items_for_patients_and_rescoring(manifest, filed) -> None:
    queued = filed(filed=False, patient_id=20, mrn="M20")  # candidates 20 and 21
    filed(filed=False, patient_id=30, mrn="M30")
    found = manifest.review_items_for_patients({21, 99})
    assert len(found) == 1
    item_id, identifiers = found[0]
    assert identifiers.family_name == "DOE" and manifest.review_item(item_id).document_id == queued.document_id
    assert manifest.review_items_for_patients(set()) == []
    match = PatientMatch(MatchOutcome.REVIEW, None, (candidate(40, "M40", 0.8),), ("birth date now differs",))
    manifest.rescore_review_item(item_id, match)
    item = manifest.review_item(item_id)
    assert [c.patient_id for c in item.candidates] == [40] and item.match_reasons == ("birth date now differs",)
    assert item.status == "open"
    assert manifest.review_items_for_patients({21}) == []
    assert [i for i, _ in manifest.review_items_for_patients({40})] == [item_id]


def test_resolving_a_review_item_files_it_and_feeds_reviewed_types(manifest, filed) -> None:
    queued = filed(filed=False, text="Consent to treatment signed")
    [item] = manifest.open_review_items()
    doc = manifest.resolve_review_item(item.id, actor="clerk.bo", patient_id=20, patient_mrn="M20",
                                       doc_type="consent", loinc="59284-0", type_display="Consent Document")
    assert doc.outcome is Outcome.FILED and doc.patient_mrn == "M20" and doc.doc_type == "consent"
    assert manifest.open_review_items() == []
    [(text_, doc_type)] = manifest.reviewed_types()
    assert text_.startswith("Consent to treatment") and doc_type == "consent"
    with pytest.raises(StorageError, match="already resolved"):
        manifest.resolve_review_item(item.id, actor="clerk.bo", patient_id=20, patient_mrn="M20")
    assert manifest.access_log(queued.document_id)[-1]["action"] == "resolved"


def test_access_log_is_append_only_in_the_database(manifest, db_url) -> None:
    manifest.record_access("clerk.ann", "viewed", document_id="d1", reason="chart review")
    engine = make_engine(db_url)
    statements = ["UPDATE access_log SET actor = 'someone else'", "DELETE FROM access_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE access_log")
    for statement in statements:
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()
    [entry] = manifest.access_log()
    assert entry["actor"] == "clerk.ann" and entry["action"] == "viewed"
    with pytest.raises(ValueError):
        manifest.record_access("clerk.ann", "deleted", document_id="d1")


def test_get_unknown_document_is_not_found(manifest) -> None:
    with pytest.raises(NotFoundError, match="no document nope") as info:
        manifest.get("nope")
    assert info.value.exit_code == 9


def test_the_same_bytes_inserted_by_two_workers_are_kept_once(manifest, filed) -> None:
    from dataclasses import replace

    first = manifest.get(filed().document_id)
    racing = replace(first, document_id="racing-worker-copy", original_key="originals/review/x.pdf")
    assert manifest.insert_document(racing, "text") == first.document_id
    assert manifest.count() == 1
    with pytest.raises(NotFoundError):
        manifest.get("racing-worker-copy")


def test_the_orm_tables_match_what_the_migration_creates(db_url: str) -> None:
    """tables.py and migrations/versions/0001 describe the same columns (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pipeline.store import tables
    from pipeline.store.database import Base

    mine = {t.__tablename__ for t in vars(tables).values() if isinstance(t, type) and hasattr(t, "__tablename__")}
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()

    def table_of(diff) -> str | None:
        op = diff[0] if isinstance(diff, list) else diff
        for part in op[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return table.name
            if isinstance(part, str) and part in mine:
                return part
            if name in mine:
                return name
        return None

    column_ops = {"add_column", "remove_column", "modify_type", "modify_nullable", "add_table", "remove_table"}
    drift = [d for d in diffs if (d[0] if isinstance(d, list) else d)[0] in column_ops and table_of(d) in mine]
    # PostgreSQL's generated `document_text.tsv` is deliberately left out of the ORM (never written)
    drift = [d for d in drift if not (d[0] == "remove_column" and d[2] == "document_text" and d[3].name == "tsv")]
    assert drift == []
