"""Writing the patient index: bulk upsert of `PatientRecord`s and merges.

Used by the importer (CSV, FHIR, HL7 files) and by ADT. SQLAlchemy Core, executemany in chunks:
a million CSV rows load in about a minute on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from pipeline.patients import lookup, normalize
from pipeline.patients.tables import (
    DEFAULT_AUTHORITY,
    ID_ACTIVE,
    ID_MERGED,
    ID_REPLACED,
    MRN_TYPE,
    NAME_ALIAS,
    NAME_OFFICIAL,
    Address,
    Identifier,
    Name,
    Patient,
    Phone,
)

log = logging.getLogger(__name__)

CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """One patient as a source describes it (CSV row, FHIR Patient, HL7 PID segment)."""

    identifiers: tuple[tuple[str, str, str], ...]  # (value, authority, type code)
    names: tuple[tuple[str, str, str, str], ...] = ()  # (family, given, middle, use)
    birth_date: date | None = None
    sex: str | None = None
    addresses: tuple[tuple[str, str, str, str], ...] = ()  # (line, city, state, postcode)
    phones: tuple[str, ...] = ()
    source: str = "csv"

    @property
    def mrn(self) -> str | None:
        for value, _, type_code in self.identifiers:
            if type_code == MRN_TYPE:
                return value
        return self.identifiers[0][0] if self.identifiers else None


def make_record(mrn: str, family: str, given: str, birth_date: date | None, sex: str | None = None,
                address: str | None = None, city: str | None = None, state: str | None = None,
                postcode: str | None = None, phone: str | None = None, *,
                authority: str = DEFAULT_AUTHORITY, source: str = "csv") -> PatientRecord:
    given_n = normalize.name(given)
    first, _, middle = given_n.partition(" ")
    addresses = ()
    if address or postcode:
        addresses = ((normalize.address(address), (city or "").strip().upper(),
                      (state or "").strip().upper(), normalize.postcode(postcode)),)
    digits = normalize.phone(phone)
    return PatientRecord(
        identifiers=((normalize.identifier(mrn), authority, MRN_TYPE),),
        names=((normalize.name(family), first, middle, NAME_OFFICIAL),),
        birth_date=birth_date,
        sex=normalize.sex(sex),
        addresses=addresses,
        phones=(digits,) if digits else (),
        source=source,
    )


@dataclass
class UpsertResult:
    imported: int = 0
    updated: int = 0
    patient_ids: list[int] = field(default_factory=list)  # in input order


def _now() -> datetime:
    return datetime.now(UTC)


def _name_rows(pid: int, names: Iterable[tuple[str, str, str, str]], birth_date: date | None) -> list[dict]:
    rows = []
    for family, given, middle, use in names:
        if not family or not given:
            continue
        rows.append({
            "patient_id": pid, "family": family, "given": given, "middle": middle or None, "use": use,
            "family_key": normalize.phonetic(family), "given_key": normalize.phonetic(given),
            "birth_date": birth_date,
        })
    return rows


def existing_ids(conn: Connection, keys: Sequence[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
    """(value, authority, type) -> patient id, for the keys already in the index."""
    found: dict[tuple[str, str, str], int] = {}
    values = sorted({k[0] for k in keys})
    for i in range(0, len(values), 900):
        rows = conn.execute(
            select(Identifier.value, Identifier.authority, Identifier.type_code, Identifier.patient_id)
            .where(Identifier.value.in_(values[i:i + 900]))
        )
        for value, authority, type_code, pid in rows:
            found[(value, authority, type_code)] = pid
    return found


def upsert(conn: Connection, records: Sequence[PatientRecord]) -> UpsertResult:
    """Insert new patients, update the ones whose identifier is already known (in one transaction
    of the caller's connection). Updates replace sex, birth date, official name, addresses, phones;
    other name uses and identifiers are added."""
    result = UpsertResult()
    if not records:
        return result
    write_lock(conn)
    all_keys = [k for rec in records for k in rec.identifiers]
    known = existing_ids(conn, all_keys) if _has_patients(conn) else {}
    next_id = int(conn.execute(select(func.coalesce(func.max(Patient.id), 0))).scalar()) + 1
    now = _now()
    sqlite = conn.dialect.name == "sqlite"
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
    patients, idents, names, addrs, phones = [], [], [], [], []
    updates: list[tuple[int, PatientRecord]] = []
    for rec in records:
        pid = next((known[k] for k in rec.identifiers if k in known), None)
        if pid is not None:
            updates.append((pid, rec))
            result.updated += 1
            result.patient_ids.append(pid)
            continue
        pid = next_id
        next_id += 1
        for k in rec.identifiers:
            known[k] = pid
        result.imported += 1
        result.patient_ids.append(pid)
        birth = rec.birth_date.isoformat() if sqlite and rec.birth_date else rec.birth_date
        patients.append((pid, birth, rec.sex, True, None, rec.source, stamp, stamp))
        idents.extend((pid, v, a, t, ID_ACTIVE) for v, a, t in rec.identifiers)
        names.extend((pid, family, given, middle or None, use, normalize.phonetic(family), normalize.phonetic(given),
                      birth) for family, given, middle, use in rec.names if family and given)
        addrs.extend((pid, line or None, city or None, state or None, pc or None)
                     for line, city, state, pc in rec.addresses)
        phones.extend((pid, p) for p in rec.phones)
    bulk_insert(conn, "patients", _PATIENT_COLUMNS, patients)
    bulk_insert(conn, "identifiers", ("patient_id", "value", "authority", "type_code", "status"), idents)
    bulk_insert(conn, "names", ("patient_id", "family", "given", "middle", "use", "family_key", "given_key",
                                "birth_date"), names)
    bulk_insert(conn, "addresses", ("patient_id", "line", "city", "state", "postcode"), addrs)
    bulk_insert(conn, "phones", ("patient_id", "digits"), phones)
    for pid, rec in updates:
        _update(conn, pid, rec, now)
    return result


_PATIENT_COLUMNS = ("id", "birth_date", "sex", "active", "merged_into_id", "source", "created_at", "updated_at")


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """executemany straight on the driver: SQLAlchemy's per-row parameter processing costs more
    than SQLite's insert itself. Values must already be in the driver's form (on SQLite, dates as
    ISO text the way SQLAlchemy stores them)."""
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    for i in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(sql, rows[i:i + CHUNK])


_PG_LOCK_ID = 0x5041544E  # "PATN": serialises writers of the patient index on PostgreSQL


def write_lock(conn: Connection) -> None:
    """Take the index's write lock before reading max(id): two imports (or an import and the ADT
    listener) then take turns instead of handing out the same new patient ids. Held until commit."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_ID})")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE patients SET id = id WHERE 0")  # starts the write transaction


