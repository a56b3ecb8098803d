"""ADT messages are deduplicated per sender: (MSH-3, MSH-4, MSH-10) instead of MSH-10 alone.

Control ids are unique only per sending application and facility, so two senders (or one sender
reusing another's numbering) must not shadow each other's messages. Rows recorded before this
revision keep their control id and facility (its first component, as it was stored) and get an
empty sending application.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE adt_messages SET sending_facility = '' WHERE sending_facility IS NULL")
    with op.batch_alter_table("adt_messages") as batch:
        batch.drop_constraint("uq_adt_messages_control_id", type_="unique")
        batch.add_column(sa.Column("sending_application", sa.String(227), nullable=False, server_default=""))
        batch.alter_column("sending_facility", existing_type=sa.String(100), type_=sa.String(227), nullable=False)
        batch.create_unique_constraint("uq_adt_messages_sender_control_id",
                                       ["sending_application", "sending_facility", "control_id"])
    with op.batch_alter_table("adt_messages") as batch:
        batch.alter_column("sending_application", existing_type=sa.String(227), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("adt_messages") as batch:
        batch.drop_constraint("uq_adt_messages_sender_control_id", type_="unique")
        batch.drop_column("sending_application")
        batch.alter_column("sending_facility", existing_type=sa.String(227), type_=sa.String(100), nullable=True)
        batch.create_unique_constraint("uq_adt_messages_control_id", ["control_id"])
