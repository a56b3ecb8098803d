"""The journal outbox: every manifest change queues its journal lines in the same transaction
(with the access-log entries it adds), and `flush_journal` copies them to the object store's NDJSON
journal (`journal.py`), which `pipeline reindex` rebuilds the manifest from."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pipeline.errors import StorageError
from pipeline.store import journal
from pipeline.store.mapping import row_to_json
from pipeline.store.objects import ObjectStore
from pipeline.store.tables import AccessLogRow, JournalOutboxRow
from pipeline.store.transactions import Transactions

log = logging.getLogger(__name__)


class JournalOutbox(Transactions):
    """Queue journal lines with each change; copy them to the store."""

    def _outbox(self, session: Session, lines: list[dict[str, Any]]) -> None:
        """Queue journal lines in the same transaction as the change they describe, with every
        access-log entry this transaction adds (the journal keeps the audit trail too)."""
        entries = [obj for obj in session.new if isinstance(obj, AccessLogRow)]
        session.flush()
        lines = lines + [journal.access_line(row_to_json(row)) for row in sorted(entries, key=lambda r: r.id)]
        if lines:
            session.add(JournalOutboxRow(created_at=self.clock(), lines=lines))

    def _after_change(self) -> None:
        self.copy_journal()

    def copy_journal(self) -> None:
        """Copy the outbox to the store now; a store that fails leaves the events queued (the next
        change or store command copies them) and says so in the log."""
        if self.store is not None:
            try:
                self.flush_journal()
            except StorageError:
                log.warning("journal not copied to the store yet; the next store command retries", exc_info=True)

    def flush_journal(self, store: ObjectStore | None = None, batch: int = 100) -> int:
        """Copy queued journal events to the store (oldest first), then drop them; returns the count.

        Safe to run from several processes at once: an event written twice or out of order is
        harmless, because a replay keeps each row's highest revision.
        """
        store = store or self.store
        if store is None:
            return 0
        written = 0
        while True:
            rows = self._run("reading the journal outbox", lambda s: [
                (r.id, r.lines) for r in s.scalars(select(JournalOutboxRow).order_by(JournalOutboxRow.id).limit(batch))])
            if not rows:
                return written
            for _, lines in rows:
                label = next((line[line["kind"]].get("document_id") for line in lines
                              if line[line["kind"]].get("document_id")), None) or "event"
                journal.write_event(store, lines, self.clock(), label)  # stamped after the commit
            ids = [row_id for row_id, _ in rows]
            self._run("clearing the journal outbox",
                      lambda s: s.execute(delete(JournalOutboxRow).where(JournalOutboxRow.id.in_(ids))))
            written += len(rows)

    def pending_journal_events(self) -> int:
        return self._run("counting the journal outbox", lambda s: s.scalar(
            select(func.count()).select_from(JournalOutboxRow)))
