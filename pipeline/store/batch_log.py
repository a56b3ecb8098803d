"""Batches and backfill runs in the manifest (revision 0006).

A batch file split into documents is kept once, whole (`batches`); each document cut from it
carries the batch's SHA-256, its part number and its batch pages on its own `documents` row, so
`part_document` finds a part already filed when an interrupted batch is processed again.

A backfill run (`backfill_runs`) lists its input files (`backfill_items`) with their status:
pending, done (every document in it has a final outcome) or undone (tried again on resume).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline.records import ItemStatus, RunStatus
from pipeline.store.mapping import document_from_row
from pipeline.store.rows import StoredDocument, aware
from pipeline.store.tables import BackfillItemRow, BackfillRunRow, BatchRow, DocumentRow
from pipeline.store.transactions import Transactions


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


class BatchLog(Transactions):
    """Batches kept whole, and the documents cut from them."""

    def record_batch(self, batch: StoredBatch) -> None:
        """Keep a batch's row (once: a batch processed again after a crash keeps its first row)."""
        def work(session: Session) -> None:
            if session.get(BatchRow, batch.sha256) is None:
                values = {name: getattr(batch, name) for name in StoredBatch.__slots__}
                values["received_at"] = batch.received_at.astimezone(UTC)
                session.add(BatchRow(**values))
        self._run("recording a batch", work)

    def complete_batch(self, sha256: str) -> None:
        now = self.clock().astimezone(UTC)
        self._run("completing a batch", lambda s: s.execute(
            update(BatchRow).where(BatchRow.sha256 == sha256).values(completed_at=now)))

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


class RunLog(Transactions):
    """Backfill runs and their items."""

    def start_run(self, run_id: str, paths: Iterable[str], workers: int,
                  items: Iterable[tuple[str, int]]) -> None:
        """A new run with its input files (path, pages), all pending, in one transaction."""
        now = self.clock().astimezone(UTC)

        def work(session: Session) -> None:
            session.add(BackfillRunRow(id=run_id, started_at=now, status=RunStatus.RUNNING.value,
                                       paths=list(paths), workers=workers))
            session.flush()
            session.add_all(BackfillItemRow(run_id=run_id, path=path, pages=pages, status=ItemStatus.PENDING.value,
                                            results=[]) for path, pages in items)
        self._run("starting a backfill run", work)

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
        finished = now if status is not RunStatus.RUNNING else None
        self._run("ending a backfill run", lambda s: s.execute(
            update(BackfillRunRow).where(BackfillRunRow.id == run_id).values(status=status.value,
                                                                              finished_at=finished)))

    def finish_item(self, run_id: str, item: BackfillItem) -> None:
        now = self.clock().astimezone(UTC)
        self._run("recording a backfill item", lambda s: s.execute(
            update(BackfillItemRow).where(BackfillItemRow.run_id == run_id, BackfillItemRow.path == item.path)
            .values(status=item.status.value, sha256=item.sha256, results=list(item.results), error=item.error,
                    pages=item.pages, updated_at=now)))

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