def _has_patients(conn: Connection) -> bool:
    return conn.execute(select(Patient.id).limit(1)).first() is not None


def _update(conn: Connection, pid: int, rec: PatientRecord, now: datetime) -> None:
    values: dict[str, object] = {"updated_at": now}
    if rec.birth_date:
        values["birth_date"] = rec.birth_date
    if rec.sex:
        values["sex"] = rec.sex
    conn.execute(update(Patient).where(Patient.id == pid).values(**values))
    birth = conn.execute(select(Patient.birth_date).where(Patient.id == pid)).scalar()
    if rec.birth_date:
        conn.execute(update(Name).where(Name.patient_id == pid).values(birth_date=birth))
    if rec.names:
        current = {(r.family, r.given, r.use) for r in conn.execute(
            select(Name.family, Name.given, Name.use).where(Name.patient_id == pid))}
        official = [n for n in rec.names if n[3] == NAME_OFFICIAL]
        if official:
            # the old official name stays findable as an alias (name changes, corrections)
            conn.execute(update(Name).where(Name.patient_id == pid, Name.use == NAME_OFFICIAL)
                         .values(use=NAME_ALIAS))
        new = [n for n in rec.names if (n[0], n[1], n[3]) not in current or n[3] == NAME_OFFICIAL]
        if official:
            conn.execute(delete(Name).where(Name.patient_id == pid, Name.use == NAME_ALIAS,
                                            Name.family == official[0][0], Name.given == official[0][1]))
        rows = _name_rows(pid, new, birth)
        if rows:
            conn.execute(insert(Name), rows)
    if rec.addresses:
        conn.execute(delete(Address).where(Address.patient_id == pid))
        conn.execute(insert(Address), [{"patient_id": pid, "line": a[0] or None, "city": a[1] or None,
                                        "state": a[2] or None, "postcode": a[3] or None} for a in rec.addresses])
    if rec.phones:
        conn.execute(delete(Phone).where(Phone.patient_id == pid))
        conn.execute(insert(Phone), [{"patient_id": pid, "digits": p} for p in rec.phones])
    known = {(r.value, r.authority, r.type_code) for r in conn.execute(
        select(Identifier.value, Identifier.authority, Identifier.type_code).where(Identifier.patient_id == pid))}
    extra = [k for k in rec.identifiers if k not in known]
    if extra:
        conn.execute(insert(Identifier), [{"patient_id": pid, "value": v, "authority": a, "type_code": t,
                                           "status": ID_ACTIVE} for v, a, t in extra])


