"""Duplicates and rejections: the same bytes seen again, and inputs that could not be read (with their
quarantine key), each journaled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.records import DocumentStatus
from pipeline.store import journal
from pipeline.store.mapping import row_to_json
from pipeline.store.outbox import JournalOutbox
from pipeline.store.tables import DocumentRow, IntakeEventRow


class IntakeLog(JournalOutbox):
    """Which document holds these bytes; the duplicates and rejections recorded."""

    def find_duplicate(self, sha256: str) -> str | None:
        """The document already holding these bytes (its current version when refiled), or None."""
        def work(session: Session) -> str | None:
            rows = session.execute(
                select(DocumentRow.document_id, DocumentRow.status)
                .where(DocumentRow.sha256 == sha256).order_by(DocumentRow.filed_at.desc())
            ).all()
            current = [r.document_id for r in rows if r.status == DocumentStatus.CURRENT]
            return (current or [r.document_id for r in rows] or [None])[0]
        return self._run("duplicate check", work)

    def record_duplicate(self, source_name: str, sha256: str, document_id: str, received_at: datetime) -> None:
        """Link a second copy of known bytes to the document that holds them; nothing is stored twice."""
        self._run("recording a duplicate", lambda s: self._add_intake_event(s, IntakeEventRow(
            kind="duplicate", at=received_at.astimezone(UTC), source_name=source_name, sha256=sha256, document_id=document_id)))
        self._after_change()

    def record_rejection(self, source_name: str, sha256: str | None, error: str, reason: str,
                         quarantine_key: str | None, received_at: datetime) -> None:
        self._run("recording a rejection", lambda s: self._add_intake_event(s, IntakeEventRow(
            kind="rejected", at=received_at.astimezone(UTC), source_name=source_name, sha256=sha256, error=error,
            reason=reason, quarantine_key=quarantine_key)))
        self._after_change()

    def _add_intake_event(self, session: Session, row: IntakeEventRow) -> None:
        """Add a duplicate or rejection with its journal event (id included) in the same transaction."""
        session.add(row)
        session.flush()
        self._outbox(session, [journal.intake_line(row_to_json(row))])

    def intake_events(self, kind: str | None = None) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            query = select(IntakeEventRow).order_by(IntakeEventRow.id)
            if kind:
                query = query.where(IntakeEventRow.kind == kind)
            return [row_to_json(r) for r in session.scalars(query)]
        return self._run("reading intake events", work)
