"""The review queue as the browser shows it: reason kinds and item kinds (patient, type-only) to
filter by, and each item's age.

A review item's reasons are sentences written by the stage that was unsure (OCR, classifier,
matcher). `reason_kind` sorts each into a short kind a clerk can filter the queue by.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime

from pipeline.records import ReviewKind

from pipeline.store.rows import ReviewItem

#: (kind, what the clerk sees, test on the lower-cased reason); the first that fits wins
REASON_KINDS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("unreadable", "unreadable text", lambda r: r.startswith("unreadable")),
    ("type", "document type unsure", lambda r: "document type" in r or "type confidence" in r),
    ("not_in_index", "patient not in index", lambda r: "not in index" in r),
    ("close_runner_up", "twin, namesake or duplicate", lambda r: "two candidates" in r),
    ("second_identifier", "second identifier needed",
     lambda r: "second identifier" in r or "alone is never enough" in r),
    ("birth_date", "birth date missing or differs", lambda r: "birth date" in r),
    ("mrn", "MRN differs", lambda r: "mrn" in r),
    ("name_or_sex", "name or sex differs", lambda r: "name disagrees" in r or "sex disagrees" in r),
    ("low_probability", "match probability low", lambda r: "match probability" in r),
)
OTHER_KIND = ("other", "other")
KIND_LABELS = {kind: label for kind, label, _ in REASON_KINDS} | {OTHER_KIND[0]: OTHER_KIND[1]}


def reason_kind(reason: str) -> str:
    text = reason.lower()
    return next((kind for kind, _, fits in REASON_KINDS if fits(text)), OTHER_KIND[0])


def all_reasons(item: ReviewItem) -> tuple[str, ...]:
    return (*item.reasons, *item.match_reasons)


def kinds_of(item: ReviewItem) -> set[str]:
    return {reason_kind(r) for r in all_reasons(item)} or {OTHER_KIND[0]}


def kind_counts(items: Iterable[ReviewItem]) -> list[tuple[str, str, int]]:
    """(kind, label, how many items have it), in the order of REASON_KINDS, only kinds present."""
    counts: dict[str, int] = {}
    for item in items:
        for kind in kinds_of(item):
            counts[kind] = counts.get(kind, 0) + 1
    return [(kind, label, counts[kind]) for kind, label in KIND_LABELS.items() if kind in counts]


#: what the clerk sees for each kind of item
ITEM_KIND_LABELS = {ReviewKind.PATIENT: "patient to choose", ReviewKind.TYPE: "type only (filed)"}


def item_kind_counts(items: Iterable[ReviewItem]) -> list[tuple[ReviewKind, str, int]]:
    """(item kind, label, how many items are of it), only kinds present."""
    counts = Counter(item.kind for item in items)
    return [(kind, label, counts[kind]) for kind, label in ITEM_KIND_LABELS.items() if counts[kind]]


def age(created_at: datetime, now: datetime) -> str:
    """How long an item has waited, as a clerk says it: 5 min, 3 h, 2 d."""
    minutes = max(int((now - created_at).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"
