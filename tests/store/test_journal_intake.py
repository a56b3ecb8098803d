"""Duplicates and rejections ride in the store's NDJSON journal, so `pipeline reindex` puts them back
when the database is lost and the store survives: on the local store and on S3 (moto), on SQLite
and on PostgreSQL. Journals written before they were journaled still reindex as before.

The inputs are real files through the real intake: generated PDFs (`make_filing`), a copy of one
received again, and the committed synthetic `samples/bad/notes_not_a_pdf.pdf`.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipeline.cli import main
from pipeline.ingest.intake import intake
from pipeline.records import IncomingDocument, Outcome, Rejection
from pipeline.services.backup import reindex
from pipeline.services.home import open_home
from pipeline.settings import Settings
from pipeline.store.audit import run_audit
from pipeline.store.filing import file_document, quarantine
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore

from .conftest import POSTGRES_ADMIN_URL, RECEIVED

NOT_A_PDF = Path(__file__).resolve().parents[2] / "samples" / "bad" / "notes_not_a_pdf.pdf"


@pytest.fixture(params=["local-sqlite", pytest.param("s3-sqlite", marks=pytest.mark.integration),
                        pytest.param("local-postgresql", marks=pytest.mark.integration)])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "s3-sqlite":
        return Settings(home=tmp_path / "home", s3_bucket=request.getfixturevalue("bucket"),
                        s3_endpoint_url=request.getfixturevalue("moto_endpoint"), s3_region="us-east-1")
    if request.param == "local-postgresql":
        return Settings(home=tmp_path / "home", database_url=request.getfixturevalue("migrated_postgres_url"))
    return Settings(home=tmp_path / "home")


def receive_history(manifest: Manifest, store: ObjectStore, make_filing, tmp_path: Path) -> str:
    """File a document and queue one, receive the first again (a duplicate), reject two inputs;
    returns the filed document's id."""
    first = make_filing(text="Discharge summary after cholecystectomy")
    filed = file_document(store=store, manifest=manifest, **first.kwargs())
    file_document(store=store, manifest=manifest, **make_filing(text="Letter unclear patient", filed=False).kwargs())
    again = tmp_path / "rescan_of_discharge.pdf"
    shutil.copyfile(first.incoming.source, again)
    incoming = intake(again, RECEIVED + timedelta(days=1, microseconds=250))
    assert isinstance(incoming, IncomingDocument)
    duplicate = file_document(store=store, manifest=manifest, **{**first.kwargs(), "incoming": incoming})
    assert duplicate.outcome is Outcome.DUPLICATE and duplicate.document_id == filed.document_id

    rejected_at = RECEIVED + timedelta(days=2)
    rejection = intake(NOT_A_PDF, rejected_at)
    assert isinstance(rejection, Rejection)
    quarantine(store=store, manifest=manifest, source=NOT_A_PDF, rejection=rejection, sha256=None,
               received_at=rejected_at)
    gone = tmp_path / "fax_0007.pdf"  # unreadable: only its reason is kept
    quarantine(store=store, manifest=manifest, source=gone,
               rejection=Rejection(gone, "fax_0007.pdf: cannot be read (Permission denied)", "OSError"),
               sha256=None, received_at=rejected_at)
    return filed.document_id


def drop_database(settings: Settings, manifest: Manifest) -> None:
    """The disaster: the manifest database is gone (the store survives)."""
    manifest.engine.dispose()
    if settings.database_url is None:
        for path in settings.home.glob("manifest.db*"):
            path.unlink()
        return
    name = settings.database_url.rpartition("/")[2]
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def test_duplicates_and_rejections_come_back_row_for_row_after_the_database_is_lost(
        home: Settings, make_filing, tmp_path: Path) -> None:
    manifest, store = open_home(home)
    receive_history(manifest, store, make_filing, tmp_path)
    events = manifest.dump_table("intake_events")
    assert [e["kind"] for e in events] == ["duplicate", "rejected", "rejected"]
    assert events[1]["quarantine_key"].endswith("notes_not_a_pdf.pdf")
    assert events[2]["quarantine_key"].endswith(".reason.txt")
    documents = manifest.dump_table("documents")
    assert manifest.pending_journal_events() == 0

    drop_database(home, manifest)
    fresh, store = open_home(home)
    assert fresh.is_empty()
    result = reindex(fresh, store)
    assert (result.documents, result.added, result.intake_events_restored) == (2, 2, 3)
    assert fresh.dump_table("intake_events") == events  # ids included
    assert fresh.dump_table("documents") == documents
    report = run_audit(fresh, store, journal_check=True)  # the quarantine keys name stored objects
    assert not report.findings and report.objects_checked == 4 + 2

    again = reindex(fresh, store)
    assert (again.added, again.intake_events_restored) == (0, 0)
    assert fresh.dump_table("intake_events") == events
    # ids go on after the restored ones (PostgreSQL: the sequence was moved past them)
    fresh.record_duplicate("third_copy.pdf", events[0]["sha256"], events[0]["document_id"], RECEIVED)
    assert fresh.intake_events()[-1]["id"] == events[-1]["id"] + 1


