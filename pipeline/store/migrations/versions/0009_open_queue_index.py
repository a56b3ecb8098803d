"""The queue page's read of the open items: (id, revision, kind) of every open item, oldest first,
answered from one index alone (SQLite: a covering index; PostgreSQL: an index-only scan), without
touching the rows' JSON (reasons, candidates, identifiers).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_items_open_queue", "review_items", ["status", "id", "revision", "kind"])


def downgrade() -> None:
    # a downgrade past 0008 copies the documents table, which needs SQLite's foreign keys off, and the
    # pragma only works before the run's first write: this one (see 0008)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sa.text("PRAGMA foreign_keys = OFF"))
    op.drop_index("ix_review_items_open_queue", "review_items")
