"""The manifest: what was filed where, for whom, as what; the review queue; the access log.

`Manifest(engine)` is safe to share between threads (a session per call). Every change to a
document row, a review item or the access log, and every duplicate or rejection recorded, also
queues a journal event in the same transaction
(`journal.py`); a Manifest built with `store=` copies them to the object store's NDJSON journal
right away (otherwise the next process holding the store does), so `pipeline reindex` can rebuild
the index from the store alone. All times are stored in UTC.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Integer, and_, column, delete, func, inspect, or_, select, table
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipeline.errors import NotFoundError, StorageError
from pipeline.records import (
    DocumentIdentifiers,
    DocumentStatus,
    Outcome,
    PatientMatch,
    ReviewResolution,
    ReviewStatus,
)
from pipeline.store import journal
from pipeline.store.database import make_session_factory
from pipeline.store.objects import ObjectStore
from pipeline.store.mapping import (
    document_from_row,
    document_to_row,
    json_to_column,
    review_from_json,
    review_from_row,
    review_to_json,
    row_to_json,
    row_values,
)
from pipeline.store.rows import (
    ReviewItem,
    StoredDocument,
    candidates_to_json,
    identifiers_from_json,
    identifiers_to_json,
)
from pipeline.store.tables import (
    ACCESS_ACTIONS,
    AccessLogRow,
    DocumentRow,
    DocumentTextRow,
    IntakeEventRow,
    JournalOutboxRow,
    ReviewCandidateRow,
    ReviewItemRow,
)

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
_WORD = re.compile(r"\w+", re.UNICODE)
#: the SQLite FTS5 index over document_text (revision 0001); its rowid is document_text.id
_FTS = table("document_text_fts", column("rowid", Integer))


def new_document_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


class Manifest:
    def __init__(self, engine: Engine, *, store: ObjectStore | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self._sessions = make_session_factory(engine)
        self.dialect = engine.dialect.name

    # ------------------------------------------------------------------------------ sessions

    def _session(self) -> Session:
        return self._sessions()

    def _run(self, what: str, work: Callable[[Session], Any]) -> Any:
        """Run `work` in one transaction; database failures become StorageError."""
        try:
            with self._session() as session, session.begin():
                return work(session)
        except SQLAlchemyError as exc:
            raise StorageError(f"manifest database: {what} failed ({type(exc).__name__})",
                               hint="check the database is reachable and migrated (`pipeline doctor`)") from exc

    # --------------------------------------------------------------------------- duplicates

    def find_duplicate(self, sha256: str) -> str | None:
        """The document already holding these bytes (its current version when refiled), or None."""
        def work(session: Session) -> str | None:
            rows = session.execute(
                select(DocumentRow.document_id, DocumentRow.status)
                .where(DocumentRow.sha256 == sha256).order_by(DocumentRow.filed_at.desc())
            ).all()
            current = [r.document_id for r in rows if r.status == DocumentStatus.CURRENT]
            return (current or [r.document_id for r in rows] or [None])[0]
        return self._run("duplicate check", work)

    def record_duplicate(self, source_name: str, sha256: str, document_id: str, received_at: datetime) -> None:
        """Link a second copy of known bytes to the document that holds them; nothing is stored twice."""
        self._run("recording a duplicate", lambda s: self._add_intake_event(s, IntakeEventRow(
            kind="duplicate", at=received_at.astimezone(UTC), source_name=source_name, sha256=sha256, document_id=document_id)))
        self._after_change()

    def record_rejection(self, source_name: str, sha256: str | None, error: str, reason: str,
                         quarantine_key: str | None, received_at: datetime) -> None:
        self._run("recording a rejection", lambda s: self._add_intake_event(s, IntakeEventRow(
            kind="rejected", at=received_at.astimezone(UTC), source_name=source_name, sha256=sha256, error=error,
            reason=reason, quarantine_key=quarantine_key)))
        self._after_change()

    def _add_intake_event(self, session: Session, row: IntakeEventRow) -> None:
        """Add a duplicate or rejection with its journal event (id included) in the same transaction."""
        session.add(row)
        session.flush()
        self._outbox(session, [journal.intake_line(row_to_json(row))])

    def intake_events(self, kind: str | None = None) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            query = select(IntakeEventRow).order_by(IntakeEventRow.id)
            if kind:
                query = query.where(IntakeEventRow.kind == kind)
            return [row_to_json(r) for r in session.scalars(query)]
        return self._run("reading intake events", work)

    # ------------------------------------------------------------------------------- filing

    def insert_document(self, doc: StoredDocument, text: str, review: ReviewItem | None = None) -> str:
        """Add a filed or queued document with its OCR text (and review item) in one transaction.

        Returns `doc.document_id`, or the id of the document that already holds the same bytes
        when another worker filed them first (then nothing is added).
        """
        def work(session: Session) -> None:
            session.add(document_to_row(doc))
            session.flush()
            self._add_text(session, doc.sha256, text)
            lines = [journal.document_line(doc, text)]
            if review is not None:
                self._add_review(session, review)
                lines.append(journal.review_line(review_to_json(review)))
            self._outbox(session, lines)
        try:
            self._run("filing a document", work)
        except StorageError as exc:
            if isinstance(exc.__cause__, DbIntegrityError):
                existing = self.find_duplicate(doc.sha256)
                if existing is not None and existing != doc.document_id:
                    return existing
            raise
        return doc.document_id

    def _add_text(self, session: Session, sha256: str, text: str) -> None:
        if session.scalar(select(DocumentTextRow.id).where(DocumentTextRow.sha256 == sha256)) is None:
            session.add(DocumentTextRow(sha256=sha256, text=text))
            session.flush()

    def _add_review(self, session: Session, item: ReviewItem) -> int:
        row = ReviewItemRow(
            document_id=item.document_id, status=str(item.status), created_at=item.created_at,
            reasons=list(item.reasons), match_reasons=list(item.match_reasons),
            candidates=candidates_to_json(item.candidates), identifiers=identifiers_to_json(item.identifiers),
            predicted_doc_type=item.predicted_doc_type, resolution=_stored(item.resolution), resolved_by=item.resolved_by,
            resolved_at=item.resolved_at, resolved_doc_type=item.resolved_doc_type,
            resolved_patient_id=item.resolved_patient_id, revision=item.revision, note=item.note)
        session.add(row)
        session.flush()
        for patient_id in sorted({c.patient_id for c in item.candidates}):
            session.add(ReviewCandidateRow(item_id=row.id, patient_id=patient_id))
        return row.id

    # ------------------------------------------------------------------------------ reading

    def get(self, document_id: str) -> StoredDocument:
        row = self._run("reading a document", lambda s: s.get(DocumentRow, document_id))
        if row is None:
            raise NotFoundError(f"no document {document_id} in the manifest",
                                hint="find its id with `pipeline search`")
        return document_from_row(row)

    def text_of(self, sha256: str) -> str | None:
        return self._run("reading OCR text", lambda s: s.scalar(
            select(DocumentTextRow.text).where(DocumentTextRow.sha256 == sha256)))

    def history(self, document_id: str) -> list[StoredDocument]:
        """This version and every version it replaced or that replaced it, oldest first."""
        seen: dict[str, StoredDocument] = {}
        todo = [document_id]
        while todo:
            doc = self.get(todo.pop())
            if doc.document_id in seen:
                continue
            seen[doc.document_id] = doc
            if doc.relates_to:
                todo.append(doc.relates_to)
            todo.extend(self._run("reading history", lambda s, d=doc.document_id: list(s.scalars(
                select(DocumentRow.document_id).where(DocumentRow.relates_to == d)))))
        return sorted(seen.values(), key=lambda d: d.filed_at)

    def search(self, *, patient_mrn: str | None = None, patient_id: int | None = None, doc_type: str | None = None,
               date_from: date | None = None, date_to: date | None = None, text: str | None = None,
               status: DocumentStatus | None = DocumentStatus.CURRENT, limit: int = DEFAULT_LIMIT,
               ) -> list[StoredDocument]:
        """Documents matching every filter given.

        Without `text`: newest date of service first. With `text` (every word must appear, stemmed):
        most recently indexed first, so a common word streams from the full-text index and stops at
        `limit` instead of sorting every match.
        """
        query = select(DocumentRow)
        if patient_mrn is not None:
            query = query.where(DocumentRow.patient_mrn == patient_mrn)
        if patient_id is not None:
            query = query.where(DocumentRow.patient_id == patient_id)
        if doc_type is not None:
            query = query.where(DocumentRow.doc_type == doc_type)
        if date_from is not None:
            query = query.where(DocumentRow.date_of_service >= date_from)
        if date_to is not None:
            query = query.where(DocumentRow.date_of_service <= date_to)
        if status is not None:
            query = query.where(DocumentRow.status == str(status))
        if text is None:
            query = query.order_by(DocumentRow.date_of_service.desc().nulls_last(), DocumentRow.filed_at.desc(),
                                   DocumentRow.document_id)
        else:
            terms = _WORD.findall(text.lower())
            if not terms:
                return []
            query = query.join(DocumentTextRow, DocumentTextRow.sha256 == DocumentRow.sha256)
            if self.dialect == "postgresql":
                query = query.where(sql_text("document_text.tsv @@ plainto_tsquery('english', :fts_query)")
                                    .bindparams(fts_query=" ".join(terms)))
                query = query.order_by(DocumentTextRow.id.desc(), DocumentRow.filed_at.desc())
            else:
                match = sql_text("document_text_fts MATCH :fts_query").bindparams(
                    fts_query=" ".join(f'"{term}"' for term in terms))
                if patient_mrn is not None or patient_id is not None:
                    # a patient's few documents first, each checked against the index by rowid
                    query = query.where(select(_FTS.c.rowid).where(match, _FTS.c.rowid == DocumentTextRow.id)
                                        .exists()).order_by(DocumentTextRow.id.desc())
                else:
                    # stream matches newest first from FTS5 and stop at `limit`
                    query = query.join(_FTS, _FTS.c.rowid == DocumentTextRow.id).where(match) \
                        .order_by(_FTS.c.rowid.desc())
        query = query.limit(limit)
        docs = self._run("searching", lambda s: [document_from_row(r) for r in s.scalars(query)])
        if text is not None:
            # versions sharing one text (a refile chain) come together: newest filing first
            first: dict[str, int] = {}
            for position, doc in enumerate(docs):
                first.setdefault(doc.sha256, position)
            docs.sort(key=lambda d: (first[d.sha256], -d.filed_at.timestamp()))
        return docs

    def iter_documents(self, batch: int = 500) -> Iterator[StoredDocument]:
        """Every row, filing order, in batches (for audit and export)."""
        last: tuple[datetime, str] | None = None
        while True:
            query = select(DocumentRow).order_by(DocumentRow.filed_at, DocumentRow.document_id).limit(batch)
            if last is not None:
                query = query.where(or_(DocumentRow.filed_at > last[0],
                                        and_(DocumentRow.filed_at == last[0], DocumentRow.document_id > last[1])))
            rows = self._run("listing documents", lambda s, q=query: list(s.scalars(q)))
            if not rows:
                return
            for row in rows:
                yield document_from_row(row)
            last = (rows[-1].filed_at, rows[-1].document_id)

    def filed_days(self, doc_type: str) -> list[tuple[int, date]]:
        """(patient id, date of service, else filing day) of every current filed document of a type."""
        def work(session: Session) -> list[tuple[int, date]]:
            rows = session.execute(select(DocumentRow.patient_id, DocumentRow.date_of_service, DocumentRow.filed_at)
                                   .where(DocumentRow.doc_type == doc_type,
                                          DocumentRow.status == str(DocumentStatus.CURRENT),
                                          DocumentRow.patient_id.is_not(None))).all()
            return [(pid, service or filed_at.date()) for pid, service, filed_at in rows]
        return self._run("reading filed documents of a type", work)

    def count(self) -> int:
        return self._run("counting", lambda s: s.scalar(select(func.count()).select_from(DocumentRow)))

    def documents_without_text(self) -> list[str]:
        def work(session: Session) -> list[str]:
            query = (select(DocumentRow.document_id)
                     .outerjoin(DocumentTextRow, DocumentTextRow.sha256 == DocumentRow.sha256)
                     .where(or_(DocumentTextRow.id.is_(None), func.length(func.trim(DocumentTextRow.text)) == 0))
                     .order_by(DocumentRow.document_id))
            return list(session.scalars(query))
        return self._run("finding documents without text", work)

    # ------------------------------------------------------------------------- corrections

    def refile(self, document_id: str, patient_id: int, patient_mrn: str, reason: str, actor: str) -> StoredDocument:
        """Move a document to another patient: the old row becomes entered-in-error, a new row
        (new id) relates to it. The stored objects stay where they are."""
        if not reason.strip():
            raise StorageError("a refile needs a reason (--reason TEXT); it goes into the access log")
        now = self.clock()

        def work(session: Session) -> StoredDocument:
            old = session.get(DocumentRow, document_id, with_for_update=True)
            if old is None:
                raise NotFoundError(f"no document {document_id} in the manifest",
                                    hint="find its id with `pipeline search`")
            if old.status != DocumentStatus.CURRENT:
                newer = session.scalar(select(DocumentRow.document_id).where(DocumentRow.relates_to == document_id))
                raise StorageError(f"document {document_id} is {old.status}; refile its current version"
                                   + (f" {newer}" if newer else ""))
            old.status = str(DocumentStatus.ENTERED_IN_ERROR)
            new = replace(document_from_row(old), document_id=new_document_id(), status=DocumentStatus.CURRENT,
                          outcome=Outcome.FILED, patient_id=patient_id, patient_mrn=patient_mrn, filed_at=now,
                          filed_by=actor, relates_to=document_id, relates_code="replaces",
                          reasons=(f"refiled: {reason}",))
            old.revision += 1
            session.add(document_to_row(new))
            lines = [journal.document_line(document_from_row(old)), journal.document_line(new)]
            for item in session.scalars(select(ReviewItemRow).where(
                    ReviewItemRow.document_id == document_id, ReviewItemRow.status == str(ReviewStatus.OPEN))):
                item.status, item.resolution = str(ReviewStatus.RESOLVED), str(ReviewResolution.REFILED)
                item.resolved_by, item.resolved_at = actor, now
                item.resolved_patient_id = patient_id
                item.revision += 1
                lines.append(journal.review_line(review_to_json(review_from_row(item))))
            session.add(AccessLogRow(at=now, actor=actor, action="refiled", document_id=document_id,
                                     patient_mrn=old.patient_mrn, reason=reason))
            session.add(AccessLogRow(at=now, actor=actor, action="refiled", document_id=new.document_id,
                                     patient_mrn=patient_mrn, reason=reason))
            self._outbox(session, lines)
            return new
        new = self._run("refiling", work)
        self._after_change()
        log.info("refiled %s as %s", document_id, new.document_id)
        return new

    def repoint_patient(self, old_patient_id: int, new_patient_id: int, new_mrn: str, reason: str, actor: str) -> int:
        """ADT merge: every document of the merged-away patient follows the survivor. Returns the count."""
        now = self.clock()

        def work(session: Session) -> list[str]:
            rows = list(session.scalars(select(DocumentRow).where(DocumentRow.patient_id == old_patient_id)))
            for row in rows:
                session.add(AccessLogRow(at=now, actor=actor, action="merged", document_id=row.document_id,
                                         patient_mrn=new_mrn,
                                         reason=f"{reason} (patient {old_patient_id} -> {new_patient_id}, "
                                                f"was MRN {row.patient_mrn})"))
                row.patient_id, row.patient_mrn = new_patient_id, new_mrn
                row.revision += 1
            if rows:
                self._outbox(session, [journal.document_line(document_from_row(row)) for row in rows])
            return [row.document_id for row in rows]
        moved = self._run("repointing documents", work)
        self._after_change()
        if moved:
            log.info("merge: %d documents moved from patient %d to %d", len(moved), old_patient_id, new_patient_id)
        return len(moved)

    # -------------------------------------------------------------------------- review queue

    def review_item(self, item_id: int) -> ReviewItem:
        row = self._run("reading a review item", lambda s: s.get(ReviewItemRow, item_id))
        if row is None:
            raise NotFoundError(f"no review item {item_id}")
        return review_from_row(row)

    def open_review_items(self, limit: int = 200) -> list[ReviewItem]:
        return self._run("listing the review queue", lambda s: [review_from_row(r) for r in s.scalars(
            select(ReviewItemRow).where(ReviewItemRow.status == str(ReviewStatus.OPEN)).order_by(ReviewItemRow.id).limit(limit))])

    def review_items(self) -> list[ReviewItem]:
        """Every review item, open and resolved, oldest first."""
        return self._run("listing review items", lambda s: [review_from_row(r) for r in s.scalars(
            select(ReviewItemRow).order_by(ReviewItemRow.id))])

    def review_items_for_patients(self, patient_ids: set[int]) -> list[tuple[int, DocumentIdentifiers]]:
        """Open review items with any of these patients among their candidates (for ADT re-scoring)."""
        if not patient_ids:
            return []

        def work(session: Session) -> list[tuple[int, DocumentIdentifiers]]:
            query = (select(ReviewItemRow).where(ReviewItemRow.status == str(ReviewStatus.OPEN), ReviewItemRow.id.in_(
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
            item = session.get(ReviewItemRow, item_id, with_for_update=True)
            if item is None:
                raise NotFoundError(f"no review item {item_id}")
            if item.status != ReviewStatus.OPEN:
                raise StorageError(f"review item {item_id} is already {item.status} ({item.resolution})")
            doc = session.get(DocumentRow, item.document_id)
            item.status, item.resolution = str(ReviewStatus.RESOLVED), str(resolution)
            item.resolved_by, item.resolved_at = actor, now
            item.note = note
            if resolution is ReviewResolution.FILED:
                item.resolved_patient_id = patient_id
                item.resolved_doc_type = doc_type or doc.doc_type
                doc.patient_id, doc.patient_mrn, doc.outcome = patient_id, patient_mrn, str(Outcome.FILED)
                if doc_type:
                    doc.doc_type, doc.loinc, doc.type_display = doc_type, loinc or doc.loinc, type_display
                doc.reasons = [*doc.reasons, f"reviewed by {actor}"]
                doc.revision += 1
            item.revision += 1
            session.add(AccessLogRow(at=now, actor=actor, action="resolved", document_id=item.document_id,
                                     patient_mrn=patient_mrn, reason=f"review: {resolution}" + (f"; {note}" if note else "")))
            self._outbox(session, [journal.document_line(document_from_row(doc)),
                                   journal.review_line(review_to_json(review_from_row(item)))])
            return item.document_id
        document_id = self._run("resolving a review item", work)
        self._after_change()
        return self.get(document_id)

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
        return self._run("counting items closed without filing", lambda s: s.scalar(
            self._closed_unfiled(select(func.count()).select_from(ReviewItemRow))))

    @staticmethod
    def _closed_unfiled(query: Any) -> Any:
        return query.join(DocumentRow, DocumentRow.document_id == ReviewItemRow.document_id).where(
            ReviewItemRow.status == str(ReviewStatus.RESOLVED),
            ReviewItemRow.resolution == str(ReviewResolution.CLOSED_UNFILED),
            DocumentRow.status == str(DocumentStatus.CURRENT), DocumentRow.patient_id.is_(None))

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

    # ---------------------------------------------------------------------------- access log

    def record_access(self, actor: str, action: str, *, document_id: str | None = None,
                      patient_mrn: str | None = None, reason: str | None = None, recipient: str | None = None) -> None:
        if action not in ACCESS_ACTIONS:
            raise ValueError(f"unknown access-log action {action!r}")
        def work(session: Session) -> None:
            session.add(AccessLogRow(at=self.clock().astimezone(UTC), actor=actor, action=action, document_id=document_id,
                                     patient_mrn=patient_mrn, reason=reason, recipient=recipient))
            self._outbox(session, [])
        self._run("writing the access log", work)
        self._after_change()

    def access_log(self, document_id: str | None = None) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            query = select(AccessLogRow).order_by(AccessLogRow.id)
            if document_id:
                query = query.where(AccessLogRow.document_id == document_id)
            return [row_to_json(r) for r in session.scalars(query)]
        return self._run("reading the access log", work)

    # ------------------------------------------------------------------- restore (import/reindex)

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
            row.status, row.resolution, row.resolved_by = str(item.status), _stored(item.resolution), item.resolved_by
            row.resolved_at, row.resolved_doc_type = item.resolved_at, item.resolved_doc_type
            row.resolved_patient_id, row.revision = item.resolved_patient_id, item.revision
            row.note = item.note
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
                    values["resolution"] = _stored(ReviewResolution.stored(values.get("resolution")))
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

    # -------------------------------------------------------------------------------- journal

    def _outbox(self, session: Session, lines: list[dict[str, Any]]) -> None:
        """Queue journal lines in the same transaction as the change they describe, with every
        access-log entry this transaction adds (the journal keeps the audit trail too)."""
        entries = [obj for obj in session.new if isinstance(obj, AccessLogRow)]
        session.flush()
        lines = lines + [journal.access_line(row_to_json(row)) for row in sorted(entries, key=lambda r: r.id)]
        if lines:
            session.add(JournalOutboxRow(created_at=self.clock(), lines=lines))

    def _after_change(self) -> None:
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


def _stored(resolution: ReviewResolution | None) -> str | None:
    return str(resolution) if resolution is not None else None


_TABLES = {"documents": DocumentRow, "document_text": DocumentTextRow, "intake_events": IntakeEventRow,
           "review_items": ReviewItemRow, "review_candidates": ReviewCandidateRow, "access_log": AccessLogRow}

#: export/import order: parents before children
TABLE_ORDER = tuple(_TABLES)
