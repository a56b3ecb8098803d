"""A document may be filed with its type unconfirmed (the patient certain, the type not), and a review
item may be type-only: `documents.type_confirmed` (true for every row before) and `review_items.kind`
("patient" for every item before; "type" for a type-only item).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("type_confirmed", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("review_items", sa.Column("kind", sa.String(16), nullable=False, server_default="patient"))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of `documents` would trip the
    # review items' foreign key to it
    op.execute("ALTER TABLE review_items DROP COLUMN kind")
    op.execute("ALTER TABLE documents DROP COLUMN type_confirmed")
