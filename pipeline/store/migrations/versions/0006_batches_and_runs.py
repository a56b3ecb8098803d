"""Batches and backfill runs: a document cut from a batch records the batch and its page range;
the batch original is kept once; a backfill run and its items (with a status) make it resumable.

    documents.batch_sha256, batch_part, batch_first_page, batch_last_page   (null for a lone scan)
    batches          one row per batch file split: its SHA-256, name, pages, parts, the stored original
    backfill_runs    one row per `pipeline backfill`: when, what paths, how it ended
    backfill_items   one row per input file of a run: its status (pending / done / undone) and results

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("documents", sa.Column("batch_sha256", sa.String(64)))
    op.add_column("documents", sa.Column("batch_part", sa.Integer))
    op.add_column("documents", sa.Column("batch_first_page", sa.Integer))
    op.add_column("documents", sa.Column("batch_last_page", sa.Integer))
    op.create_index("ix_documents_batch", "documents", ["batch_sha256", "batch_part"])
    op.create_table(
        "batches",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("original_name", sa.String(512), nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("parts", sa.Integer, nullable=False),
        sa.Column("original_key", sa.String(1024), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("completed_at", TZ),
    )
    op.create_table(
        "backfill_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paths", sa.JSON, nullable=False),
        sa.Column("workers", sa.Integer, nullable=False),
    )
    op.create_table(
        "backfill_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("backfill_runs.id"), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", TZ),
        sa.UniqueConstraint("run_id", "path", name="uq_backfill_items_run_path"),
    )
    op.create_index("ix_backfill_items_run_status", "backfill_items", ["run_id", "status"])


def downgrade() -> None:
    op.drop_table("backfill_items")
    op.drop_table("backfill_runs")
    op.drop_table("batches")
    op.drop_index("ix_documents_batch", "documents")
    # plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of `documents` would have to
    # drop the table other tables' foreign keys point at
    for name in ("batch_last_page", "batch_first_page", "batch_part", "batch_sha256"):
        op.drop_column("documents", name)
