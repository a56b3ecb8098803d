"""The review queue: items a clerk must check, their kinds (`ReviewKind`: choose the patient, or
type-only for a document filed with its type unconfirmed), their states (`ReviewStatus`,
`ReviewResolution`), re-scoring after an ADT update, resolving (filing, closing without filing,
confirming a type), reopening, and the types clerks confirmed (classifier training data). The rules a decision must follow are the review
use case's (`pipeline/services/review.py`); this module stores decisions."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, func, literal, select, text
from sqlalchemy.orm import Session

from pipeline.errors import NotFoundError, StorageError
from pipeline.records import (
    DocumentIdentifiers,
    DocumentStatus,
    Outcome,
    PatientMatch,
    ReviewKind,
    ReviewResolution,
    ReviewStatus,
)
from pipeline.store import journal
from pipeline.store.mapping import document_from_row, review_from_row, review_to_json
from pipeline.store.outbox import JournalOutbox
from pipeline.store.rows import (
    QueueEntry,
    ReviewItem,
    StoredDocument,
    aware,
    candidates_from_json,
    candidates_to_json,
    identifiers_from_json,
    identifiers_to_json,
)
from pipeline.store.tables import (
    AccessLogRow,
    DocumentRow,
    DocumentTextRow,
    ReviewCandidateRow,
    ReviewItemRow,
    ReviewQueueVersionRow,
)

log = logging.getLogger(__name__)


def stored_resolution(resolution: ReviewResolution | None) -> str | None:
    return str(resolution) if resolution is not None else None


class ReviewQueue(JournalOutbox):
    """Review items: add, list, re-score, resolve, reopen."""

    def _add_review(self, session: Session, item: ReviewItem) -> int:
        row = ReviewItemRow(
            document_id=item.document_id, status=str(item.status), created_at=item.created_at,
            reasons=list(item.reasons), match_reasons=list(item.match_reasons),
            candidates=candidates_to_json(item.candidates), identifiers=identifiers_to_json(item.identifiers),
            predicted_doc_type=item.predicted_doc_type, resolution=stored_resolution(item.resolution),
            resolved_by=item.resolved_by,
            resolved_at=item.resolved_at, resolved_doc_type=item.resolved_doc_type,
            resolved_patient_id=item.resolved_patient_id, revision=item.revision, note=item.note,
            kind=str(item.kind))
        session.add(row)
        session.flush()
        for patient_id in sorted({c.patient_id for c in item.candidates}):
            session.add(ReviewCandidateRow(item_id=row.id, patient_id=patient_id))
        return row.id

    def review_item(self, item_id: int) -> ReviewItem:
        row = self._run("reading a review item", lambda s: s.get(ReviewItemRow, item_id))
        if row is None:
            raise NotFoundError(f"no review item {item_id}")
        return review_from_row(row)

    def open_review_items(self, limit: int = 200, kind: ReviewKind | None = None) -> list[ReviewItem]:
        """Open items, oldest first; only those of one kind when `kind` is given."""
        query = select(ReviewItemRow).where(ReviewItemRow.status == str(ReviewStatus.OPEN))
        if kind is not None:
            query = query.where(ReviewItemRow.kind == str(kind))
        return self._run("listing the review queue", lambda s: [review_from_row(r) for r in s.scalars(
            query.order_by(ReviewItemRow.id).limit(limit))])

    def open_review_neighbours(self, item_id: int) -> tuple[int | None, int | None]:
        """The open items just before and just after `item_id` in the queue's order (by id, oldest
        first), None at either end: two seeks in revision 0009's `(status, id, ...)` index, one round
        trip, however long the queue."""
        open_ids = select(ReviewItemRow.id).where(ReviewItemRow.status == str(ReviewStatus.OPEN))
        before = open_ids.where(ReviewItemRow.id < item_id).order_by(ReviewItemRow.id.desc()).limit(1)
        after = open_ids.where(ReviewItemRow.id > item_id).order_by(ReviewItemRow.id).limit(1)
        return self._run("finding the neighbouring open items", lambda s: tuple(
            s.execute(select(before.scalar_subquery(), after.scalar_subquery())).one()))

    def open_review_revisions(self) -> list[tuple[int, int, ReviewKind]]:
        """(id, revision, kind) of every open item, oldest first: cheap enough to read on every queue
        page (one index answers it, revision 0009; read through the connection, no ORM rows)."""
        query = (select(ReviewItemRow.id, ReviewItemRow.revision, ReviewItemRow.kind)
                 .where(ReviewItemRow.status == str(ReviewStatus.OPEN)).order_by(ReviewItemRow.id))
        return self._run("listing the review queue", lambda s: [
            (item_id, revision, ReviewKind(kind or ReviewKind.PATIENT))
            for item_id, revision, kind in s.connection().execute(query)])

    def review_queue_version(self) -> int:
        """The count of changes to review items so far (revision 0011's triggers keep it in each
        changing transaction): equal between two reads only if no review item was added, changed or
        removed in between. Read it before the open items it vouches for."""
        return self._run("reading the review queue's version", lambda s: s.scalar(
            select(ReviewQueueVersionRow.version).where(ReviewQueueVersionRow.id == 1))) or 0

    def review_reasons(self, item_ids: list[int]) -> dict[int, tuple[int, tuple[str, ...]]]:
        """id -> (revision, reasons and match reasons) of these items, without candidates and identifiers."""
        def work(session: Session) -> dict[int, tuple[int, tuple[str, ...]]]:
            out = {}
            for start in range(0, len(item_ids), 500):
                for item_id, revision, reasons, match_reasons in session.execute(
                        select(ReviewItemRow.id, ReviewItemRow.revision, ReviewItemRow.reasons,
                               ReviewItemRow.match_reasons).where(ReviewItemRow.id.in_(item_ids[start:start + 500]))):
                    out[item_id] = (revision, (*(reasons or ()), *(match_reasons or ())))
            return out
        return self._run("reading review reasons", work)

    def queue_entries(self, item_ids: list[int]) -> list[QueueEntry]:
        """What the queue page shows of these items, in the order given (those that exist)."""
        if not item_ids:
            return []
        query = select(ReviewItemRow.id, ReviewItemRow.kind, ReviewItemRow.created_at, ReviewItemRow.reasons,
                       ReviewItemRow.match_reasons, ReviewItemRow.predicted_doc_type, ReviewItemRow.candidates
                       ).where(ReviewItemRow.id.in_(item_ids))
        rows = self._run("reading review items", lambda s: {
            item_id: QueueEntry(id=item_id, kind=ReviewKind(kind or ReviewKind.PATIENT), created_at=aware(created),
                                reasons=(*(reasons or ()), *(match_reasons or ())), predicted_doc_type=doc_type,
                                best=candidates_from_json(candidates[:1])[0] if candidates else None)
            for item_id, kind, created, reasons, match_reasons, doc_type, candidates in s.connection().execute(query)})
        return [rows[i] for i in item_ids if i in rows]

    def review_items(self) -> list[ReviewItem]:
        """Every review item, open and resolved, oldest first."""
        return self._run("listing review items", lambda s: [review_from_row(r) for r in s.scalars(
            select(ReviewItemRow).order_by(ReviewItemRow.id))])

    def review_items_for_patients(self, patient_ids: set[int]) -> list[tuple[int, DocumentIdentifiers]]:
        """Open review items with any of these patients among their candidates (for ADT re-scoring)."""
        if not patient_ids:
            return []

        def work(session: Session) -> list[tuple[int, DocumentIdentifiers]]:
            query = (select(ReviewItemRow).where(ReviewItemRow.status == str(ReviewStatus.OPEN),
                                                 ReviewItemRow.kind == str(ReviewKind.PATIENT), ReviewItemRow.id.in_(
                select(ReviewCandidateRow.item_id).where(ReviewCandidateRow.patient_id.in_(sorted(patient_ids)))))
                .order_by(ReviewItemRow.id))
            return [(row.id, identifiers_from_json(row.identifiers)) for row in session.scalars(query)]
        return self._run("finding review items", work)

    def rescore_review_item(self, item_id: int, match: PatientMatch) -> None:
        """Replace an open item's candidates and match reasons (after an ADT update). It stays open:
        only a clerk files a queued document."""
        def work(session: Session) -> None:
            row = session.get(ReviewItemRow, item_id)
            if row is None:
                raise NotFoundError(f"no review item {item_id}")
            row.candidates = candidates_to_json(match.candidates)
            row.match_reasons = list(match.reasons)
            session.execute(delete(ReviewCandidateRow).where(ReviewCandidateRow.item_id == item_id))
            for patient_id in sorted({c.patient_id for c in match.candidates}):
                session.add(ReviewCandidateRow(item_id=item_id, patient_id=patient_id))
            row.revision += 1
            self._outbox(session, [journal.review_line(review_to_json(review_from_row(row)))])
        self._run("re-scoring a review item", work)
        self._after_change()

    def resolve_review_item(self, item_id: int, *, actor: str, resolution: ReviewResolution = ReviewResolution.FILED,
                            patient_id: int | None = None, patient_mrn: str | None = None,
                            doc_type: str | None = None, loinc: str | None = None, type_display: str | None = None,
                            note: str | None = None) -> StoredDocument:
        """A clerk's decision on a queued document: `filed` needs the patient (and the type, when it
        was uncertain); the confirmed type feeds `reviewed_types()` for classifier training."""
        resolution = ReviewResolution(resolution)
        if resolution is ReviewResolution.FILED and (patient_id is None or not patient_mrn):
            raise StorageError(f"review item {item_id}: filing needs the patient (id and MRN)")
        now = self.clock()

        def work(session: Session) -> str:
            item = self._open_row(session, item_id, ReviewKind.PATIENT)
            doc = session.get(DocumentRow, item.document_id)
            item.status, item.resolution = str(ReviewStatus.RESOLVED), str(resolution)
            item.resolved_by, item.resolved_at = actor, now
            item.note = note
            if resolution is ReviewResolution.FILED:
                item.resolved_patient_id = patient_id
                item.resolved_doc_type = doc_type or doc.doc_type
                doc.patient_id, doc.patient_mrn, doc.outcome = patient_id, patient_mrn, str(Outcome.FILED)
                doc.type_confirmed = True  # the clerk chose or confirmed the type with the patient
                if doc_type:
                    doc.doc_type, doc.loinc, doc.type_display = doc_type, loinc or doc.loinc, type_display
                doc.reasons = [*doc.reasons, f"reviewed by {actor}"]
                doc.revision += 1
            return self._record_decision(session, item, doc, now, actor, patient_mrn, f"review: {resolution}")
        document_id = self._run("resolving a review item", work)
        self._after_change()
        return self.get(document_id)

    def confirm_review_type(self, item_id: int, *, actor: str, doc_type: str, loinc: str, type_display: str,
                            note: str | None = None) -> StoredDocument:
        """A clerk's decision on a type-only item: the filed document's type is `doc_type` (the one
        predicted, confirmed, or another, corrected). The row is updated in place (revision + 1,
        journaled, so `reindex` rebuilds it); its patient and its stored objects stay as they are.
        The confirmed type feeds `reviewed_types()` like any resolved item's."""
        now = self.clock()

        def work(session: Session) -> str:
            item = self._open_row(session, item_id, ReviewKind.TYPE)
            doc = session.get(DocumentRow, item.document_id, with_for_update=True)
            was = doc.doc_type
            item.status, item.resolution = str(ReviewStatus.RESOLVED), str(ReviewResolution.TYPE_CONFIRMED)
            item.resolved_by, item.resolved_at, item.note = actor, now, note
            item.resolved_doc_type, item.resolved_patient_id = doc_type, doc.patient_id
            what = f"type confirmed as {doc_type}" if doc_type == was else f"type corrected from {was} to {doc_type}"
            doc.doc_type, doc.loinc, doc.type_display, doc.type_confirmed = doc_type, loinc, type_display, True
            doc.reasons = [*doc.reasons, f"{what} by {actor}"]
            doc.revision += 1
            return self._record_decision(session, item, doc, now, actor, doc.patient_mrn, f"review: {what}")
        document_id = self._run("confirming a document type", work)
        self._after_change()
        return self.get(document_id)

    @staticmethod
    def _open_row(session: Session, item_id: int, kind: ReviewKind) -> ReviewItemRow:
        """The item's row, locked, if it is open and of `kind`; else NotFoundError or StorageError."""
        item = session.get(ReviewItemRow, item_id, with_for_update=True)
        if item is None:
            raise NotFoundError(f"no review item {item_id}")
        if item.status != ReviewStatus.OPEN:
            raise StorageError(f"review item {item_id} is already {item.status} ({item.resolution})")
        if item.kind != kind:
            raise StorageError(f"review item {item_id} is type-only: its document is filed; confirm its type"
                               if kind is ReviewKind.PATIENT else
                               f"review item {item_id} is not type-only: its document is not filed yet")
        return item

    def _record_decision(self, session: Session, item: ReviewItemRow, doc: DocumentRow, now: Any, actor: str,
                         patient_mrn: str | None, reason: str) -> str:
        """The decision's access-log entry and journal lines, in the decision's transaction."""
        item.revision += 1
        session.add(AccessLogRow(at=now, actor=actor, action="resolved", document_id=item.document_id,
                                 patient_mrn=patient_mrn, reason=reason + (f"; {item.note}" if item.note else "")))
        self._outbox(session, [journal.document_line(document_from_row(doc)),
                               journal.review_line(review_to_json(review_from_row(item)))])
        return item.document_id

    def closed_review_items(self, limit: int = 200) -> list[tuple[ReviewItem, StoredDocument, str | None]]:
        """Items closed without filing whose document is still current and has no patient, oldest
        closing first, each with its document and the reason the clerk gave: the unidentified
        (suspense) worklist. A document refiled since then (`pipeline refile`) has left it."""
        def work(session: Session) -> list[tuple[ReviewItem, StoredDocument, str | None]]:
            query = (self._closed_unfiled(select(ReviewItemRow, DocumentRow))
                     .order_by(ReviewItemRow.resolved_at, ReviewItemRow.id).limit(limit))
            return [(review_from_row(item), document_from_row(doc), item.note)
                    for item, doc in session.execute(query).all()]
        return self._run("listing items closed without filing", work)

    def count_closed_review_items(self) -> int:
        """Counted from the items closed without filing alone (revision 0012's partial index; an EXISTS
        per item for its document), not from every unfiled document nor every review item: the queue
        page asks on every view. SQLite is told the index (`INDEXED BY`: its own choice follows its
        statistics, and with every item open they made it scan every row; a statement that could not
        use the index fails rather than scans); PostgreSQL's planner picks it by the rows it holds."""
        hint = " INDEXED BY ix_review_items_closed_unfiled" if self.engine.dialect.name == "sqlite" else ""
        count = text(f"SELECT count(*) FROM review_items{hint} WHERE status = '{ReviewStatus.RESOLVED}' "
                     f"AND resolution = '{ReviewResolution.CLOSED_UNFILED}' AND EXISTS (SELECT 1 FROM documents "
                     "WHERE documents.document_id = review_items.document_id "
                     f"AND documents.status = '{DocumentStatus.CURRENT}' AND documents.patient_id IS NULL)")
        return self._run("counting items closed without filing", lambda s: s.scalar(count))

    @staticmethod
    def _closed_unfiled_items() -> tuple[Any, ...]:
        """The WHERE of revision 0012's partial index, its two values written into the SQL: a planner
        uses a partial index only when it can see that the query's WHERE implies the index's, and a
        bound parameter hides the value (PostgreSQL's generic plans for prepared statements)."""
        return (ReviewItemRow.status == literal(str(ReviewStatus.RESOLVED), literal_execute=True),
                ReviewItemRow.resolution == literal(str(ReviewResolution.CLOSED_UNFILED), literal_execute=True))

    @classmethod
    def _closed_unfiled(cls, query: Any) -> Any:
        return query.join(DocumentRow, DocumentRow.document_id == ReviewItemRow.document_id).where(
            *cls._closed_unfiled_items(), DocumentRow.status == str(DocumentStatus.CURRENT),
            DocumentRow.patient_id.is_(None))

    def review_note(self, item_id: int) -> str | None:
        """The note a clerk gave when resolving the item (for one closed without filing: why)."""
        return self._run("reading a review note", lambda s: s.scalar(
            select(ReviewItemRow.note).where(ReviewItemRow.id == item_id)))

    def reopen_review_item(self, item_id: int, *, actor: str, reason: str) -> ReviewItem:
        """Put an item closed without filing back in the open queue (e.g. once the patient is
        registered), to be resolved like a new one. An item filed to a patient never reopens: a
        misfiled document is moved with `refile`. The closing stays in the access log."""
        if not reason.strip():
            raise StorageError(f"review item {item_id}: reopening needs a reason; it goes into the access log")
        now = self.clock()

        def work(session: Session) -> ReviewItem:
            item = session.get(ReviewItemRow, item_id, with_for_update=True)
            if item is None:
                raise NotFoundError(f"no review item {item_id}", hint="list them with `pipeline review list --closed`")
            if item.status != ReviewStatus.RESOLVED or item.resolution != ReviewResolution.CLOSED_UNFILED:
                if item.status == ReviewStatus.OPEN:
                    raise StorageError(f"review item {item_id} is open; only an item closed without filing reopens",
                                       hint="it is in the review queue already (`pipeline review list`)")
                raise StorageError(f"review item {item_id} is {item.status} ({item.resolution}); only an item "
                                   "closed without filing reopens",
                                   hint="move a document filed to the wrong patient with `pipeline refile`")
            doc = session.get(DocumentRow, item.document_id)
            if doc.status != DocumentStatus.CURRENT or doc.patient_id is not None:
                raise StorageError(f"review item {item_id}: its document {item.document_id} has been filed since "
                                   "it was closed", hint="see `pipeline search` and `pipeline refile`")
            item.status, item.resolution, item.resolved_by, item.resolved_at = str(ReviewStatus.OPEN), None, None, None
            item.note, item.resolved_doc_type, item.resolved_patient_id = None, None, None
            item.revision += 1
            session.add(AccessLogRow(at=now, actor=actor, action="resolved", document_id=item.document_id,
                                     reason=f"review: reopened; {reason.strip()}"))
            reopened = review_from_row(item)
            self._outbox(session, [journal.review_line(review_to_json(reopened))])
            return reopened
        reopened = self._run("reopening a review item", work)
        self._after_change()
        log.info("review item %d reopened by %s", item_id, actor)
        return reopened

    def reviewed_types(self) -> list[tuple[str, str]]:
        """(OCR text, document type) a clerk confirmed or corrected: training data for the classifier."""
        def work(session: Session) -> list[tuple[str, str]]:
            query = (select(DocumentTextRow.text, ReviewItemRow.resolved_doc_type)
                     .join(DocumentRow, DocumentRow.document_id == ReviewItemRow.document_id)
                     .join(DocumentTextRow, DocumentTextRow.sha256 == DocumentRow.sha256)
                     .where(ReviewItemRow.status == str(ReviewStatus.RESOLVED),
                            ReviewItemRow.resolved_doc_type.is_not(None))
                     .order_by(ReviewItemRow.id))
            return [(t, d) for t, d in session.execute(query).all() if t.strip()]
        return self._run("reading reviewed types", work)
