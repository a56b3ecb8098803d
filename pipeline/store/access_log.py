"""The access log: who viewed, downloaded, exported, refiled, released, merged or resolved what, when
and why. Append-only; every entry is journaled with the change it belongs to."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store.mapping import row_to_json
from pipeline.store.outbox import JournalOutbox
from pipeline.store.tables import ACCESS_ACTIONS, AccessLogRow

log = logging.getLogger(__name__)


class AccessLog(JournalOutbox):
    """Append to and read the access log."""

    def record_access(self, actor: str, action: str, *, document_id: str | None = None,
                      patient_mrn: str | None = None, reason: str | None = None, recipient: str | None = None,
                      journal_now: bool = True) -> None:
        """Commit one entry (its journal line queued in the outbox in the same transaction). With
        `journal_now` false the outbox is not copied to the store here: the caller runs `copy_journal`
        later (the queue page: after its response is sent); the entry itself is committed either way."""
        if action not in ACCESS_ACTIONS:
            raise ValueError(f"unknown access-log action {action!r}")
        def work(session: Session) -> None:
            session.add(AccessLogRow(at=self.clock().astimezone(UTC), actor=actor, action=action, document_id=document_id,
                                     patient_mrn=patient_mrn, reason=reason, recipient=recipient))
            self._outbox(session, [])
        self._run("writing the access log", work)
        if journal_now:
            self._after_change()

    def access_log(self, document_id: str | None = None) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            query = select(AccessLogRow).order_by(AccessLogRow.id)
            if document_id:
                query = query.where(AccessLogRow.document_id == document_id)
            return [row_to_json(r) for r in session.scalars(query)]
        return self._run("reading the access log", work)

    def recent_access(self, limit: int = 200) -> list[dict[str, Any]]:
        """The latest `limit` entries, newest first."""
        def work(session: Session) -> list[dict[str, Any]]:
            query = select(AccessLogRow).order_by(AccessLogRow.id.desc()).limit(limit)
            return [row_to_json(r) for r in session.scalars(query)]
        return self._run("reading the access log", work)
