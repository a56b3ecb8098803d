"""Batches kept once and backfill runs with their items, on SQLite and PostgreSQL (revision 0009)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from pipeline.records import IncomingDocument, ItemStatus, RunStatus
from pipeline.services.backup import reindex, write_snapshot
from pipeline.store.audit import run_audit
from pipeline.store.batch_log import BackfillItem
from pipeline.store.database import make_engine, migrate
from pipeline.store.filing import keep_batch
from pipeline.store.manifest import Manifest
from pipeline.store.objects import sha256_of
from pipeline.store.tables import BatchRow
from .conftest import RECEIVED, make_pdf


def test_a_batch_original_is_stored_once_with_its_row(manifest, store, tmp_path):
    pdf = make_pdf(tmp_path / "box.pdf")
    sha256, size = sha256_of(pdf)
    incoming = IncomingDocument(pdf, "box.pdf", sha256, size, "application/pdf", RECEIVED)
    first = keep_batch(store=store, manifest=manifest, incoming=incoming, pages=9, parts=3)
    again = keep_batch(store=store, manifest=manifest, incoming=incoming, pages=9, parts=3)
    assert first == again
    assert first.original_key == f"batches/2026/03/{sha256}.pdf"
    assert store.get(first.original_key) == pdf.read_bytes()
    assert [k for k in store.iter_keys("batches/")] == [first.original_key]
    assert manifest.batch(sha256).completed_at is None
    manifest.complete_batch(sha256)
    assert manifest.batch(sha256).completed_at is not None
    assert manifest.batch_parts(sha256) == []


def test_a_run_lists_its_items_and_keeps_what_is_not_done(manifest):
    manifest.start_run("run1", ["/archive"], 2, [("/archive/a.pdf", 3), ("/archive/b.tif", 1), ("/archive/c.png", 1)])
    assert manifest.run_info("run1").status is RunStatus.RUNNING
    assert [i.status for i in manifest.run_items("run1")] == [ItemStatus.PENDING] * 3
    manifest.finish_item("run1", BackfillItem("/archive/a.pdf", 3, ItemStatus.DONE, "f" * 64,
                                              ({"status": "filed", "part": 1},)))
    manifest.finish_item("run1", BackfillItem("/archive/b.tif", 1, ItemStatus.UNDONE, error="StorageError"))
    left = manifest.run_items("run1", not_done=True)
    assert [(i.path, i.status, i.error) for i in left] == [("/archive/b.tif", ItemStatus.UNDONE, "StorageError"),
                                                           ("/archive/c.png", ItemStatus.PENDING, None)]
    assert manifest.run_items("run1")[0].results == ({"status": "filed", "part": 1},)
    manifest.set_run_status("run1", RunStatus.STOPPED)
    info = manifest.run_info("run1")
    assert info.status is RunStatus.STOPPED and info.finished_at is not None
    assert manifest.latest_run() == "run1"


def _batches_and_runs(manifest) -> tuple[list, list, list]:
    runs, items = manifest.run_rows()
    return manifest.batch_rows(), runs, [{k: v for k, v in item.items() if k != "id"} for item in items]


@pytest.mark.parametrize("from_snapshot", [False, True], ids=["journal", "snapshot"])
def test_batches_and_runs_come_back_from_the_store_alone(manifest, store, tmp_path, from_snapshot):
    for name, complete in (("box.pdf", True), ("half.pdf", False)):  # one split to the end, one interrupted
        pdf = make_pdf(tmp_path / name)
        sha256, size = sha256_of(pdf)
        keep_batch(store=store, manifest=manifest, pages=5, parts=2,
                   incoming=IncomingDocument(pdf, name, sha256, size, "application/pdf", RECEIVED))
        if complete:
            manifest.complete_batch(sha256)
    manifest.start_run("run1", ["/archive"], 2, [("/archive/a.pdf", 3), ("/archive/b.tif", 1)])
    manifest.finish_item("run1", BackfillItem("/archive/a.pdf", 3, ItemStatus.DONE, "f" * 64,
                                              ({"status": "filed", "part": 1, "batch_pages": [1, 3]},)))
    manifest.set_run_status("run1", RunStatus.STOPPED)
    if from_snapshot:
        write_snapshot(manifest, store)  # a replay starts at the newest snapshot: it must hold them
    rebuilt_url = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    migrate(rebuilt_url)
    rebuilt = Manifest(make_engine(rebuilt_url))
    counts = reindex(rebuilt, store)
    assert (counts.batches, counts.batches_restored, counts.backfill_runs) == (2, 2, 1)
    assert _batches_and_runs(rebuilt) == _batches_and_runs(manifest)
    assert {(b["original_name"], b["completed_at"] is not None) for b in rebuilt.batch_rows()} == {
        ("box.pdf", True), ("half.pdf", False)}
    assert [i.status for i in rebuilt.run_items("run1")] == [ItemStatus.DONE, ItemStatus.PENDING]
    assert reindex(rebuilt, store).batches_restored == 0  # twice adds nothing
    assert _batches_and_runs(rebuilt) == _batches_and_runs(manifest)


def test_a_batch_recorded_before_batches_were_journaled_is_named_by_the_journal_audit(manifest, store, tmp_path):
    pdf = make_pdf(tmp_path / "old.pdf")
    sha256, size = sha256_of(pdf)
    key = store.put(f"batches/2025/01/{sha256}.pdf", pdf, "application/pdf").key
    with manifest.engine.begin() as conn:  # as an older version wrote it: the row alone, no journal line
        conn.execute(insert(BatchRow).values(sha256=sha256, original_name="old.pdf", media_type="application/pdf",
                                             size=size, pages=4, parts=2, original_key=key, received_at=RECEIVED,
                                             completed_at=RECEIVED))
    gaps = [(f.kind, f.key) for f in run_audit(manifest, store, journal_check=True).findings
            if f.kind.startswith("journal")]
    assert gaps == [("journal-missing", key)]
    write_snapshot(manifest, store)
    assert not [f for f in run_audit(manifest, store, journal_check=True).findings if f.kind.startswith("journal")]
