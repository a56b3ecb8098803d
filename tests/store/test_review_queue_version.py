"""The review queue's change count (revision 0011): every insert, update and delete of a review item
moves it in the changing transaction, whoever writes, so the queue page can keep the open items while
it stands still. A resolve and a reopen between two reads leave as many items open, yet move it."""

from __future__ import annotations

from sqlalchemy import inspect, text

from pipeline.records import ReviewResolution
from pipeline.store.database import migrate
from pipeline.store.filing import file_document

from .test_review_states import _alembic


def _queue_items(store, manifest, make_filing, count: int) -> list[int]:
    for n in range(count):
        file_document(store=store, manifest=manifest,
                      **make_filing(filed=False, text=f"CONSULT NOTE number {n} no identifiers").kwargs())
    return [item.id for item in manifest.open_review_items()]


def test_every_change_to_a_review_item_moves_the_count(store, manifest, make_filing) -> None:
    seen = [manifest.review_queue_version()]
    [item] = _queue_items(store, manifest, make_filing, 1)
    seen.append(manifest.review_queue_version())
    manifest.resolve_review_item(item, actor="clerk.bo", resolution=ReviewResolution.CLOSED_UNFILED, note="none")
    seen.append(manifest.review_queue_version())
    manifest.reopen_review_item(item, actor="super.vi", reason="patient registered")
    seen.append(manifest.review_queue_version())
    with manifest.engine.begin() as conn:  # a writer that goes around the pipeline's code is counted too
        conn.execute(text("UPDATE review_items SET note = 'by hand' WHERE id = :id"), {"id": item})
    seen.append(manifest.review_queue_version())
    assert seen == sorted(set(seen)), seen  # it only ever grows

    # reading the queue and logging the view change no review item: the count stands still
    manifest.open_review_revisions()
    manifest.record_access("clerk.bo", "viewed", reason="review queue: 1 items listed")
    assert manifest.review_queue_version() == seen[-1]


def test_a_resolve_and_a_reopen_between_two_reads_are_seen(store, manifest, make_filing) -> None:
    first, second = _queue_items(store, manifest, make_filing, 2)
    manifest.resolve_review_item(second, actor="clerk.bo", resolution=ReviewResolution.CLOSED_UNFILED, note="none")
    before = manifest.review_queue_version()
    assert [i for i, _, _ in manifest.open_review_revisions()] == [first]

    manifest.resolve_review_item(first, actor="clerk.bo", resolution=ReviewResolution.CLOSED_UNFILED, note="none")
    manifest.reopen_review_item(second, actor="super.vi", reason="patient registered")
    # as many items open as before (a count or a sum of the open rows could not tell), but other ones
    assert [i for i, _, _ in manifest.open_review_revisions()] == [second]
    assert manifest.review_queue_version() > before


def test_the_count_goes_with_revision_0011_and_comes_back(db_url, store, manifest, make_filing) -> None:
    _queue_items(store, manifest, make_filing, 1)
    _alembic(db_url, "downgrade", "0010")
    assert "review_queue_version" not in inspect(manifest.engine).get_table_names()
    migrate(db_url)
    start = manifest.review_queue_version()
    _queue_items(store, manifest, make_filing, 1)
    assert manifest.review_queue_version() > start