def merge(conn: Connection, old_id: int, new_id: int) -> None:
    """Merge patient `old_id` into `new_id`: identifiers move (status merged, so old ids resolve),
    names become aliases of the survivor, the old row stays inactive with merged_into_id."""
    write_lock(conn)
    now = _now()
    conn.execute(update(Identifier).where(Identifier.patient_id == old_id)
                 .values(patient_id=new_id, status=ID_MERGED))
    survivor = {(r.family, r.given) for r in conn.execute(
        select(Name.family, Name.given).where(Name.patient_id == new_id))}
    for row in conn.execute(select(Name.id, Name.family, Name.given).where(Name.patient_id == old_id)).all():
        if (row.family, row.given) in survivor:
            conn.execute(delete(Name).where(Name.id == row.id))
        else:
            conn.execute(update(Name).where(Name.id == row.id).values(
                patient_id=new_id, use=NAME_ALIAS,
                birth_date=select(Patient.birth_date).where(Patient.id == new_id).scalar_subquery()))
    conn.execute(update(Patient).where(Patient.id == old_id)
                 .values(active=False, merged_into_id=new_id, updated_at=now))
    conn.execute(update(Patient).where(Patient.id == new_id).values(updated_at=now))
    # patients merged earlier into old_id now point at the survivor too
    conn.execute(update(Patient).where(Patient.merged_into_id == old_id).values(merged_into_id=new_id))


def change_identifier(conn: Connection, pid: int, old_value: str, new: tuple[str, str, str]) -> bool:
    """ADT A47: the patient's identifier `old_value` is replaced by `new` (value, authority, type).
    The old one stays (status replaced) so paper carrying it still finds the patient. False when
    the change was made before (the new identifier is the patient's and no old one is active)."""
    write_lock(conn)
    value, authority, type_code = new
    current = conn.execute(select(Identifier.id, Identifier.status).where(
        Identifier.value == value, Identifier.authority == authority, Identifier.type_code == type_code)).first()
    old_rows = [row.id for row in conn.execute(select(Identifier.id).where(
        Identifier.patient_id == pid, Identifier.value == normalize.identifier(old_value),
        Identifier.status == ID_ACTIVE))
        if current is None or row.id != current.id]
    if current is not None and not old_rows and current.status == ID_ACTIVE:
        return False
    if old_rows:
        conn.execute(update(Identifier).where(Identifier.id.in_(old_rows)).values(status=ID_REPLACED))
    if current is None:
        conn.execute(insert(Identifier).values(patient_id=pid, value=value, authority=authority,
                                               type_code=type_code, status=ID_ACTIVE))
    else:
        conn.execute(update(Identifier).where(Identifier.id == current.id).values(status=ID_ACTIVE))
    conn.execute(update(Patient).where(Patient.id == pid).values(updated_at=_now()))
    return True


def resolve(conn: Connection, value: str, type_code: str | None = None) -> int | None:
    """The active patient an identifier value belongs to (following merges)."""
    query = select(Identifier.patient_id).where(Identifier.value == normalize.identifier(value))
    if type_code:
        query = query.where(Identifier.type_code == type_code)
    pid = conn.execute(query.limit(1)).scalar()
    pid = lookup.survivor(conn, pid) if pid is not None else None
    if pid is None or not conn.execute(select(Patient.active).where(Patient.id == pid)).scalar():
        return None
    return pid


primary_mrn = lookup.primary_mrn
