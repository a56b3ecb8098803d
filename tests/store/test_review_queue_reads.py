"""What the review pages read on every view, answered from an index: an item's neighbours in the
queue (two seeks, however long the queue) and the count of items closed without filing (revision
0012's partial index: a queue of open items only no longer makes SQLite scan every review item)."""

from __future__ import annotations

from sqlalchemy import event, inspect, text

from pipeline.records import ReviewResolution
from pipeline.store.database import make_engine, migrate
from pipeline.store.manifest import Manifest

from .test_review_queue_version import _queue_items
from .test_review_states import _alembic


def _close(manifest, item: int) -> None:
    manifest.resolve_review_item(item, actor="clerk.bo", resolution=ReviewResolution.CLOSED_UNFILED,
                                 note="cannot identify")


def test_neighbours_are_the_nearest_open_items_either_side(store, manifest, make_filing) -> None:
    first, second, third, fourth = _queue_items(store, manifest, make_filing, 4)
    _close(manifest, second)
    assert manifest.open_review_neighbours(first) == (None, third)  # the closed one is skipped
    assert manifest.open_review_neighbours(third) == (first, fourth)
    assert manifest.open_review_neighbours(fourth) == (third, None)
    assert manifest.open_review_neighbours(second) == (first, third)  # a closed item still has its place
    _close(manifest, first)
    _close(manifest, fourth)
    assert manifest.open_review_neighbours(third) == (None, None)


def test_the_closed_count_follows_closing_reopening_and_filing(store, manifest, make_filing) -> None:
    first, second, third = _queue_items(store, manifest, make_filing, 3)
    assert manifest.count_closed_review_items() == 0
    _close(manifest, first)
    _close(manifest, second)
    assert manifest.count_closed_review_items() == 2
    manifest.reopen_review_item(second, actor="super.vi", reason="patient registered")
    assert manifest.count_closed_review_items() == 1
    # a document closed without filing and filed since (by hand here; `pipeline refile` in use) has left it
    with manifest.engine.begin() as conn:
        conn.execute(text("UPDATE documents SET patient_id = 7 WHERE document_id = :d"),
                     {"d": manifest.review_item(first).document_id})
    assert manifest.count_closed_review_items() == 0
    assert [item.id for item, _, _ in manifest.closed_review_items()] == []
    assert [i for i, _, _ in manifest.open_review_revisions()] == [second, third]


def test_sqlite_counts_from_the_partial_index_when_every_item_is_open(store, sqlite_url, make_filing) -> None:
    engine = make_engine(sqlite_url)
    manifest = Manifest(engine, store=store)
    _queue_items(store, manifest, make_filing, 30)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # statistics that rate the (resolution, resolved_at) index useless
    statements: list[tuple[str, tuple]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, *rest: statements.append((statement, parameters)))
    assert manifest.count_closed_review_items() == 0
    [(count, parameters)] = [s for s in statements if "count(" in s[0].lower()]
    with engine.connect() as conn:  # the statement as it ran, with its parameters
        plan = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + count, parameters))
    engine.dispose()
    assert "COVERING INDEX ix_review_items_closed_unfiled" in plan, plan


def test_the_index_goes_with_revision_0012_and_comes_back(db_url, store, manifest, make_filing) -> None:
    [item] = _queue_items(store, manifest, make_filing, 1)
    _close(manifest, item)
    _alembic(db_url, "downgrade", "0011")
    assert "ix_review_items_closed_unfiled" not in {i["name"] for i in inspect(manifest.engine).get_indexes("review_items")}
    migrate(db_url)
    assert "ix_review_items_closed_unfiled" in {i["name"] for i in inspect(manifest.engine).get_indexes("review_items")}
    assert manifest.count_closed_review_items() == 1
