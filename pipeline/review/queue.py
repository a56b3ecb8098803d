"""The review queue as the browser shows it: reason kinds and item kinds (patient, type-only) to
filter by, and each item's age.

A review item's reasons are sentences written by the stage that was unsure (OCR, classifier,
matcher). `reason_kind` sorts each into a short kind a clerk can filter the queue by.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


@functools.lru_cache(maxsize=4096)  # a queue's reasons are a few hundred distinct sentences
def reason_kind(reason: str) -> str:
    text = reason.lower()
    return next((kind for kind, _, fits in REASON_KINDS if fits(text)), OTHER_KIND[0])


def all_reasons(item: ReviewItem) -> tuple[str, ...]:
    return (*item.reasons, *item.match_reasons)


def kinds_of(item: ReviewItem) -> set[str]:
    return kinds_of_reasons(all_reasons(item))


def kinds_of_reasons(reasons: Iterable[str]) -> set[str]:
    return {reason_kind(r) for r in reasons} or {OTHER_KIND[0]}


def kind_counts(items: Iterable[ReviewItem]) -> list[tuple[str, str, int]]:
    """(kind, label, how many items have it), in the order of REASON_KINDS, only kinds present."""
    return count_kinds(kinds_of(item) for item in items)


def count_kinds(kind_sets: Iterable[set[str]]) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = {}
    for kinds in kind_sets:
        for kind in kinds:
            counts[kind] = counts.get(kind, 0) + 1
    return [(kind, label, counts[kind]) for kind, label in KIND_LABELS.items() if kind in counts]


#: what the clerk sees for each kind of item
ITEM_KIND_LABELS = {ReviewKind.PATIENT: "patient to choose", ReviewKind.TYPE: "type only (filed)"}


def item_kind_counts(counts: Counter[ReviewKind]) -> list[tuple[ReviewKind, str, int]]:
    """(item kind, label, how many items are of it), only kinds present."""
    return [(kind, label, counts[kind]) for kind, label in ITEM_KIND_LABELS.items() if counts[kind]]


def age(created_at: datetime, now: datetime) -> str:
    """How long an item has waited, as a clerk says it: 5 min, 3 h, 2 d."""
    minutes = max(int((now - created_at).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


class KindsOfOpenItems:
    """Each open item's reason kinds, kept between queue pages by (item id, revision): a page reads
    the open items' ids and revisions, and the reasons only of items new or changed since (the
    reasons of 10,000 items take ~0.3 s to decode; their ids ~10 ms). Re-scoring bumps the revision."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[int, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def of(self, open_items: list[tuple[int, int, ReviewKind]],
           read_reasons: Callable[[list[int]], dict[int, tuple[int, tuple[str, ...]]]]) -> list[tuple[int, frozenset[str]]]:
        """(id, kinds) of the open items (given as (id, revision, item kind), oldest first)."""
        with self._lock:
            known = self._known
        missing = [item_id for item_id, revision, _ in open_items if known.get(item_id, (None,))[0] != revision]
        if missing:
            known = dict(known)
            for item_id, (revision, reasons) in read_reasons(missing).items():
                known[item_id] = (revision, frozenset(kinds_of_reasons(reasons)))
        out = [(item_id, known[item_id][1]) for item_id, _, _ in open_items if item_id in known]
        if missing or len(out) != len(known):  # the same open items as last time: nothing to keep anew
            with self._lock:
                self._known = {item_id: known[item_id] for item_id, _, _ in open_items if item_id in known}
        return out


@dataclass(frozen=True, slots=True)
class OpenQueue:
    """The open items as one queue page saw them, and what every page derives from them."""

    version: int  # the database's count of review-item changes, read before the items
    items: list[tuple[int, int, ReviewKind]]  # (id, revision, item kind), oldest first
    kinds: list[tuple[int, frozenset[str]]]  # (id, reason kinds), oldest first
    type_only: frozenset[int]
    kind_counts: list[tuple[str, str, int]]


class OpenQueueKept:
    """The open items kept between queue pages: a page asks the database for its count of review-item
    changes (`review_queue_version`, one row) and reads the open items again only when it moved.

    The count is read first: a change committed after it moves it again, so a list read after it is
    never kept as newer than it is (at worst read once more)."""

    def __init__(self) -> None:
        self._kinds = KindsOfOpenItems()
        self._kept: OpenQueue | None = None
        self._lock = threading.Lock()

    def current(self, read_version: Callable[[], int], read_open: Callable[[], list[tuple[int, int, ReviewKind]]],
                read_reasons: Callable[[list[int]], dict[int, tuple[int, tuple[str, ...]]]]) -> OpenQueue:
        version = read_version()
        with self._lock:
            kept = self._kept
        if kept is not None and kept.version == version:
            return kept
        items = read_open()
        kinds = self._kinds.of(items, read_reasons)
        kept = OpenQueue(version=version, items=items, kinds=kinds,
                         type_only=frozenset(item_id for item_id, _, of_kind in items if of_kind is ReviewKind.TYPE),
                         kind_counts=count_kinds(found for _, found in kinds))
        with self._lock:
            self._kept = kept
        return kept
