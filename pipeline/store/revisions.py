"""New versions made by page surgery (split, merge, rotate, drop a page), written in one transaction:
the new documents (each filed or queued with its review item), the old documents marked superseded
(kept as they were, objects untouched), their review items closed as superseded, every step in the
access log and the journal, so `pipeline reindex` rebuilds the same state."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pipeline.errors import NotFoundError, StorageError
from pipeline.records import DocumentStatus, ReviewResolution, ReviewStatus
from pipeline.store import journal
from pipeline.store.mapping import document_from_row, document_to_row, review_from_row, review_to_json
from pipeline.store.outbox import JournalOutbox
from pipeline.store.rows import ReviewItem, StoredDocument
from pipeline.store.tables import AccessLogRow, DocumentRow, ReviewItemRow

log = logging.getLogger(__name__)

#: the access-log action of page surgery
REVISED = "revised"


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A document made by page surgery, its text and, when it is queued, its review item."""

    document: StoredDocument
    text: str
    review: ReviewItem | None


class Revisions(JournalOutbox):
    """Replace queued documents by new versions."""

    def supersede(self, item_ids: Sequence[int], versions: Sequence[NewVersion], *, actor: str,
                  note: str) -> list[int | None]:
        """Close the open review items `item_ids` as superseded, mark their documents superseded and add
        `versions`, all or nothing; returns each version's new review item id (None when filed).

        Refused (StorageError, nothing changed) when an item is no longer open or its document is not
        current: someone else decided on it meanwhile."""
        if not note.strip():
            raise StorageError("page surgery needs a reason (--reason TEXT); it goes into the access log")
        now = self.clock()

        def work(session: Session) -> list[int | None]:
            lines = []
            for item_id in item_ids:
                item = session.get(ReviewItemRow, item_id, with_for_update=True)
                if item is None:
                    raise NotFoundError(f"no review item {item_id}")
                if item.status != ReviewStatus.OPEN:
                    raise StorageError(f"review item {item_id} is already {item.status} ({item.resolution}); "
                                       "nothing was changed")
                old = session.get(DocumentRow, item.document_id, with_for_update=True)
                if old.status != DocumentStatus.CURRENT:
                    raise StorageError(f"document {old.document_id} is {old.status}; nothing was changed")
                item.status, item.resolution = str(ReviewStatus.RESOLVED), str(ReviewResolution.SUPERSEDED)
                item.resolved_by, item.resolved_at, item.note = actor, now, note
                item.revision += 1
                old.status = str(DocumentStatus.SUPERSEDED)
                old.revision += 1
                session.add(AccessLogRow(at=now, actor=actor, action=REVISED, document_id=old.document_id,
                                         reason=f"review item {item_id}: superseded; {note}"))
                lines += [journal.document_line(document_from_row(old)),
                          journal.review_line(review_to_json(review_from_row(item)))]
            new_items: list[int | None] = []
            for version in versions:
                doc = version.document
                session.add(document_to_row(doc))
                session.flush()
                self._add_text(session, doc.sha256, version.text)
                lines.append(journal.document_line(doc, version.text))
                new_items.append(self._add_review(session, version.review) if version.review else None)
                if version.review is not None:
                    lines.append(journal.review_line(review_to_json(version.review)))
                session.add(AccessLogRow(at=now, actor=actor, action=REVISED, document_id=doc.document_id,
                                         patient_mrn=doc.patient_mrn, reason=f"new version ({doc.outcome}); {note}"))
            self._outbox(session, lines)
            return new_items
        new_items = self._run("page surgery", work)
        self._after_change()
        log.info("page surgery by %s: items %s superseded by documents %s", actor, list(item_ids),
                 [v.document.document_id for v in versions])
        return new_items
