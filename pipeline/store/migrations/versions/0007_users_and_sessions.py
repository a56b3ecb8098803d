"""The review app's accounts: users (name, role, argon2 password hash, enabled), server-side
sessions (only the SHA-256 of a session id is kept) and failed sign-ins (for the rate limit).
And two indexes for searching the filed record without a patient: by date of service, and by type
then date of service (the browser's search by type and date range, newest first).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256)),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("password_changed_at", TZ),
        sa.CheckConstraint("role IN ('clerk', 'supervisor', 'admin')", name="role"),
    )
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
    )
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"])
    op.create_index("ix_sign_in_failures_name", "sign_in_failures", ["name"])
    # in the order search lists them (newest date of service first, no date last); SQLite puts NULLs
    # last in a descending scan of a plain index, PostgreSQL needs the order spelled out
    newest = "date_of_service DESC NULLS LAST, filed_at DESC, document_id"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_documents_date_of_service ON documents ({newest})")
        op.execute(f"CREATE INDEX ix_documents_type_date ON documents (doc_type, {newest})")
    else:
        op.create_index("ix_documents_date_of_service", "documents", ["date_of_service", "filed_at"])
        op.create_index("ix_documents_type_date", "documents", ["doc_type", "date_of_service", "filed_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_type_date", "documents")
    op.drop_index("ix_documents_date_of_service", "documents")
    op.drop_table("sign_in_failures")
    op.drop_table("sessions")
    op.drop_table("users")
