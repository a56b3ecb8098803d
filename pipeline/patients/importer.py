"""Loading patients from files: `import_file(path, engine) -> ImportReport`.

Formats, told apart by content:
- CSV with the contract header mrn,family_name,given_name,birth_date,sex,address,city,state,postcode,phone
  (birth_date YYYY-MM-DD; other columns ignored). A bad row is rejected with its row number and reason;
  the rest load.
- FHIR R4 `Patient` resources, in a Bundle (JSON) or as NDJSON, validated with fhir.resources (R4B).
- HL7 v2 files of ADT messages, applied in order like the feed (`adt.apply_message`).
"""

from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from pipeline.errors import PatientIndexError
from pipeline.patients import normalize
from pipeline.patients.index import PatientRecord, make_record, upsert
from pipeline.patients.tables import DEFAULT_AUTHORITY, MRN_TYPE, NAME_ALIAS, NAME_OFFICIAL, NAME_PREVIOUS

log = logging.getLogger(__name__)

CSV_COLUMNS = ("mrn", "family_name", "given_name", "birth_date", "sex", "address", "city", "state",
               "postcode", "phone")
REQUIRED = ("mrn", "family_name", "given_name", "birth_date")
BATCH = 100_000
SQLITE_IMPORT_CACHE_KIB = 262_144  # index pages stay in memory during a large load
BULK_INDEX_REBUILD_ROWS = 200_000  # loads this large (estimated from the file size) rebuild indexes
MAX_ERRORS_KEPT = 1000


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)  # "row 12: birth_date '1980-13-01' is not a date ..."
    today: date = field(default_factory=date.today, repr=False)

    def to_json(self) -> dict[str, int]:
        return {"imported": self.imported, "updated": self.updated, "rejected": self.rejected}

    def reject(self, message: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)


def import_file(path: Path | str, engine: Engine) -> ImportReport:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except FileNotFoundError as exc:
        raise PatientIndexError(f"{path}: no such file", hint="check the path") from exc
    except OSError as exc:
        raise PatientIndexError(f"{path}: cannot be read ({exc.strerror})") from exc
    start = head.lstrip(b"\xef\xbb\xbf \r\n\t")
    if start.startswith(b"MSH") or start.startswith(b"\x0bMSH"):
        return _import_hl7(path, engine)
    if start.startswith(b"{"):
        return _import_fhir(path, engine)
    return _import_csv(path, engine)


# ----------------------------------------------------------------------------------------- CSV


def _import_csv(path: Path, engine: Engine) -> ImportReport:
    report = ImportReport()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise PatientIndexError(f"{path}: the file is empty", hint="export the patient list again") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise PatientIndexError(f"{path}: not a readable CSV file ({exc})") from exc
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise PatientIndexError(
                f"{path}: not a patient CSV: missing column(s) {', '.join(missing)}",
                hint="the header must be " + ",".join(CSV_COLUMNS),
            )
        col = {name: header.index(name) for name in CSV_COLUMNS if name in header}
        batch: list[PatientRecord] = []
        seen: dict[str, int] = {}
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KIB}")
            rebuilt = _drop_indexes_for_bulk_load(conn, path)
            try:
                for row_number, row in enumerate(reader, start=2):
                    record = _csv_record(row, col, row_number, report, seen)
                    if record is not None:
                        batch.append(record)
                    if len(batch) >= BATCH:
                        _flush(conn, batch, report)
            except (csv.Error, UnicodeDecodeError) as exc:
                raise PatientIndexError(f"{path}: unreadable CSV near row {reader.line_num} ({exc})") from exc
            _flush(conn, batch, report)
            for index in rebuilt:
                index.create(conn)
    log.info("%s: imported %d, updated %d, rejected %d", path.name, report.imported, report.updated,
             report.rejected)
    return report


