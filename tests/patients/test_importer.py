"""Importing patients: CSV (good and bad rows), FHIR Bundle / NDJSON, HL7 v2 files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.errors import PatientIndexError
from pipeline.patients.importer import import_file
from pipeline.patients.index import resolve
from pipeline.patients.tables import Address, Identifier, Name, Patient, Phone

from .conftest import CSV_HEADER, PATIENTS, write_csv


def test_csv_import_then_reimport_updates(engine, tmp_path: Path) -> None:
    first = import_file(write_csv(tmp_path / "a.csv", PATIENTS), engine)
    assert (first.imported, first.updated, first.rejected) == (len(PATIENTS), 0, 0)
    changed = [row[:] for row in PATIENTS[:2]]
    changed[0][1] = "DOE-SMITH"  # new family name
    changed[1][9] = "5550001111"
    again = import_file(write_csv(tmp_path / "b.csv", changed), engine)
    assert (again.imported, again.updated, again.rejected) == (0, 2, 0)
    with engine.connect() as conn:
        pid = resolve(conn, "10000001")
        names = {(n.family, n.use) for n in conn.execute(select(Name.family, Name.use).where(Name.patient_id == pid))}
        assert names == {("DOE-SMITH", "official"), ("DOE", "alias")}  # the old name stays findable
        phones = conn.execute(select(Phone.digits).where(Phone.patient_id == resolve(conn, "10000002"))).scalars().all()
        assert phones == ["5550001111"]
        assert conn.execute(select(Patient.id)).scalars().all().__len__() == len(PATIENTS)


def test_bad_csv_rows_are_rejected_with_row_number_and_reason(engine, tmp_path: Path) -> None:
    rows = [
        PATIENTS[0],
        ["", "DOE", "JOHN", "1980-01-02", "M", "", "", "", "", ""],
        ["20000002", "ROE", "RICHARD", "01/02/1980", "M", "", "", "", "", ""],
        ["20000003", "ROE", "", "1980-01-02", "Q", "", "", "", "", ""],
        ["20000004", "POE", "EDGAR", "2999-01-01", "M", "", "", "", "", ""],
        PATIENTS[0],
        ["20000006", "LOE", "LINDA", "1970-07-07", "f", "3 Elm St", "Salem", "MA", "01970", ""],
    ]
    report = import_file(write_csv(tmp_path / "bad.csv", rows), engine)
    assert (report.imported, report.rejected) == (2, 5)
    assert report.errors[0].startswith("row 3: mrn is empty")
    assert "row 4: birth_date '01/02/1980' is not a YYYY-MM-DD date" in report.errors[1]
    assert "given_name is empty" in report.errors[2] and "sex 'Q' is not M, F or U" in report.errors[2]
    assert report.errors[3].startswith("row 6: birth_date '2999-01-01' is out of range")
    assert report.errors[4].startswith("row 7: mrn repeats row 2")


def test_extra_columns_are_ignored_and_missing_ones_refused(engine, tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("given_name,family_name,mrn,birth_date,notes\nJANE,DOE,1,1980-01-02,whatever\n")
    assert import_file(path, engine).imported == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("mrn,name,dob\n1,DOE,1980\n")
    with pytest.raises(PatientIndexError, match="missing column\\(s\\) family_name, given_name, birth_date") as exc:
        import_file(bad, engine)
    assert exc.value.exit_code == 6 and ",".join(CSV_HEADER) in str(exc.value)


def test_missing_file_is_a_patient_index_error(engine, tmp_path: Path) -> None:
    with pytest.raises(PatientIndexError, match="no such file"):
        import_file(tmp_path / "nope.csv", engine)


def _fhir_patient(mrn: str, family: str, given: list[str], dob: str, **extra) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.19.5",
                        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                        "value": mrn}],
        "name": [{"use": "official", "family": family, "given": given},
                 {"use": "maiden", "family": "OLDNAME", "given": given}],
        "birthDate": dob,
        "gender": "female",
        "address": [{"line": ["12 Main Street"], "city": "Salem", "state": "MA", "postalCode": "01970"}],
        "telecom": [{"system": "phone", "value": "555-123-4567"}, {"system": "email", "value": "x@example.org"}],
        **extra,
    }


def test_fhir_bundle_and_ndjson(engine, tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": _fhir_patient("F1", "Doe", ["Jane", "Q"], "1980-01-02")},
        {"resource": _fhir_patient("F2", "Roe", ["Rita"], "1970-13-40")},  # invalid date
        {"resource": {"resourceType": "Observation", "status": "final"}},
        {"resource": {"resourceType": "Patient", "name": [{"family": "X", "given": ["Y"]}]}},  # no identifier
    ]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    report = import_file(path, engine)
    assert (report.imported, report.rejected) == (1, 3)
    assert report.errors[0].startswith("entry 2: invalid FHIR Patient at birthDate")
    assert "not a Patient" in report.errors[1] and "no identifier" in report.errors[2]
    with engine.connect() as conn:
        pid = resolve(conn, "F1")
        patient = conn.execute(select(Patient).where(Patient.id == pid)).one()
        assert patient.birth_date == date(1980, 1, 2) and patient.sex == "F"
        uses = dict(conn.execute(select(Name.family, Name.use).where(Name.patient_id == pid)).all())
        assert uses == {"DOE": "official", "OLDNAME": "previous"}
        ident = conn.execute(select(Identifier).where(Identifier.patient_id == pid)).one()
        assert (ident.authority, ident.type_code) == ("urn:oid:2.16.840.1.113883.19.5", "MR")
        assert conn.execute(select(Address.line).where(Address.patient_id == pid)).scalar() == "12 MAIN ST"
    ndjson = tmp_path / "patients.ndjson"
    ndjson.write_text(json.dumps(_fhir_patient("F1", "Doe", ["Jane"], "1980-01-02")) + "\n"
                      + json.dumps(_fhir_patient("F3", "Poe", ["Ed"], "1909-01-19")) + "\n{broken\n")
    report = import_file(ndjson, engine)
    assert (report.imported, report.updated, report.rejected) == (1, 1, 1)
    assert report.errors[0].startswith("line 3: not JSON")


def test_hl7_file_is_applied_message_by_message(engine, tmp_path: Path) -> None:
    path = tmp_path / "feed.hl7"
    path.write_text(
        "MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301||ADT^A04|C1|P|2.5\n"
        "PID|1||H1^^^HOSP^MR||DOE^JANE||19800102|F\n"
        "MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301||ADT^A08|C2|P|2.5\n"
        "PID|1||H1^^^HOSP^MR||DOE^JANE||19800103|F\n"
        "MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301||ADT^A04|C3|P|2.5\n"
        "PID|1||||DOE^JOHN||19800102|M\n")
    report = import_file(path, engine)
    assert (report.imported, report.updated, report.rejected) == (1, 1, 1)
    assert report.errors == ["message 3: PID-3 has no patient identifier"]
    with engine.connect() as conn:
        assert conn.execute(select(Patient.birth_date)).scalar() == date(1980, 1, 3)
        # the copy on the name row (for name + birth-year blocking) follows the update
        assert conn.execute(select(Name.birth_date)).scalars().all() == [date(1980, 1, 3)]
