"""The supervisor's figures, aggregated by the database: documents by outcome over a period, the open
queue's size and age, documents indexed and items cleared per hour, items cleared per clerk.

Every query reads an indexed range (documents.filed_at, review_items (status, created_at) and
(resolved_at, resolved_by), intake_events.at: revision 0008) and returns a few grouped rows, so the
figures cost the same with a million documents filed as with a hundred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from pipeline.records import ReviewStatus
from pipeline.store.rows import FILED_BY, aware
from pipeline.store.tables import DocumentRow, IntakeEventRow, ReviewItemRow
from pipeline.store.transactions import Transactions


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    """Documents indexed in a period by where they stand now, e.g. ("filed", None, None, 812)."""

    outcome: str  # documents.outcome: filed / needs_review
    review_status: str | None  # None: no review item (auto-filed, or a correction's new row)
    resolution: str | None
    by_pipeline: bool  # indexed by the pipeline (not a clerk's refile)
    count: int


@dataclass(frozen=True, slots=True)
class QueueState:
    open_items: int
    oldest: datetime | None
    over_24h: int


class Activity(Transactions):
    """Counts for the dashboard; times in UTC, periods half-open [since, until)."""

    def outcome_counts(self, since: datetime, until: datetime) -> list[OutcomeCount]:
        def work(session: Session) -> list[OutcomeCount]:
            by_pipeline = case((DocumentRow.filed_by == FILED_BY, 1), else_=0)
            query = (select(DocumentRow.outcome, ReviewItemRow.status, ReviewItemRow.resolution, by_pipeline,
                            func.count())
                     .outerjoin(ReviewItemRow, ReviewItemRow.document_id == DocumentRow.document_id)
                     .where(DocumentRow.filed_at >= _utc(since), DocumentRow.filed_at < _utc(until))
                     .group_by(DocumentRow.outcome, ReviewItemRow.status, ReviewItemRow.resolution, by_pipeline))
            return [OutcomeCount(o, s, r, bool(p), n) for o, s, r, p, n in session.execute(query).all()]
        return self._run("counting documents by outcome", work)

    def intake_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Duplicates and rejections received in the period, by kind."""
        return dict(self._run("counting duplicates and rejections", lambda s: s.execute(
            select(IntakeEventRow.kind, func.count()).where(IntakeEventRow.at >= _utc(since),
                                                            IntakeEventRow.at < _utc(until))
            .group_by(IntakeEventRow.kind)).all()))

    def queue_state(self, now: datetime, *, older_than: timedelta = timedelta(hours=24)) -> QueueState:
        def work(session: Session) -> QueueState:
            is_open = ReviewItemRow.status == str(ReviewStatus.OPEN)
            count, oldest = session.execute(select(func.count(), func.min(ReviewItemRow.created_at))
                                            .where(is_open)).one()
            old = session.scalar(select(func.count()).select_from(ReviewItemRow)
                                 .where(is_open, ReviewItemRow.created_at < _utc(now - older_than)))
            return QueueState(count, aware(oldest) if oldest else None, old)
        return self._run("reading the queue's size and age", work)

    def indexed_per_hour(self, since: datetime, until: datetime) -> dict[datetime, int]:
        """Documents the pipeline indexed (filed or queued), per hour starting at that hour."""
        return self._per_hour(DocumentRow.filed_at, since, until, DocumentRow.filed_by == FILED_BY)

    def cleared_per_hour(self, since: datetime, until: datetime) -> dict[datetime, int]:
        """Review items resolved (filed, closed, superseded, refiled), per hour."""
        return self._per_hour(ReviewItemRow.resolved_at, since, until, ReviewItemRow.resolved_at.is_not(None))

    def cleared_by_clerk(self, since: datetime, until: datetime) -> dict[str, int]:
        """Review items each clerk resolved in the period, most first."""
        rows = self._run("counting items cleared per clerk", lambda s: s.execute(
            select(ReviewItemRow.resolved_by, func.count())
            .where(ReviewItemRow.resolved_at >= _utc(since), ReviewItemRow.resolved_at < _utc(until),
                   ReviewItemRow.resolved_by.is_not(None))
            .group_by(ReviewItemRow.resolved_by).order_by(func.count().desc(), ReviewItemRow.resolved_by)).all())
        return dict(rows)

    def _per_hour(self, column, since: datetime, until: datetime, condition) -> dict[datetime, int]:  # noqa: ANN001
        if self.dialect == "postgresql":
            hour = func.date_trunc("hour", func.timezone("UTC", column))
        else:
            hour = func.strftime("%Y-%m-%d %H:00:00", column)
        query = (select(hour, func.count()).where(and_(column >= _utc(since), column < _utc(until), condition))
                 .group_by(hour))
        rows = self._run("counting per hour", lambda s: s.execute(query).all())
        return {_hour(value): count for value, count in rows}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _hour(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return aware(value)
