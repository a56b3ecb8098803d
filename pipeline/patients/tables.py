"""The patient index tables (Alembic revision 0002).

    patients        one row per person; merged-away rows stay (active=False, merged_into_id set)
    identifiers     (value, assigning authority, type code) -> patient; status active | merged
    names           family / given, use official | alias | previous, with phonetic keys for blocking
    addresses       normalised line, city, state, postcode
    phones          digits only (last 10)
    encounters      A01 admit .. A03 discharge, by visit number
    adt_messages    every ADT message seen, keyed by (MSH-3 sending application, MSH-4 sending facility,
                    MSH-10 control id) so a repeat is applied once (control ids are unique per sender only)

Blocking lookups use the indexes: identifiers (value, authority, type_code), names (family_key, given_key, birth_date:
the patient's birth date is copied onto each name so a name + birth-year lookup reads one index),
patients.birth_date, phones.digits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.database import Base

#: Identifier status: an id merged into another patient still resolves to the survivor.
ID_ACTIVE = "active"
ID_MERGED = "merged"
ID_REPLACED = "replaced"  # changed by an A47 / A34; still resolves to its patient (old paper carries it)

#: Name use (HL7 v2 PID-5.7 / FHIR HumanName.use, reduced).
NAME_OFFICIAL = "official"
NAME_ALIAS = "alias"
NAME_PREVIOUS = "previous"

#: Assigning authority given to identifiers that arrive without one (CSV import).
DEFAULT_AUTHORITY = "LOCAL"
MRN_TYPE = "MR"


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    sex: Mapped[str | None] = mapped_column(String(1))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    merged_into_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(16), default="csv", nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Identifier(Base):
    __tablename__ = "identifiers"
    __table_args__ = (
        UniqueConstraint("value", "authority", "type_code", name="uq_identifiers_value_authority_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True, nullable=False
    )
    value: Mapped[str] = mapped_column(String(64), nullable=False)  # looked up via the unique index
    authority: Mapped[str] = mapped_column(String(64), default=DEFAULT_AUTHORITY, nullable=False)
    type_code: Mapped[str] = mapped_column(String(8), default=MRN_TYPE, nullable=False)
    status: Mapped[str] = mapped_column(String(8), default=ID_ACTIVE, nullable=False)


class Name(Base):
    __tablename__ = "names"
    __table_args__ = (Index("ix_names_family_key_given_key", "family_key", "given_key", "birth_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True, nullable=False
    )
    family: Mapped[str] = mapped_column(String(100), nullable=False)  # normalised, upper case
    given: Mapped[str] = mapped_column(String(100), nullable=False)  # first given name
    middle: Mapped[str | None] = mapped_column(String(100))
    use: Mapped[str] = mapped_column(String(10), default=NAME_OFFICIAL, nullable=False)
    family_key: Mapped[str] = mapped_column(String(32), nullable=False)  # phonetic (metaphone)
    given_key: Mapped[str] = mapped_column(String(32), nullable=False)
    birth_date: Mapped[date | None] = mapped_column(Date)  # the patient's, copied for name+year blocking


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True, nullable=False
    )
    line: Mapped[str | None] = mapped_column(String(200))  # normalised street line
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(10))


class Phone(Base):
    __tablename__ = "phones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True, nullable=False
    )
    digits: Mapped[str] = mapped_column(String(15), index=True, nullable=False)


class Encounter(Base):
    __tablename__ = "encounters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True, nullable=False
    )
    visit_number: Mapped[str | None] = mapped_column(String(64), index=True)
    patient_class: Mapped[str | None] = mapped_column(String(4))
    location: Mapped[str | None] = mapped_column(String(100))
    admitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    discharged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


#: Longest MSH-3 / MSH-4 (HL7 HD) and MSH-10 the message log keeps; longer ones are refused (AR).
SENDER_MAX = 227
CONTROL_ID_MAX = 64


class AdtMessage(Base):
    __tablename__ = "adt_messages"
    __table_args__ = (
        UniqueConstraint("sending_application", "sending_facility", "control_id",
                         name="uq_adt_messages_sender_control_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    control_id: Mapped[str] = mapped_column(String(CONTROL_ID_MAX), nullable=False)  # MSH-10
    event: Mapped[str] = mapped_column(String(8), nullable=False)  # e.g. A08
    sending_application: Mapped[str] = mapped_column(String(SENDER_MAX), nullable=False)  # MSH-3, all components
    sending_facility: Mapped[str] = mapped_column(String(SENDER_MAX), nullable=False)  # MSH-4, all components
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # applied | rejected
    detail: Mapped[str | None] = mapped_column(Text)  # PHI-free reason when rejected
