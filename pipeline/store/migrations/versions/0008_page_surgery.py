"""Page surgery and the supervisor's dashboard.

- `documents.status` may be "superseded": a split, merge, rotation or dropped page made new
  versions of the document; the old row and its objects are kept as they were.
- `documents.derived_from` (JSON): on a version made by page surgery, what it was made from
  (operation, source documents and their pages, rotations, who and why).
- indexes the dashboard's aggregates use: open items by age, items cleared by day and clerk,
  duplicates and rejections by day, and the items closed without filing (the queue page counts them).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_STATUS = "status IN ('current', 'entered-in-error')"
NEW_STATUS = "status IN ('current', 'entered-in-error', 'superseded')"


def _status_check(batch: BatchOperations, condition: str) -> None:
    batch.drop_constraint(op.f("ck_documents_status"), type_="check")
    batch.create_check_constraint(op.f("ck_documents_status"), sa.text(condition))


def _foreign_keys_off() -> None:
    """SQLite copies the table to change a CHECK, and review_items' rows point at it meanwhile: its
    foreign keys go off (`database.migrate` does it too, and checks them after). The pragma only
    works before the run's first write, which is why `migrate` is the place that counts."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sa.text("PRAGMA foreign_keys = OFF"))


def upgrade() -> None:
    _foreign_keys_off()
    with op.batch_alter_table("documents") as batch:  # SQLite: one copy of the table
        batch.add_column(sa.Column("derived_from", sa.JSON, nullable=True))
        _status_check(batch, NEW_STATUS)
    op.create_index("ix_review_items_status_created_at", "review_items", ["status", "created_at"])
    op.create_index("ix_review_items_resolved_at", "review_items", ["resolved_at", "resolved_by"])
    op.create_index("ix_intake_events_at", "intake_events", ["at"])
    op.create_index("ix_review_items_resolution", "review_items", ["resolution", "resolved_at"])


def downgrade() -> None:
    _foreign_keys_off()
    op.drop_index("ix_review_items_resolution", "review_items")
    op.drop_index("ix_intake_events_at", "intake_events")
    op.drop_index("ix_review_items_resolved_at", "review_items")
    op.drop_index("ix_review_items_status_created_at", "review_items")
    op.execute(sa.text("UPDATE documents SET status = 'current' WHERE status = 'superseded'"))
    with op.batch_alter_table("documents") as batch:
        _status_check(batch, OLD_STATUS)
        batch.drop_column("derived_from")
