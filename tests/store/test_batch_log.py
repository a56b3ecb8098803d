"""Batches kept once and backfill runs with their items, on SQLite and PostgreSQL (revision 0009)."""

from __future__ import annotations

from pipeline.records import IncomingDocument, ItemStatus, RunStatus
from pipeline.store.batch_log import BackfillItem
from pipeline.store.filing import keep_batch
from pipeline.store.objects import sha256_of
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
