"""`documents.barcodes` (JSON): the barcodes read from a document's pages (page, format, text, box),
so page surgery carries them, pages renumbered, to the versions it makes and a split part keeps its
cover sheet or patient label. Rows from before keep none (NULL).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("barcodes", sa.JSON, nullable=True))


def downgrade() -> None:
    # SQLite copies the documents table to drop a column; review_items point at it meanwhile, so its
    # foreign keys go off first (the pragma only works before the run's first write; see 0008)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sa.text("PRAGMA foreign_keys = OFF"))
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("barcodes")