def test_a_snapshot_carries_them_so_a_reindex_from_it_loses_nothing(make_filing, tmp_path: Path, capsys) -> None:
    home = Settings(home=tmp_path / "home")
    manifest, store = open_home(home)
    receive_history(manifest, store, make_filing, tmp_path)
    events = manifest.dump_table("intake_events")
    assert main(["--home", str(home.home), "reindex", "--snapshot", "--json"]) == 0
    capsys.readouterr()
    drop_database(home, manifest)
    assert main(["--home", str(home.home), "reindex", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["intake_events_restored"] == 3
    assert open_home(home).manifest.dump_table("intake_events") == events


def test_an_old_journal_without_them_reindexes_as_before_and_a_snapshot_fills_the_gap(
        make_filing, tmp_path: Path, capsys) -> None:
    """Rows recorded by the previous release reached the database only: reindex restores the
    documents and leaves the events alone, `audit --journal` names the gap, a snapshot closes it."""
    home = Settings(home=tmp_path / "home")
    manifest, store = open_home(home)
    filed = file_document(store=store, manifest=manifest, **make_filing(text="Consent for colonoscopy").kwargs())
    reason_key = "quarantine/2026/03/02/unreadable-blank.pdf.093000000000-abcdef.reason.txt"
    store.put(reason_key, b"EmptyFileError: blank.pdf: the file is empty\n", "text/plain; charset=utf-8")
    with manifest.engine.begin() as conn:  # as the previous release wrote them: no journal event
        conn.execute(text("INSERT INTO intake_events (kind, at, source_name, sha256, document_id) "
                          "VALUES ('duplicate', :at, 'scan_again.pdf', :sha, :doc)"),
                     {"at": RECEIVED, "sha": filed.sha256, "doc": filed.document_id})
        conn.execute(text("INSERT INTO intake_events (kind, at, source_name, error, reason, quarantine_key) "
                          "VALUES ('rejected', :at, 'blank.pdf', 'EmptyFileError', 'blank.pdf: the file is empty', "
                          ":key)"), {"at": RECEIVED, "key": reason_key})
    old_rows = manifest.dump_table("intake_events")

    fresh, _ = open_home(Settings(home=tmp_path / "fresh"))
    result = reindex(fresh, store)
    assert (result.documents, result.intake_events_restored) == (1, 0)
    assert fresh.get(filed.document_id) == manifest.get(filed.document_id)
    assert fresh.intake_events() == []

    assert main(["--home", str(home.home), "reindex", "--json"]) == 0  # in place: the old rows stay
    assert json.loads(capsys.readouterr().out)["intake_events_restored"] == 0
    assert manifest.dump_table("intake_events") == old_rows
    assert main(["--home", str(home.home), "audit", "--journal", "--json"]) == 0
    gaps = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["kind"], f["document_id"]) for f in gaps] == [("journal-missing", filed.document_id),
                                                             ("journal-missing", None)]
    assert "reindex --snapshot" in gaps[1]["detail"] and gaps[1]["key"] == reason_key

    assert main(["--home", str(home.home), "reindex", "--snapshot"]) == 0
    capsys.readouterr()
    later, _ = open_home(Settings(home=tmp_path / "later"))
    assert reindex(later, store).intake_events_restored == 2
    assert later.dump_table("intake_events") == old_rows


def test_an_event_recorded_in_the_new_database_before_the_reindex_keeps_its_id(make_filing, tmp_path: Path) -> None:
    home = Settings(home=tmp_path / "home")
    manifest, store = open_home(home)
    receive_history(manifest, store, make_filing, tmp_path)
    events = manifest.dump_table("intake_events")
    drop_database(home, manifest)
    fresh, store = open_home(home)
    # the watcher ran before anyone reindexed: the same scan came in again, as event id 1
    fresh.record_duplicate("rescan_of_discharge.pdf", events[0]["sha256"], events[0]["document_id"],
                           RECEIVED + timedelta(days=5))
    newer = fresh.dump_table("intake_events")
    assert newer[0]["id"] == events[0]["id"]

    assert reindex(fresh, store).intake_events_restored == 3
    rows = fresh.dump_table("intake_events")
    assert rows[0] == newer[0]
    assert rows[1:3] == events[1:]  # ids 2 and 3 were free
    assert {k: v for k, v in rows[3].items() if k != "id"} == {k: v for k, v in events[0].items() if k != "id"}
    assert reindex(fresh, store).intake_events_restored == 0
    assert fresh.dump_table("intake_events") == rows
