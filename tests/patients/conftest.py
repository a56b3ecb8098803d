"""Patient-index fixtures: a migrated SQLite manifest and a small generated index.

The index (`PATIENTS`) is written out at test time as the contract CSV; it holds, on purpose,
twins (same surname, birth date, address, phone; given names JOHN / JOAN), namesakes (same name,
other birth date) and ordinary patients. All names and numbers are made up.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pipeline.store.database import make_engine, migrate

CSV_HEADER = ["mrn", "family_name", "given_name", "birth_date", "sex", "address", "city", "state",
              "postcode", "phone"]

PATIENTS = [
    # mrn, family, given, dob, sex, address, city, state, zip, phone
    ["10000001", "DOE", "JANE", "1980-01-02", "F", "12 Main St", "Salem", "MA", "01970", "5551234567"],
    ["10000002", "HARTLEY", "JOHN", "1975-06-15", "M", "40 Oak Ave", "Salem", "MA", "01970", "5559876543"],
    ["10000003", "HARTLEY", "JOAN", "1975-06-15", "F", "40 Oak Ave", "Salem", "MA", "01970", "5559876543"],
    ["10000004", "NGUYEN", "MARY", "1962-11-30", "F", "7 Pine Rd", "Madison", "WI", "53703", "6085550101"],
    ["10000005", "NGUYEN", "MARY", "1990-03-08", "F", "88 Elm Ln", "Madison", "WI", "53704", "6085550188"],
    ["10000006", "OKAFOR", "WILLIAM", "1948-09-23", "M", "5 Cedar Ct", "Ashland", "OH", "44805", "4195550123"],
    ["10000007", "PRZYBYLSKI", "KATHERINE", "2001-12-04", "F", "19 Lake Dr", "Bristol", "CT", "06010", ""],
    ["10000008", "SMITH", "ROBERT", "1955-02-14", "M", "301 Hill St", "Clinton", "IA", "52732", "5635550111"],
    ["10000009", "SMITH", "ROBERT", "1955-02-24", "M", "22 River Rd", "Clinton", "IA", "52732", "5635550999"],
]


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header or CSV_HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'manifest.db'}"
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Engine:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def index(engine: Engine, tmp_path: Path) -> Engine:
    """The engine, with PATIENTS imported."""
    from pipeline.patients.importer import import_file

    report = import_file(write_csv(tmp_path / "patients.csv", PATIENTS), engine)
    assert report.imported == len(PATIENTS) and report.rejected == 0
    return engine


@pytest.fixture
def file_for(tmp_path: Path, engine: Engine) -> Callable[..., str]:
    """File a tiny document to a patient (or queue it) through the store; returns the document id."""
    from pipeline.records import (
        Candidate, DocumentIdentifiers, FieldVerdict, FilingDecision, IncomingDocument, MatchOutcome,
        OcrPage, OcrResult, Outcome, PatientMatch,
    )
    from pipeline.store.filing import file_document
    from pipeline.store.manifest import Manifest
    from pipeline.store.objects import LocalStore

    counter = iter(range(10**6))

    def go(patient_id: int, mrn: str, *, queued: bool = False,
           identifiers: DocumentIdentifiers | None = None) -> str:
        n = next(counter)
        source = tmp_path / f"scan_{n}.pdf"
        source.write_bytes(f"%PDF-1.4 synthetic test document {n}\n".encode())
        data = source.read_bytes()
        incoming = IncomingDocument(source, source.name, hashlib.sha256(data).hexdigest(), len(data),
                                    "application/pdf", datetime(2026, 3, 2, tzinfo=UTC))
        ocr = OcrResult((OcrPage(1, f"note {n}", 90.0),), None, "test")
        ids = identifiers or DocumentIdentifiers(family_name="DOE", given_name="JANE", birth_date=date(1980, 1, 2))
        cand = Candidate(patient_id, mrn, 0.999, 30.0, {"birth_date": FieldVerdict.AGREE})
        if queued:
            match = PatientMatch(MatchOutcome.REVIEW, None, (cand,), ("test",))
            decision = FilingDecision(Outcome.NEEDS_REVIEW, ("test",))
        else:
            match = PatientMatch(MatchOutcome.AUTO_FILE, cand, (cand,), ())
            decision = FilingDecision(Outcome.FILED, ())
        entry = file_document(store=LocalStore(tmp_path / "objects"), manifest=Manifest(engine),
                              incoming=incoming, ocr=ocr, classification=None, identifiers=ids,
                              match=match, decision=decision, versions={"pipeline": "test"})
        return entry.document_id

    return go
