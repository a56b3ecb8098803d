"""Document rows: filing one (with its OCR text and review item), reading, history, and the
corrections that never erase (refile: entered-in-error + a new row; an ADT merge re-points rows)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError as DbIntegrityError
from sqlalchemy.orm import Session

from pipeline.errors import NotFoundError, StorageError
from pipeline.records import DocumentStatus, Outcome, ReviewResolution, ReviewStatus
from pipeline.store import journal
from pipeline.store.mapping import document_from_row, document_to_row, review_from_row, review_to_json
from pipeline.store.outbox import JournalOutbox
from pipeline.store.rows import ReviewItem, StoredDocument, type_only_item
from pipeline.store.tables import AccessLogRow, DocumentRow, DocumentTextRow, ReviewItemRow

log = logging.getLogger(__name__)


def new_document_id() -> str:
    return str(uuid.uuid4())


class Documents(JournalOutbox):
    """Add, read and correct document rows."""

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

    def refile(self, document_id: str, patient_id: int, patient_mrn: str, reason: str, actor: str) -> StoredDocument:
        """Move a document to another patient: the old row becomes entered-in-error, a new row
        (new id) relates to it. The stored objects stay where they are. The old row's open review
        items are resolved as refiled; a type still unconfirmed gets a type-only item on the new row."""
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
            if not new.type_confirmed:
                follow = type_only_item(new, now)
                self._add_review(session, follow)
                lines.append(journal.review_line(review_to_json(follow)))
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
