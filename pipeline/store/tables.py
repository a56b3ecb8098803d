"""The manifest tables (Alembic revision 0001). The patient index tables live in `pipeline.patients`.

    documents        one row per document version (a refile adds a row that relates to the old one)
    document_text    OCR text, one row per distinct object (SHA-256), full-text indexed
                     (SQLite: FTS5 table `document_text_fts`; PostgreSQL: `tsv` column + GIN index)
    intake_events    duplicates and rejections, with the quarantine key
    review_items     the review queue; identifiers and candidates kept as JSON for the reviewer
    review_candidates  (review item, patient id) pairs, so an ADT update finds the items it touches
    journal_outbox   journal events committed with each change, waiting to be copied to the store
    access_log       who viewed / downloaded / exported / refiled / released / merged what, when, why;
                     append-only (UPDATE and DELETE are rejected by the database itself)
    users, sessions, sign_in_failures   the review app's accounts (revision 0007)

`patient_id` is a plain integer, not a foreign key: the patient tables come in a later revision and
a document keeps its patient id even if the index is rebuilt.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.database import Base

ACCESS_ACTIONS = ("viewed", "downloaded", "exported", "refiled", "released", "merged", "resolved", "imported",
                  "revised")


class DocumentRow(Base):
    __tablename__ = "documents"

    document_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    sha1: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(512))
    source_name: Mapped[str] = mapped_column(String(1024))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[int | None] = mapped_column(Integer)
    patient_mrn: Mapped[str | None] = mapped_column(String(64))
    doc_type: Mapped[str | None] = mapped_column(String(64))
    loinc: Mapped[str | None] = mapped_column(String(16))
    type_display: Mapped[str | None] = mapped_column(String(128))
    type_confidence: Mapped[float | None] = mapped_column(Float)
    match_confidence: Mapped[float | None] = mapped_column(Float)
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    pages: Mapped[int] = mapped_column(Integer)
    date_of_service: Mapped[date | None] = mapped_column(Date)
    original_key: Mapped[str] = mapped_column(String(1024))
    searchable_key: Mapped[str | None] = mapped_column(String(1024))
    searchable_sha256: Mapped[str | None] = mapped_column(String(64))
    searchable_sha1: Mapped[str | None] = mapped_column(String(40))
    searchable_size: Mapped[int | None] = mapped_column(BigInteger)
    relates_to: Mapped[str | None] = mapped_column(String(36))
    relates_code: Mapped[str | None] = mapped_column(String(16))
    filed_by: Mapped[str] = mapped_column(String(128))
    versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    source_patient_info: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # +1 on every change; the journal's last-wins key
    type_confirmed: Mapped[bool] = mapped_column(Boolean, default=True)  # revision 0005
    # a document cut from a batch (revision 0006): the batch's SHA-256, its part number and batch pages
    batch_sha256: Mapped[str | None] = mapped_column(String(64))
    batch_part: Mapped[int | None] = mapped_column(Integer)
    batch_first_page: Mapped[int | None] = mapped_column(Integer)
    batch_last_page: Mapped[int | None] = mapped_column(Integer)
    derived_from: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # page surgery (revision 0008)
    barcodes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # read from its pages (revision 0010)


class DocumentTextRow(Base):
    __tablename__ = "document_text"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)


class IntakeEventRow(Base):
    __tablename__ = "intake_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # "duplicate" or "rejected"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_name: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str | None] = mapped_column(String(64))
    document_id: Mapped[str | None] = mapped_column(String(36))
    error: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    quarantine_key: Mapped[str | None] = mapped_column(String(1024))


class ReviewItemRow(Base):
    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(36), ForeignKey("documents.document_id"))
    status: Mapped[str] = mapped_column(String(16))  # records.ReviewStatus
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reasons: Mapped[list[str]] = mapped_column(JSON)  # why it was queued (type, OCR, ...)
    match_reasons: Mapped[list[str]] = mapped_column(JSON)  # the patient match's, replaced on re-scoring
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    identifiers: Mapped[dict[str, Any]] = mapped_column(JSON)
    predicted_doc_type: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(String(32))  # records.ReviewResolution
    resolved_doc_type: Mapped[str | None] = mapped_column(String(64))
    resolved_patient_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(16), default="patient")  # records.ReviewKind; revision 0005


class ReviewQueueVersionRow(Base):
    """One row (id 1) counting the changes to `review_items`: every insert, update and delete adds to
    it in the changing transaction, by triggers (revision 0011), whoever writes. The queue page reads
    the open items again only when it moved (`ReviewQueue.review_queue_version`). Derived: no backup
    holds it."""

    __tablename__ = "review_queue_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class ReviewCandidateRow(Base):
    __tablename__ = "review_candidates"

    item_id: Mapped[int] = mapped_column(Integer, ForeignKey("review_items.id"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class AccessLogRow(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[str | None] = mapped_column(String(36))
    patient_mrn: Mapped[str | None] = mapped_column(String(64))
    recipient: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(Text)


class JournalOutboxRow(Base):
    __tablename__ = "journal_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


# ------------------------------------------------------------------ batches and backfill runs (0006)


class BatchRow(Base):
    """A batch file that was split into documents; its original is kept whole under `original_key`."""

    __tablename__ = "batches"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    original_name: Mapped[str] = mapped_column(String(512))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    pages: Mapped[int] = mapped_column(Integer)
    parts: Mapped[int] = mapped_column(Integer)
    original_key: Mapped[str] = mapped_column(String(1024))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # every part filed or queued


class BackfillRunRow(Base):
    __tablename__ = "backfill_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # records.RunStatus
    paths: Mapped[list[str]] = mapped_column(JSON)
    workers: Mapped[int] = mapped_column(Integer)


class BackfillItemRow(Base):
    __tablename__ = "backfill_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("backfill_runs.id"))
    path: Mapped[str] = mapped_column(String(1024))
    pages: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # records.ItemStatus
    sha256: Mapped[str | None] = mapped_column(String(64))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # one ProcessResult JSON per document
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# ----------------------------------------------------- review-app accounts (Alembic revision 0007)


class UserRow(Base):
    """A review-app user: a name, a role (`records.Role`), an argon2 hash of the password (None: a
    user only a trusted proxy signs in), and whether the account is enabled."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    """A signed-in session: only the SHA-256 of its id is stored, so a copy of the table signs no one in.
    Deleted at sign-out, when the password changes, when the user is disabled; stale after the idle timeout."""

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SignInFailureRow(Base):
    """One failed sign-in: the name typed (known or not) and where from; counted for the rate limit."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64))
