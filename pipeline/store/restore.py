"""Putting the database back: every table for `pipeline export` / `import`, and manifest rows in
their journaled state for `pipeline reindex`.

A backup holds every table of the one metadata (`database.Base`: the manifest, the patient index and
whatever tables later revisions add), in dependency order, except `SKIPPED_TABLES`. The store names
no table of the patient index here: it walks the metadata, whose tables are declared by the stages
that own them (the use case makes sure the patient index's are imported; `undeclared_tables` finds a
table the database holds that no imported model declares, so a backup cannot leave one out quietly).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, inspect, select
from sqlalchemy import text as sql_text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipeline.errors import IntegrityError, StorageError
from pipeline.records import ReviewResolution
from pipeline.store.database import Base
from pipeline.store.mapping import (
    document_to_row,
    json_to_column,
    review_from_json,
    row_to_json,
    row_values,
    value_to_json,
)
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

#: left out of a backup on purpose: sign-in sessions (after a restore everyone signs in again) and the
#: review queue's change count (its triggers count the restored rows in)
SKIPPED_TABLES = frozenset({"sessions", "review_queue_version"})
#: in the database but not data of their own: Alembic's revision (a backup records it apart) and
#: SQLite's full-text index of `document_text` (with its shadow tables; its triggers rebuild it)
_DERIVED_PREFIXES = ("alembic_version", "document_text_fts", "sqlite_")
#: columns holding object keys: a backup must carry every object its rows name
OBJECT_KEY_COLUMNS = {"documents": ("original_key", "searchable_key"), "intake_events": ("quarantine_key",)}
_BATCH = 500


def backup_tables() -> list[Table]:
    """The tables a backup holds, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def row_from_json(table: Table, data: Any, where: str) -> dict[str, Any]:
    """One exported row, checked against its table's columns and converted for inserting; a row that
    does not fit is an `IntegrityError` naming `where` (file and line)."""
    if not isinstance(data, dict):
        raise IntegrityError(f"{where}: not a JSON object", hint="the backup is damaged; nothing was imported")
    columns = {c.key: c for c in table.columns}
    unknown, missing = sorted(set(data) - set(columns)), sorted(set(columns) - set(data))
    if unknown or missing:
        raise IntegrityError(f"{where}: columns {unknown or missing} are {'not in' if unknown else 'missing from'} "
                             f"table {table.name}", hint="the backup is damaged; nothing was imported")
    return {key: _column_value(column, data[key], f"{where}: column {key}") for key, column in columns.items()}


def _column_value(column: Any, value: Any, where: str) -> Any:
    if value is None:
        if column.nullable and not column.primary_key:
            return None
        raise IntegrityError(f"{where}: empty, but the column needs a value", hint="the backup is damaged")
    try:
        expected = column.type.python_type
    except NotImplementedError:
        return value
    if expected in (datetime, date):
        try:
            return json_to_column(column, value)
        except (TypeError, ValueError):
            raise IntegrityError(f"{where}: {type(value).__name__} is not an ISO date", hint="the backup is damaged") \
                from None
    ok = {int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
          str: lambda v: isinstance(v, str) and (column.type.length is None or len(v) <= column.type.length),
          bool: lambda v: isinstance(v, bool)}.get(expected)
    if ok is not None and not ok(value):
        raise IntegrityError(f"{where}: a {type(value).__name__} does not fit a {column.type} column",
                             hint="the backup is damaged")
    return value


class Restore(JournalOutbox):
    """Dump and load tables; upsert journaled rows."""

    def schema_revision(self) -> str | None:
        """The database's Alembic revision."""
        return self._run("reading the schema revision", lambda s: s.scalar(
            sql_text("SELECT version_num FROM alembic_version")))

    def undeclared_tables(self) -> list[str]:
        """Tables in the database that no imported model declares (a backup would miss them)."""
        names = self._run("listing tables", lambda s: inspect(s.connection()).get_table_names())
        return sorted(n for n in names if n not in Base.metadata.tables and not n.startswith(_DERIVED_PREFIXES))

    def nonempty_tables(self) -> list[str]:
        """The backup tables holding at least one row."""
        return self._run("checking for an empty database", lambda s: [
            t.name for t in backup_tables() if s.execute(select(1).select_from(t).limit(1)).first() is not None])

    def dump_tables(self, write: Callable[[str, Iterator[dict[str, Any]]], int]) -> dict[str, int]:
        """Every backup table, row by row in key order, all read in one transaction (one consistent
        view while filing goes on); `write(name, rows)` returns how many rows it wrote."""
        counts: dict[str, int] = {}
        try:
            with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    for table in backup_tables():
                        result = conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
                            select(table).order_by(*(table.primary_key.columns or table.columns)))
                        counts[table.name] = write(table.name, ({c.key: value_to_json(row[c]) for c in table.columns}
                                                                for row in result.mappings()))
        except SQLAlchemyError as exc:
            raise StorageError(f"manifest database: reading the tables for a backup failed ({type(exc).__name__})",
                               hint="check the database is reachable (`pipeline doctor`)") from exc
        return counts

    def load_tables(self, tables: Iterable[tuple[Table, Iterable[dict[str, Any]]]],
                    then: Callable[[], None]) -> dict[str, int]:
        """Insert checked rows (`row_from_json`) as they were, ids included, in one transaction that
        commits only after `then()` (which puts the objects) returned: a failure anywhere leaves the
        database as empty as it was. The access log's append-only triggers stay: this only inserts."""
        counts: dict[str, int] = {}

        def work(session: Session) -> dict[str, int]:
            conn = session.connection()
            for table, rows in tables:
                batch: list[dict[str, Any]] = []
                counts[table.name] = 0
                for row in rows:
                    batch.append(row)
                    if len(batch) == _BATCH:
                        conn.execute(insert(table), batch)
                        counts[table.name] += len(batch)
                        batch = []
                if batch:
                    conn.execute(insert(table), batch)
                    counts[table.name] += len(batch)
                if self.dialect == "postgresql" and counts[table.name]:
                    _reset_sequences(conn, table)
            then()
            return counts
        return self._run("restoring the tables", work)

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


def _reset_sequences(conn: Any, table: Table) -> None:
    """PostgreSQL: let each serial key continue after the highest restored id."""
    for column in table.primary_key.columns:
        sequence = conn.scalar(sql_text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name})
        if sequence:
            conn.execute(sql_text(f'SELECT setval(:s, (SELECT max("{column.name}") FROM "{table.name}"))'),
                         {"s": sequence})
