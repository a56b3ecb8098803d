"""Reading the patient index for the rest of the pipeline: who holds an MRN, whom a patient was
merged into, what the clerk may see of a patient, and the encounters.

The merge chain (`patients.merged_into_id`) is followed here and nowhere else: `survivor()`.
Callers outside `pipeline.patients` use these functions, never the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, inspect, select

from pipeline.errors import NotFoundError, PatientIndexError
from pipeline.patients.tables import ID_ACTIVE, MRN_TYPE, NAME_OFFICIAL, Encounter, Identifier, Name, Patient
from pipeline.records import Encounter as EncounterRecord

#: a merge chain longer than this is damage in the index, not a real history
MAX_MERGE_CHAIN = 20


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """What a clerk is shown of one patient to check a filing: never logged."""

    patient_id: int
    mrn: str | None
    family: str | None
    given: str | None
    birth_date: date | None
    sex: str | None


def survivor(conn: Connection, patient_id: int) -> int | None:
    """The patient `patient_id` ends up as after every merge (itself when never merged), or None
    when the patient is not in the index or the chain does not end."""
    current: int | None = patient_id
    for _ in range(MAX_MERGE_CHAIN):
        row = conn.execute(select(Patient.merged_into_id).where(Patient.id == current)).first()
        if row is None:
            return None
        if row.merged_into_id is None:
            return current
        current = row.merged_into_id
    return None


def patient_id_for_mrn(engine: Engine, mrn: str) -> int:
    """The patient holding this MRN, following merges to the survivor; refuses an MRN two patients hold."""
    if "identifiers" not in inspect(engine).get_table_names():
        raise PatientIndexError("the patient index is empty; import patients first (`pipeline patients import`)")
    with engine.connect() as conn:
        holders = conn.execute(select(Identifier.patient_id).distinct().where(
            Identifier.value == mrn, Identifier.type_code == MRN_TYPE)).scalars().all()
        if not holders:
            raise NotFoundError(f"no patient with MRN {mrn}; check the MRN (or import the patient first)")
        if len(holders) > 1:
            raise PatientIndexError(f"MRN {mrn} belongs to {len(holders)} patients (different assigning "
                                    "authorities); resolve the duplicate in the patient index first")
        found = survivor(conn, int(holders[0]))
    if found is None:
        raise PatientIndexError(f"MRN {mrn}: the patient merge chain does not end; fix the patient index")
    return found


def primary_mrn(conn: Connection, patient_id: int) -> str | None:
    """The patient's MRN to show and file under: an active one before one merged in."""
    rows = conn.execute(select(Identifier.value, Identifier.status).where(
        Identifier.patient_id == patient_id, Identifier.type_code == MRN_TYPE)).all()
    active = [v for v, s in rows if s == ID_ACTIVE]
    return (active or [v for v, _ in rows] or [None])[0]


def mrn_of(engine: Engine, patient_id: int) -> str | None:
    with engine.connect() as conn:
        return primary_mrn(conn, patient_id)


def summary(engine: Engine, patient_id: int) -> PatientSummary:
    """The patient's MRN, official name (else any), birth date and sex."""
    with engine.connect() as conn:
        patient = conn.execute(select(Patient.birth_date, Patient.sex).where(Patient.id == patient_id)).first()
        if patient is None:
            raise NotFoundError(f"no patient {patient_id} in the patient index")
        names = conn.execute(select(Name.family, Name.given, Name.use).where(Name.patient_id == patient_id)
                             .order_by(Name.id)).all()
        mrn = primary_mrn(conn, patient_id)
    official = [n for n in names if n.use == NAME_OFFICIAL] or names
    return PatientSummary(patient_id, mrn, official[0].family if official else None,
                          official[0].given if official else None, patient.birth_date, patient.sex)


def encounters(engine: Engine, *, discharged_only: bool = False) -> list[EncounterRecord]:
    """Encounters with an admission (or, with `discharged_only`, a discharge) day, by id; none when
    the database has no patient index yet."""
    if "encounters" not in inspect(engine).get_table_names():
        return []
    query = select(Encounter.id, Encounter.patient_id, Encounter.visit_number, Encounter.admitted_at,
                   Encounter.discharged_at).order_by(Encounter.id)
    query = query.where(Encounter.discharged_at.is_not(None) if discharged_only else Encounter.admitted_at.is_not(None))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for row in rows:
        start = _day(row.admitted_at) or _day(row.discharged_at)
        out.append(EncounterRecord(row.id, row.patient_id, row.visit_number, start, _day(row.discharged_at)))
    return out


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()
