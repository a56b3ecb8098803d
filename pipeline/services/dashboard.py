"""The supervisor's picture of the day's work: today's and this week's documents by outcome, the
auto-file rate, the queue's size and age, documents indexed and items cleared per hour, items cleared
per clerk. Every figure is aggregated by the database (`store/activity.py`); days and weeks are UTC,
a week starts on Monday.

Outcomes of the documents indexed in a period, as they stand now:

    auto-filed          filed by the pipeline, no review item
    filed after review  a clerk filed it (or moved it with `pipeline refile` while it was queued)
    waiting             its review item is still open
    closed unfiled      a clerk closed it without filing (cannot identify)
    superseded          page surgery replaced it by new versions (counted on their own)
    corrections         a refile's new row (made by a clerk, not indexed by the pipeline)

The auto-file rate is auto-filed / everything the pipeline indexed in the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipeline.records import Outcome, ReviewResolution, ReviewStatus
from pipeline.store.activity import OutcomeCount, QueueState
from pipeline.store.manifest import Manifest

#: the outcome names, in the order a supervisor reads them
OUTCOMES = ("auto-filed", "filed after review", "waiting", "closed unfiled", "superseded", "corrections")
_RESOLUTIONS = {str(ReviewResolution.FILED): "filed after review", str(ReviewResolution.REFILED): "filed after review",
                str(ReviewResolution.CLOSED_UNFILED): "closed unfiled", str(ReviewResolution.SUPERSEDED): "superseded"}


@dataclass(frozen=True, slots=True)
class Period:
    name: str  # "today", "this week"
    since: datetime
    until: datetime
    outcomes: dict[str, int]  # OUTCOMES -> count
    duplicates: int
    rejected: int
    cleared_by_clerk: dict[str, int]

    @property
    def indexed(self) -> int:
        """Documents the pipeline indexed (everything but corrections)."""
        return sum(n for name, n in self.outcomes.items() if name != "corrections")

    @property
    def auto_file_rate(self) -> float | None:
        return self.outcomes["auto-filed"] / self.indexed if self.indexed else None


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime
    indexed: int
    cleared: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    now: datetime
    today: Period
    week: Period
    queue: QueueState
    hours: tuple[HourCount, ...]  # today's hours, midnight UTC up to now


def dashboard(manifest: Manifest) -> Dashboard:
    now = manifest.clock().astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = midnight - timedelta(days=midnight.weekday())
    until = now + timedelta(microseconds=1)
    indexed = manifest.indexed_per_hour(midnight, until)
    cleared = manifest.cleared_per_hour(midnight, until)
    hours = tuple(HourCount(h, indexed.get(h, 0), cleared.get(h, 0))
                  for h in (midnight + timedelta(hours=n) for n in range(now.hour + 1)))
    return Dashboard(now, _period(manifest, "today", midnight, until), _period(manifest, "this week", monday, until),
                     manifest.queue_state(now), hours)


def _period(manifest: Manifest, name: str, since: datetime, until: datetime) -> Period:
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for count in manifest.outcome_counts(since, until):
        outcomes[outcome_name(count)] += count.count
    intake = manifest.intake_counts(since, until)
    return Period(name, since, until, outcomes, intake.get("duplicate", 0), intake.get("rejected", 0),
                  manifest.cleared_by_clerk(since, until))


def outcome_name(count: OutcomeCount) -> str:
    if count.review_status is None:
        return "auto-filed" if count.by_pipeline and count.outcome == Outcome.FILED else "corrections"
    if count.review_status == ReviewStatus.OPEN:
        return "waiting"
    return _RESOLUTIONS.get(count.resolution or "", "filed after review")