def _drop_indexes_for_bulk_load(conn, path: Path) -> list:
    """For a load much larger than the index already is, drop the secondary indexes of the patient
    tables and return them to be rebuilt at the end (sorting once beats a million random B-tree
    inserts). Same transaction: a failed import leaves them in place. Unique indexes stay."""
    from sqlalchemy import func, select

    from pipeline.patients.tables import Address, Identifier, Name, Patient, Phone

    expected_rows = path.stat().st_size // 60
    if expected_rows < BULK_INDEX_REBUILD_ROWS:
        return []
    existing = conn.execute(select(func.count()).select_from(Patient)).scalar() or 0
    if existing * 2 > expected_rows:
        return []
    dropped = []
    for table in (Patient, Identifier, Name, Address, Phone):
        for index in table.__table__.indexes:
            if not index.unique:
                index.drop(conn)
                dropped.append(index)
    log.info("%s: large load, %d secondary indexes rebuilt afterwards", path.name, len(dropped))
    return dropped


def _flush(conn, batch: list[PatientRecord], report: ImportReport) -> None:
    if batch:
        result = upsert(conn, batch)
        report.imported += result.imported
        report.updated += result.updated
        batch.clear()


def _csv_record(row: list[str], col: dict[str, int], row_number: int, report: ImportReport,
                seen: dict[str, int]) -> PatientRecord | None:
    width = len(row)
    values = {name: (row[i].strip() if i < width else "") for name, i in col.items()}
    get = values.get
    today = report.today

    if not any(values.values()):
        return None
    mrn = normalize.identifier(get("mrn", ""))
    family, given, dob_text = get("family_name", ""), get("given_name", ""), get("birth_date", "")
    problems = []
    if not mrn:
        problems.append("mrn is empty")
    if not normalize.name(family):
        problems.append("family_name is empty")
    if not normalize.name(given):
        problems.append("given_name is empty")
    birth_date = None
    try:
        birth_date = date.fromisoformat(dob_text)
    except ValueError:
        problems.append(f"birth_date {dob_text!r} is not a YYYY-MM-DD date")
    else:
        if birth_date > today or birth_date.year < 1880:
            problems.append(f"birth_date {dob_text!r} is out of range")
    sex = get("sex", "")
    if sex and normalize.sex(sex) is None:
        problems.append(f"sex {sex!r} is not M, F or U")
    if mrn and mrn in seen and not problems:
        problems.append(f"mrn repeats row {seen[mrn]}")
    if problems:
        report.reject(f"row {row_number}: " + "; ".join(problems) + "; fix the row and import again")
        return None
    seen[mrn] = row_number
    return make_record(mrn, family, given, birth_date, sex, get("address"), get("city"), get("state"),
                       get("postcode"), get("phone"))


# ---------------------------------------------------------------------------------------- FHIR


def _import_fhir(path: Path, engine: Engine) -> ImportReport:
    from fhir.resources.R4B.bundle import Bundle  # noqa: F401  (validation of the envelope)
    from pydantic import ValidationError

    report = ImportReport()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PatientIndexError(f"{path}: not UTF-8 text (byte {exc.start})", hint="export the file as UTF-8") from exc
    resources: list[tuple[str, object]] = []
    try:
        first = json.loads(text)
        if first.get("resourceType") == "Bundle":
            entries = first.get("entry") or []
            resources = [(f"entry {i + 1}", e.get("resource") if isinstance(e, dict) else e)
                         for i, e in enumerate(entries if isinstance(entries, list) else [entries])]
        else:
            resources = [("resource 1", first)]
    except json.JSONDecodeError:
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                resources.append((f"line {i}", json.loads(line)))
            except json.JSONDecodeError as exc:
                report.reject(f"line {i}: not JSON ({exc.msg}); fix the line and import again")
    from fhir.resources.R4B.patient import Patient as FhirPatient

    records = []
    for where, data in resources:
        if not isinstance(data, dict):
            report.reject(f"{where}: not a FHIR resource (a JSON object); skipped")
            continue
        if data.get("resourceType") != "Patient":
            report.reject(f"{where}: a {data.get('resourceType')!r} resource, not a Patient; skipped")
            continue
        try:
            patient = FhirPatient.model_validate({k: v for k, v in data.items() if k != "resourceType"})
        except ValidationError as exc:
            first_error = exc.errors()[0]
            loc = ".".join(str(p) for p in first_error.get("loc", ()))
            report.reject(f"{where}: invalid FHIR Patient at {loc or 'resource'}: {first_error.get('msg')}")
            continue
        record, problem = _fhir_record(patient)
        if problem:
            report.reject(f"{where}: {problem}")
            continue
        records.append(record)
    with engine.begin() as conn:
        result = upsert(conn, records)
    report.imported += result.imported
    report.updated += result.updated
    return report


