"""Batches and backfill runs in the manifest (revision 0006).

A batch file split into documents is kept once, whole (`batches`); each document cut from it
carries the batch's SHA-256, its part number and its batch pages on its own `documents` row, so
`part_document` finds a part already filed when an interrupted batch is processed again.

A backfill run (`backfill_runs`) lists its input files (`backfill_items`) with their status:
pending, done (every document in it has a final outcome) or undone (tried again on resume).

Every change to these rows is journaled like a document's (`journal.py`: `batch`, `backfill_run`,
`backfill_item` lines, queued in the same transaction), so `pipeline reindex` puts them back
(`restore_batches`, `restore_runs`) and a snapshot holds them (`batch_rows`, `run_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from pipeline.records import ItemStatus, RunStatus
from pipeline.store import journal
from pipeline.store.mapping import document_from_row, json_to_column, row_to_json
from pipeline.store.outbox import JournalOutbox
from pipeline.store.rows import StoredDocument, aware
from pipeline.store.tables import BackfillItemRow, BackfillRunRow, BatchRow, DocumentRow


@dataclass(frozen=True, slots=True)
class StoredBatch:
    sha256: str
    original_name: str
    media_type: str
    size: int
    pages: int
    parts: int
    original_key: str
    received_at: datetime
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BackfillRun:
    id: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    paths: tuple[str, ...]
    workers: int


@dataclass(frozen=True, slots=True)
class BackfillItem:
    path: str
    pages: int
    status: ItemStatus
    sha256: str | None = None
    results: tuple[dict[str, Any], ...] = ()  # ProcessResult JSON, with "part" and "batch_pages" added
    error: str | None = None


class BatchLog(JournalOutbox):
    """Batches kept whole, and the documents cut from them."""

    def record_batch(self, batch: StoredBatch) -> None:
        """Keep a batch's row (once: a batch processed again after a crash keeps its first row)."""
        def work(session: Session) -> None:
            if session.get(BatchRow, batch.sha256) is None:
                values = {name: getattr(batch, name) for name in StoredBatch.__slots__}
                values["received_at"] = batch.received_at.astimezone(UTC)
                row = BatchRow(**values)
                session.add(row)
                self._outbox(session, [journal.batch_line(row_to_json(row))])
        self._run("recording a batch", work)
        self._after_change()

    def complete_batch(self, sha256: str) -> None:
        now = self.clock().astimezone(UTC)

        def work(session: Session) -> None:
            row = session.get(BatchRow, sha256)
            if row is not None:
                row.completed_at = now
                self._outbox(session, [journal.batch_line(row_to_json(row))])
        self._run("completing a batch", work)
        self._after_change()

    def batch_rows(self) -> list[dict[str, Any]]:
        """Every batch row as its journal form (for a snapshot, and the audit)."""
        return self._run("listing batches", lambda s: [
            row_to_json(row) for row in s.scalars(select(BatchRow).order_by(BatchRow.received_at, BatchRow.sha256))])

    def restore_batches(self, batches: Iterable[dict[str, Any]]) -> int:
        """Put back journaled batch rows (reindex): a missing one as journaled, a held one completed
        when the journal says it was; returns how many rows were added or completed."""
        def work(session: Session) -> int:
            changed = 0
            for data in batches:
                values = _column_values(BatchRow, data)
                row = session.get(BatchRow, values["sha256"])
                if row is None:
                    session.add(BatchRow(**values))
                    changed += 1
                elif row.completed_at is None and values.get("completed_at") is not None:
                    row.completed_at = values["completed_at"]
                    changed += 1
            return changed
        return self._run("restoring batches", work)

    def batch(self, sha256: str) -> StoredBatch | None:
        def work(session: Session) -> StoredBatch | None:
            row = session.get(BatchRow, sha256)
            if row is None:
                return None
            values = {name: getattr(row, name) for name in StoredBatch.__slots__}
            values["received_at"] = aware(row.received_at)
            values["completed_at"] = aware(row.completed_at) if row.completed_at else None
            return StoredBatch(**values)
        return self._run("reading a batch", work)

    def part_document(self, batch_sha256: str, part: int) -> StoredDocument | None:
        """The document first cut as part `part` of the batch, if it was filed or queued already."""
        def work(session: Session) -> StoredDocument | None:
            row = session.scalars(
                select(DocumentRow).where(DocumentRow.batch_sha256 == batch_sha256, DocumentRow.batch_part == part,
                                          DocumentRow.relates_to.is_(None))).first()
            return document_from_row(row) if row is not None else None
        return self._run("looking up a batch part", work)

    def batch_parts(self, batch_sha256: str) -> list[StoredDocument]:
        """The documents first cut from a batch, by part."""
        def work(session: Session) -> list[StoredDocument]:
            rows = session.scalars(
                select(DocumentRow).where(DocumentRow.batch_sha256 == batch_sha256, DocumentRow.relates_to.is_(None))
                .order_by(DocumentRow.batch_part)).all()
            return [document_from_row(row) for row in rows]
        return self._run("listing a batch's parts", work)


