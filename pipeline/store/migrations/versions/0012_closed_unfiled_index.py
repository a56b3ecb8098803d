"""The items closed without filing, in an index of their own: a partial index holding only the rows
with `status = 'resolved' AND resolution = 'closed_unfiled'` (SQLite and PostgreSQL both have them),
by (resolved_at, id, document_id, status, resolution). The queue page counts these items on every
view and the unidentified worklist lists them oldest closing first. The count reads this index
alone (SQLite checks the WHERE's columns even when the index's own WHERE implies them, so they are
in it: a covering index) and the document's state, one primary-key look-up per item, however many
other items there are and whatever the planner's statistics say. Before it, a queue of open items only (the `(resolution, resolved_at)`
index rated useless) made SQLite scan every review item for the count.

The queries write the two values into the SQL: a planner uses a partial index only when it can see
that the query's WHERE implies the index's, and a bound parameter hides the value (PostgreSQL's
generic plans for prepared statements). SQLite is told the index by name for the count
(`ReviewQueue.count_closed_review_items`).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_CLOSED_UNFILED = sa.text("status = 'resolved' AND resolution = 'closed_unfiled'")


def upgrade() -> None:
    op.create_index("ix_review_items_closed_unfiled", "review_items", ["resolved_at", "id", "document_id", "status", "resolution"],
                    sqlite_where=_CLOSED_UNFILED, postgresql_where=_CLOSED_UNFILED)


def downgrade() -> None:
    # a downgrade past 0008 copies the documents table, which needs SQLite's foreign keys off, and the
    # pragma only works before the run's first write: this one (see 0008)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sa.text("PRAGMA foreign_keys = OFF"))
    op.drop_index("ix_review_items_closed_unfiled", "review_items")
