"""Patient index: patients, identifiers, names, addresses, phones, encounters, adt_messages.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _patient_fk() -> sa.Column:
    return sa.Column(
        "patient_id",
        sa.Integer(),
        sa.ForeignKey("patients.id", ondelete="CASCADE", name=None),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("birth_date", sa.Date()),
        sa.Column("sex", sa.String(1)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("merged_into_id", sa.Integer()),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_patients_birth_date", "patients", ["birth_date"])
    op.create_index("ix_patients_merged_into_id", "patients", ["merged_into_id"])

    op.create_table(
        "identifiers",
        sa.Column("id", sa.Integer(), primary_key=True),
        _patient_fk(),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("authority", sa.String(64), nullable=False),
        sa.Column("type_code", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.UniqueConstraint(
            "value", "authority", "type_code", name="uq_identifiers_value_authority_type"
        ),
    )
    op.create_index("ix_identifiers_patient_id", "identifiers", ["patient_id"])

    op.create_table(
        "names",
        sa.Column("id", sa.Integer(), primary_key=True),
        _patient_fk(),
        sa.Column("family", sa.String(100), nullable=False),
        sa.Column("given", sa.String(100), nullable=False),
        sa.Column("middle", sa.String(100)),
        sa.Column("use", sa.String(10), nullable=False),
        sa.Column("family_key", sa.String(32), nullable=False),
        sa.Column("given_key", sa.String(32), nullable=False),
        sa.Column("birth_date", sa.Date()),
    )
    op.create_index("ix_names_patient_id", "names", ["patient_id"])
    op.create_index("ix_names_family_key_given_key", "names", ["family_key", "given_key", "birth_date"])

    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), primary_key=True),
        _patient_fk(),
        sa.Column("line", sa.String(200)),
        sa.Column("city", sa.String(100)),
        sa.Column("state", sa.String(20)),
        sa.Column("postcode", sa.String(10)),
    )
    op.create_index("ix_addresses_patient_id", "addresses", ["patient_id"])

    op.create_table(
        "phones",
        sa.Column("id", sa.Integer(), primary_key=True),
        _patient_fk(),
        sa.Column("digits", sa.String(15), nullable=False),
    )
    op.create_index("ix_phones_patient_id", "phones", ["patient_id"])
    op.create_index("ix_phones_digits", "phones", ["digits"])

    op.create_table(
        "encounters",
        sa.Column("id", sa.Integer(), primary_key=True),
        _patient_fk(),
        sa.Column("visit_number", sa.String(64)),
        sa.Column("patient_class", sa.String(4)),
        sa.Column("location", sa.String(100)),
        sa.Column("admitted_at", sa.DateTime(timezone=True)),
        sa.Column("discharged_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_encounters_patient_id", "encounters", ["patient_id"])
    op.create_index("ix_encounters_visit_number", "encounters", ["visit_number"])

    op.create_table(
        "adt_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(8), nullable=False),
        sa.Column("sending_facility", sa.String(100)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.UniqueConstraint("control_id", name="uq_adt_messages_control_id"),
    )


def downgrade() -> None:
    for table in ("adt_messages", "encounters", "phones", "addresses", "names", "identifiers"):
        op.drop_table(table)
    op.drop_table("patients")