class RunLog(JournalOutbox):
    """Backfill runs and their items."""

    def start_run(self, run_id: str, paths: Iterable[str], workers: int,
                  items: Iterable[tuple[str, int]]) -> None:
        """A new run with its input files (path, pages), all pending, in one transaction."""
        now = self.clock().astimezone(UTC)

        def work(session: Session) -> None:
            run = BackfillRunRow(id=run_id, started_at=now, status=RunStatus.RUNNING.value, paths=list(paths),
                                 workers=workers)
            session.add(run)
            session.flush()
            rows = [BackfillItemRow(run_id=run_id, path=path, pages=pages, status=ItemStatus.PENDING.value,
                                    results=[]) for path, pages in items]
            session.add_all(rows)
            session.flush()
            self._outbox(session, [journal.run_line(row_to_json(run)),
                                   *(journal.run_item_line(row_to_json(row)) for row in rows)])
        self._run("starting a backfill run", work)
        self._after_change()

    def run_info(self, run_id: str) -> BackfillRun | None:
        def work(session: Session) -> BackfillRun | None:
            row = session.get(BackfillRunRow, run_id)
            if row is None:
                return None
            return BackfillRun(row.id, aware(row.started_at), aware(row.finished_at) if row.finished_at else None,
                               RunStatus(row.status), tuple(row.paths), row.workers)
        return self._run("reading a backfill run", work)

    def set_run_status(self, run_id: str, status: RunStatus) -> None:
        now = self.clock().astimezone(UTC)

        def work(session: Session) -> None:
            row = session.get(BackfillRunRow, run_id)
            if row is not None:
                row.status, row.finished_at = status.value, now if status is not RunStatus.RUNNING else None
                self._outbox(session, [journal.run_line(row_to_json(row))])
        self._run("ending a backfill run", work)
        self._after_change()

    def finish_item(self, run_id: str, item: BackfillItem) -> None:
        now = self.clock().astimezone(UTC)

        def work(session: Session) -> None:
            rows = session.scalars(select(BackfillItemRow).where(BackfillItemRow.run_id == run_id,
                                                                 BackfillItemRow.path == item.path)).all()
            for row in rows:
                row.status, row.sha256, row.results = item.status.value, item.sha256, list(item.results)
                row.error, row.pages, row.updated_at = item.error, item.pages, now
            session.flush()
            self._outbox(session, [journal.run_item_line(row_to_json(row)) for row in rows])
        self._run("recording a backfill item", work)
        self._after_change()

    def run_items(self, run_id: str, *, not_done: bool = False) -> list[BackfillItem]:
        """The run's items in the order they were listed (only those not done, with `not_done`)."""
        def work(session: Session) -> list[BackfillItem]:
            query = select(BackfillItemRow).where(BackfillItemRow.run_id == run_id).order_by(BackfillItemRow.id)
            if not_done:
                query = query.where(BackfillItemRow.status != ItemStatus.DONE.value)
            return [BackfillItem(row.path, row.pages, ItemStatus(row.status), row.sha256, tuple(row.results or ()),
                                 row.error) for row in session.scalars(query)]
        return self._run("listing a backfill run's items", work)

    def latest_run(self) -> str | None:
        def work(session: Session) -> str | None:
            return session.scalar(select(BackfillRunRow.id).order_by(BackfillRunRow.started_at.desc()).limit(1))
        return self._run("finding the latest backfill run", work)

    def count_runs(self) -> int:
        return self._run("counting backfill runs", lambda s: s.scalar(select(func.count()).select_from(BackfillRunRow)))

    def run_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every run and every item as their journal forms (for a snapshot)."""
        def work(session: Session) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            runs = [row_to_json(r) for r in session.scalars(select(BackfillRunRow).order_by(BackfillRunRow.started_at))]
            items = [row_to_json(r) for r in session.scalars(select(BackfillItemRow).order_by(BackfillItemRow.id))]
            return runs, items
        return self._run("listing backfill runs", work)

    def restore_runs(self, runs: Iterable[dict[str, Any]], items: Iterable[dict[str, Any]]) -> int:
        """Put back journaled runs and items in their journaled state (reindex), items matched by run
        and path (their ids are the old database's); returns how many runs were added."""
        def work(session: Session) -> int:
            added = 0
            for data in runs:
                values = _column_values(BackfillRunRow, data)
                added += _put(session, session.get(BackfillRunRow, values["id"]), BackfillRunRow, values)
            session.flush()
            for data in sorted(items, key=lambda d: int(d["id"])):
                values = {k: v for k, v in _column_values(BackfillItemRow, data).items() if k != "id"}
                if session.get(BackfillRunRow, values["run_id"]) is None:
                    continue  # its run is not in the journal (written before runs were): nothing to hang it on
                held = session.scalars(select(BackfillItemRow).where(
                    BackfillItemRow.run_id == values["run_id"], BackfillItemRow.path == values["path"])).first()
                _put(session, held, BackfillItemRow, values)
            return added
        return self._run("restoring backfill runs", work)


def _column_values(table: type, data: dict[str, Any]) -> dict[str, Any]:
    """A journaled row's values, converted for its table's columns (unknown keys left out)."""
    columns = {c.key: c for c in inspect(table).columns}
    return {key: json_to_column(columns[key], value) for key, value in data.items() if key in columns}


def _put(session: Session, held: Any, table: type, values: dict[str, Any]) -> bool:
    """Add a row of `table` with `values`, or set them on the row held; True when added."""
    if held is None:
        session.add(table(**values))
        return True
    for name, value in values.items():
        setattr(held, name, value)
    return False
