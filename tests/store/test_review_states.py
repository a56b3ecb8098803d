"""Review states are enums; revision 0003 renames the stored "rejected" (closed without filing) to
"closed_unfiled", and journals or exports written before it still read back right."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from pipeline.records import ReviewResolution, ReviewStatus
from pipeline.store.database import MIGRATIONS_DIR, make_engine, migrate
from pipeline.store.filing import file_document
from pipeline.store.manifest import Manifest
from pipeline.store.mapping import review_from_json, review_to_json


def _alembic(url: str, verb: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, verb)(config, revision)
    finally:
        engine.dispose()


@pytest.fixture
def closed_item(store, manifest, make_filing) -> int:
    file_document(store=store, manifest=manifest, **make_filing(filed=False).kwargs())
    [item] = manifest.open_review_items()
    manifest.resolve_review_item(item.id, actor="clerk.bo", resolution=ReviewResolution.CLOSED_UNFILED,
                                 note="no identifiers")
    return item.id


def _stored(manifest: Manifest, item_id: int) -> str:
    with manifest.engine.connect() as conn:
        return conn.execute(text("SELECT resolution FROM review_items WHERE id = :id"), {"id": item_id}).scalar()


def test_closed_without_filing_is_stored_apart_from_the_rejected_outcome(manifest, closed_item) -> None:
    item = manifest.review_item(closed_item)
    assert item.status is ReviewStatus.RESOLVED and item.resolution is ReviewResolution.CLOSED_UNFILED
    assert _stored(manifest, closed_item) == "closed_unfiled"
    assert [i.id for i, _, _ in manifest.closed_review_items()] == [closed_item]


def test_revision_0003_renames_the_stored_word_both_ways(db_url, manifest, closed_item) -> None:
    _alembic(db_url, "downgrade", "0002")
    assert _stored(manifest, closed_item) == "rejected"  # what a database from before holds
    migrate(db_url)
    assert _stored(manifest, closed_item) == "closed_unfiled"
    assert manifest.review_item(closed_item).resolution is ReviewResolution.CLOSED_UNFILED


def test_a_journal_line_or_export_row_written_before_0003_reads_as_closed_unfiled(manifest, closed_item) -> None:
    line = review_to_json(manifest.review_item(closed_item))
    assert line["resolution"] == "closed_unfiled" and line["status"] == "resolved"
    assert review_from_json({**line, "resolution": "rejected"}).resolution is ReviewResolution.CLOSED_UNFILED
    rows = manifest.dump_table("review_items")
    fresh = Manifest(manifest.engine)
    with fresh.engine.begin() as conn:
        conn.execute(text("DELETE FROM review_candidates"))
        conn.execute(text("DELETE FROM review_items"))
    fresh.load_table("review_items", [{**row, "resolution": "rejected"} for row in rows])
    assert _stored(fresh, closed_item) == "closed_unfiled"
