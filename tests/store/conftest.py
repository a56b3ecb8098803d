"""Store fixtures: a migrated manifest on SQLite and on a throwaway PostgreSQL database, the
local store, and a real moto S3 server over HTTP.

Documents are tiny generated files: `make_pdf` writes a one-page PDF with reportlab whose text is
unique per call, so each has its own SHA-256.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from pipeline.records import (
    Candidate,
    Classification,
    DocumentIdentifiers,
    FieldVerdict,
    FilingDecision,
    IncomingDocument,
    MatchOutcome,
    OcrPage,
    OcrResult,
    Outcome,
    PatientMatch,
)
from pipeline.store.database import make_engine, migrate
from pipeline.store.manifest import Manifest
from pipeline.store.objects import LocalStore

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
#: as in tests/conftest.py: the server's maintenance database, next to which test databases are made
POSTGRES_ADMIN_URL = os.environ.get("PIPELINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are copied from (faster than migrating each)."""
    from sqlalchemy import create_engine, text

    name = f"pipeline_tmpl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        migrate(f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}")
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def migrated_postgres_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (a copy of the template), dropped after."""
    from sqlalchemy import create_engine, text

    name = f"pipeline_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty manifest database: SQLite in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'manifest.db'}"
        migrate(url)
        return url
    return request.getfixturevalue("migrated_postgres_url")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'manifest.db'}"
    migrate(url)
    return url


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "objects")


@pytest.fixture
def manifest(db_url: str, store: LocalStore) -> Iterator[Manifest]:
    engine = make_engine(db_url)
    yield Manifest(engine, store=store)
    engine.dispose()


@pytest.fixture
def bucket(moto_endpoint: str, request: pytest.FixtureRequest) -> str:
    import boto3

    name = f"t-{abs(hash(request.node.nodeid)) % 10**10}-{os.getpid()}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


_counter = iter(range(10**9))


def make_pdf(path: Path, text: str | None = None) -> Path:
    """A one-page PDF carrying `text` (unique by default)."""
    body = text or f"synthetic document {next(_counter)} {path.name}"
    pdf = canvas.Canvas(str(path), pagesize=letter, invariant=1)
    pdf.drawString(72, 720, body)
    pdf.save()
    return path


@dataclass
class Filing:
    """The records `file_document` is handed, built around one generated PDF."""

    incoming: IncomingDocument
    ocr: OcrResult
    classification: Classification | None
    identifiers: DocumentIdentifiers
    match: PatientMatch | None
    decision: FilingDecision

    def kwargs(self) -> dict:
        return {"incoming": self.incoming, "ocr": self.ocr, "classification": self.classification,
                "identifiers": self.identifiers, "match": self.match, "decision": self.decision,
                "versions": {"pipeline": "test", "ocr": "tesseract 5.3.0"}}


def candidate(patient_id: int, mrn: str, probability: float = 0.999) -> Candidate:
    return Candidate(patient_id=patient_id, mrn=mrn, probability=probability, match_weight=20.0,
                     fields={"birth_date": FieldVerdict.AGREE, "mrn": FieldVerdict.AGREE}, display_name="DOE, JANE")


@pytest.fixture
def make_filing(tmp_path: Path) -> Callable[..., Filing]:
    import hashlib

    def build(*, text: str = "DISCHARGE SUMMARY patient recovered well after pneumonia", filed: bool = True,
              patient_id: int = 7, mrn: str = "MRN0007", doc_type: str = "discharge_summary",
              loinc: str = "18842-5", service: date | None = date(2025, 12, 30), searchable: bool = True,
              name: str | None = None, candidates: tuple[Candidate, ...] | None = None) -> Filing:
        n = next(_counter)
        source = make_pdf(tmp_path / (name or f"scan_{n:04d}.pdf"), f"{text} #{n}")
        data = source.read_bytes()
        searchable_pdf = make_pdf(tmp_path / f"searchable_{n:04d}.pdf", f"{text} #{n} (searchable)") \
            if searchable else None
        incoming = IncomingDocument(source=source, original_name=source.name,
                                    sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                    media_type="application/pdf", received_at=RECEIVED)
        ocr = OcrResult(pages=(OcrPage(number=1, text=f"{text} #{n}", confidence=91.0),),
                        searchable_pdf=searchable_pdf, engine="tesseract 5.3.0")
        classification = Classification(doc_type=doc_type, loinc=loinc, display="Discharge summary",
                                        confidence=0.93, needs_review=False, model_version="test-1")
        identifiers = DocumentIdentifiers(family_name="DOE", given_name="JANE", birth_date=date(1961, 4, 2),
                                          mrn=mrn, date_of_service=service)
        chosen = candidate(patient_id, mrn)
        if filed:
            match = PatientMatch(MatchOutcome.AUTO_FILE, chosen, (chosen,), ())
            decision = FilingDecision(Outcome.FILED, ())
        else:
            cands = candidates if candidates is not None else (candidate(patient_id, mrn, 0.7),
                                                               candidate(patient_id + 1, mrn + "1", 0.6))
            match = PatientMatch(MatchOutcome.REVIEW, None, cands, ("two patients come close",))
            decision = FilingDecision(Outcome.NEEDS_REVIEW, ("two patients come close",))
        return Filing(incoming, ocr, classification, identifiers, match, decision)

    return build
