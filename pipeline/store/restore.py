"""Putting the manifest back: whole tables for `pipeline export` / `import`, and rows in their
journaled state for `pipeline reindex`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, inspect, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from pipeline.records import ReviewResolution
from pipeline.store.mapping import document_to_row, json_to_column, review_from_json, row_to_json, row_values
from pipeline.store.outbox import JournalOutbox
from pipeline.store.review_queue import stored_resolution
from pipeline.store.rows import StoredDocument, candidates_to_json
from pipeline.store.tables import (
    AccessLogRow,
    DocumentRow,
    DocumentTextRow,
    IntakeEventRow,
    ReviewCandidateRow,
    ReviewItemRow,
)

log = logging.getLogger(__name__)

_TABLES = {"documents": DocumentRow, "document_text": DocumentTextRow, "intake_events": IntakeEventRow,
           "review_items": ReviewItemRow, "review_candidates": ReviewCandidateRow, "access_log": AccessLogRow}

#: export/import order: parents before children
TABLE_ORDER = tuple(_TABLES)


class Restore(JournalOutbox):
    """Dump and load tables; upsert journaled rows."""

    def is_empty(self) -> bool:
        def work(session: Session) -> bool:
            return all(session.scalar(select(func.count()).select_from(t)) == 0
                       for t in (DocumentRow, IntakeEventRow, AccessLogRow, ReviewItemRow))
        return self._run("checking for an empty manifest", work)

    def upsert_document(self, doc: StoredDocument, text: str | None) -> bool:
        """Put a document row in its given state (reindex); True if it was new."""
        def work(session: Session) -> bool:
            row = session.get(DocumentRow, doc.document_id)
            if row is None:
                session.add(document_to_row(doc))
            elif row.revision > doc.revision:
                return False  # the database already holds a newer state
            else:
                for name, value in row_values(doc).items():
                    setattr(row, name, value)
            session.flush()
            if text is not None:
                self._add_text(session, doc.sha256, text)
            return row is None
        return self._run("restoring a document", work)

    def upsert_review_item(self, data: dict[str, Any]) -> None:
        """Put a review item (journal form) in its given state, matched by document id."""
        item = review_from_json(data)

        def work(session: Session) -> None:
            row = session.scalar(select(ReviewItemRow).where(ReviewItemRow.document_id == item.document_id))
            if row is None:
                self._add_review(session, item)
                return
            row.status, row.resolution, row.resolved_by = str(item.status), stored_resolution(item.resolution), item.resolved_by
            row.resolved_at, row.resolved_doc_type = item.resolved_at, item.resolved_doc_type
            row.resolved_patient_id, row.revision = item.resolved_patient_id, item.revision
            row.note, row.kind = item.note, str(item.kind)
            row.reasons, row.match_reasons = list(item.reasons), list(item.match_reasons)
            row.candidates = candidates_to_json(item.candidates)
            session.execute(delete(ReviewCandidateRow).where(ReviewCandidateRow.item_id == row.id))
            for patient_id in sorted({c.patient_id for c in item.candidates}):
                session.add(ReviewCandidateRow(item_id=row.id, patient_id=patient_id))
        self._run("restoring a review item", work)

    def restore_access_entries(self, entries: Iterable[dict[str, Any]]) -> int:
        """Put back journaled access-log entries the database lacks (by id); returns how many."""
        entries = list(entries)
        if not entries:
            return 0
        have = {row["id"]: row for row in self.access_log()}
        missing = [e for e in entries if e["id"] not in have]
        clashing = [e["id"] for e in entries if e["id"] in have and have[e["id"]] != e]
        if clashing:
            log.warning("%d access-log entries in the journal (first id %d) differ from the database's entries "
                        "with the same id; the database keeps its own, the journal keeps the other",
                        len(clashing), clashing[0])
        if missing:
            self.load_table("access_log", missing)
        return len(missing)

    def dump_table(self, name: str) -> list[dict[str, Any]]:
        """Every row of one manifest table as JSON-ready dicts (for `pipeline export`)."""
        table = _TABLES[name]
        return self._run(f"reading {name}", lambda s: [row_to_json(r) for r in s.scalars(
            select(table).order_by(*inspect(table).primary_key))])

    def load_table(self, name: str, rows: Iterable[dict[str, Any]]) -> int:
        """Insert exported rows as they were, ids included (`pipeline import` into an empty home)."""
        table = _TABLES[name]
        columns = {c.key: c for c in inspect(table).columns}

        def work(session: Session) -> int:
            count = 0
            for data in rows:
                values = {k: json_to_column(columns[k], v) for k, v in data.items() if k in columns}
                if table is ReviewItemRow:  # an export written before revision 0003 says "rejected"
                    values["resolution"] = stored_resolution(ReviewResolution.stored(values.get("resolution")))
                session.add(table(**values))
                count += 1
            session.flush()
            return count
        count = self._run(f"loading {name}", work)
        if self.dialect == "postgresql" and count and "id" in columns:
            self._run("resetting a sequence", lambda s: s.execute(sql_text(
                f"SELECT setval(pg_get_serial_sequence('{table.__tablename__}', 'id'), "
                f"(SELECT max(id) FROM {table.__tablename__}))")))
        return count
