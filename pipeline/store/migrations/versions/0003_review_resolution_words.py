"""Review items closed without filing are stored as "closed_unfiled", no longer "rejected" (the word
`Outcome.REJECTED` uses for an unreadable input). Journals and exports written before keep the old
word; `ReviewResolution.stored` reads both.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD, NEW = "rejected", "closed_unfiled"


def _rename(old: str, new: str) -> None:
    op.execute(sa.text("UPDATE review_items SET resolution = :new WHERE resolution = :old")
               .bindparams(old=old, new=new))


def upgrade() -> None:
    _rename(OLD, NEW)


def downgrade() -> None:
    _rename(NEW, OLD)