_FHIR_USE = {"official": NAME_OFFICIAL, "usual": NAME_OFFICIAL, "old": NAME_PREVIOUS, "maiden": NAME_PREVIOUS}


def _fhir_record(patient) -> tuple[PatientRecord | None, str]:
    identifiers = []
    for ident in patient.identifier or []:
        if not ident.value:
            continue
        type_code = MRN_TYPE
        if ident.type and ident.type.coding:
            type_code = ident.type.coding[0].code or MRN_TYPE
        identifiers.append((normalize.identifier(ident.value), ident.system or DEFAULT_AUTHORITY, type_code))
    if not identifiers:
        return None, "Patient has no identifier; give it an MRN"
    names = []
    for human in patient.name or []:
        family = normalize.name(human.family or "")
        given_all = normalize.name(" ".join(human.given or []))
        first, _, middle = given_all.partition(" ")
        use = _FHIR_USE.get(human.use or "official", NAME_ALIAS)
        if family and first:
            names.append((family, first, middle, use))
    if names and not any(n[3] == NAME_OFFICIAL for n in names):
        names[0] = (*names[0][:3], NAME_OFFICIAL)
    if not names:
        return None, "Patient has no family and given name"
    birth = patient.birthDate
    if isinstance(birth, str):
        try:
            birth = date.fromisoformat(birth)
        except ValueError:
            birth = None
    sex = {"male": "M", "female": "F", "unknown": "U", "other": "U"}.get(patient.gender or "")
    addresses = tuple(
        (normalize.address(" ".join(a.line or [])), (a.city or "").upper(), (a.state or "").upper(),
         normalize.postcode(a.postalCode))
        for a in patient.address or []
    )
    phones = tuple(normalize.phone(t.value) for t in patient.telecom or []
                   if (t.system in (None, "phone", "sms")) and normalize.phone(t.value))
    return PatientRecord(tuple(identifiers), tuple(names), birth, sex, addresses, phones, "fhir"), ""


# ----------------------------------------------------------------------------------------- HL7


def split_hl7(text: str) -> list[str]:
    """Messages of an HL7 v2 file (one per MSH; MLLP framing bytes and blank lines tolerated)."""
    text = text.replace("\x0b", "").replace("\x1c", "").replace("\r\n", "\r").replace("\n", "\r")
    messages: list[list[str]] = []
    for segment in text.split("\r"):
        if not segment.strip():
            continue
        if segment.startswith("MSH"):
            messages.append([])
        if messages:
            messages[-1].append(segment)
    return ["\r".join(m) for m in messages]


def _import_hl7(path: Path, engine: Engine) -> ImportReport:
    from pipeline.patients.adt import AdtProcessor

    report = ImportReport()
    processor = AdtProcessor(engine)
    for number, message in enumerate(split_hl7(path.read_text(encoding="utf-8", errors="replace")), start=1):
        outcome = processor.apply(message)
        if outcome.accepted:
            report.imported += outcome.inserted
            report.updated += outcome.updated
        else:
            report.reject(f"message {number}: {outcome.reason}")
    return report
