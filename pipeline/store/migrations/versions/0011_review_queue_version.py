"""`review_queue_version`: one row counting the changes to `review_items`, kept by triggers in the
transaction of every insert, update and delete (and a PostgreSQL TRUNCATE), whoever writes them. The
queue page keeps the open items between views and reads them again only when this count moved: a
resolve and a reopen between two views move it twice, never back (a sum or count of the open rows
would not see them).

SQLite: row triggers (SQLite has no other kind), each an upsert, so the row is made by the first
change. PostgreSQL: statement triggers, one count per statement. The count's row is locked from the
change to its commit, so writers of review items take turns at that point; their transactions are
short (one filing, one decision).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BUMP = ("INSERT INTO review_queue_version (id, version) VALUES (1, 1) "
         "ON CONFLICT (id) DO UPDATE SET version = review_queue_version.version + 1")
_VERBS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "review_queue_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute(sa.text("INSERT INTO review_queue_version (id, version) VALUES (1, 1)"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION review_queue_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_BUMP}; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER review_items_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   "ON review_items FOR EACH STATEMENT EXECUTE FUNCTION review_queue_bump()")
    else:
        for verb in _VERBS:
            op.execute(f"CREATE TRIGGER review_items_{verb.lower()}_counted AFTER {verb} ON review_items "
                       f"BEGIN {_BUMP}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        statements = ["DROP TRIGGER review_items_changed ON review_items", "DROP FUNCTION review_queue_bump()"]
    else:  # the pragma only works before the run's first write, and a downgrade past 0009 needs it (see 0008)
        statements = ["PRAGMA foreign_keys = OFF",
                      *(f"DROP TRIGGER review_items_{verb.lower()}_counted" for verb in _VERBS)]
    for statement in statements:
        op.execute(sa.text(statement))
    op.drop_table("review_queue_version")
