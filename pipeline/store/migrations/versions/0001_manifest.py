"""The manifest: documents, their text (full-text indexed), intake events, review queue, access log.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("document_id", sa.String(36), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sha1", sa.String(40), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(64), nullable=False),
        sa.Column("original_name", sa.String(512), nullable=False),
        sa.Column("source_name", sa.String(1024), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("filed_at", TZ, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("patient_id", sa.Integer),
        sa.Column("patient_mrn", sa.String(64)),
        sa.Column("doc_type", sa.String(64)),
        sa.Column("loinc", sa.String(16)),
        sa.Column("type_display", sa.String(128)),
        sa.Column("type_confidence", sa.Float),
        sa.Column("match_confidence", sa.Float),
        sa.Column("ocr_confidence", sa.Float),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("date_of_service", sa.Date),
        sa.Column("original_key", sa.String(1024), nullable=False),
        sa.Column("searchable_key", sa.String(1024)),
        sa.Column("searchable_sha256", sa.String(64)),
        sa.Column("searchable_sha1", sa.String(40)),
        sa.Column("searchable_size", sa.BigInteger),
        sa.Column("relates_to", sa.String(36)),
        sa.Column("relates_code", sa.String(16)),
        sa.Column("filed_by", sa.String(128), nullable=False),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("source_patient_info", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("status IN ('current', 'entered-in-error')", name="status"),
        sa.CheckConstraint("outcome IN ('filed', 'needs_review')", name="outcome"),
    )
    op.create_index("ix_documents_sha256", "documents", ["sha256"])
    # the same bytes are filed once; only a refile (relates_to set) may carry them again
    op.create_index("uq_documents_first_sha256", "documents", ["sha256"], unique=True,
                    sqlite_where=sa.text("relates_to IS NULL"), postgresql_where=sa.text("relates_to IS NULL"))
    op.create_index("ix_documents_patient_mrn_type", "documents", ["patient_mrn", "doc_type", "date_of_service"])
    op.create_index("ix_documents_patient_id_type", "documents", ["patient_id", "doc_type"])
    op.create_index("ix_documents_filed_at", "documents", ["filed_at"])
    op.create_index("ix_documents_relates_to", "documents", ["relates_to"])

    op.create_table(
        "document_text",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE document_text ADD COLUMN tsv tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED")
        op.execute("CREATE INDEX ix_document_text_tsv ON document_text USING GIN (tsv)")
    else:
        op.execute("CREATE VIRTUAL TABLE document_text_fts USING fts5("
                   "text, content='document_text', content_rowid='id', tokenize='porter unicode61')")
        op.execute("CREATE TRIGGER document_text_ai AFTER INSERT ON document_text BEGIN "
                   "INSERT INTO document_text_fts(rowid, text) VALUES (new.id, new.text); END")
        op.execute("CREATE TRIGGER document_text_ad AFTER DELETE ON document_text BEGIN "
                   "INSERT INTO document_text_fts(document_text_fts, rowid, text) "
                   "VALUES ('delete', old.id, old.text); END")

    op.create_table(
        "intake_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("source_name", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("document_id", sa.String(36)),
        sa.Column("error", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("quarantine_key", sa.String(1024)),
        sa.CheckConstraint("kind IN ('duplicate', 'rejected')", name="kind"),
    )
    op.create_index("ix_intake_events_sha256", "intake_events", ["sha256"])

    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(36), sa.ForeignKey("documents.document_id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("match_reasons", sa.JSON, nullable=False),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.Column("identifiers", sa.JSON, nullable=False),
        sa.Column("predicted_doc_type", sa.String(64)),
        sa.Column("resolved_at", TZ),
        sa.Column("resolved_by", sa.String(128)),
        sa.Column("resolution", sa.String(32)),
        sa.Column("resolved_doc_type", sa.String(64)),
        sa.Column("resolved_patient_id", sa.Integer),
        sa.Column("note", sa.Text),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("status IN ('open', 'resolved')", name="status"),
    )
    op.create_index("ix_review_items_document_id", "review_items", ["document_id"])
    op.create_index("ix_review_items_status", "review_items", ["status"])

    op.create_table(
        "review_candidates",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("review_items.id"), primary_key=True),
        sa.Column("patient_id", sa.Integer, primary_key=True),
    )
    op.create_index("ix_review_candidates_patient_id", "review_candidates", ["patient_id"])

    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("document_id", sa.String(36)),
        sa.Column("patient_mrn", sa.String(64)),
        sa.Column("recipient", sa.String(256)),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_access_log_document_id", "access_log", ["document_id"])
    _make_access_log_append_only()

    # journal events written in the same transaction as the change, copied to the object store's
    # NDJSON journal by whoever holds a store (transactional outbox), then deleted
    op.create_table(
        "journal_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
    )


def _make_access_log_append_only() -> None:
    """HIPAA audit trail: rows may be added, never changed or removed, whoever connects."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'access_log is append-only: % is not allowed', TG_OP; END $$"
        )
        op.execute("CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log "
                   "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()")
        op.execute("CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER access_log_no_{verb.lower()} BEFORE {verb} ON access_log BEGIN "
                       f"SELECT RAISE(ABORT, 'access_log is append-only: {verb} is not allowed'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE access_log")
        op.execute("DROP FUNCTION access_log_append_only()")
    else:
        op.execute("DROP TABLE access_log")
        op.execute("DROP TABLE document_text_fts")
    for table in ("journal_outbox", "review_candidates", "review_items", "intake_events", "document_text", "documents"):
        op.drop_table(table)
