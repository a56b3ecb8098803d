"""Search the filed documents by patient, type, date of service and full text: SQLite FTS5 or
PostgreSQL tsvector, each used so a common word streams from the index and stops at the limit."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import Integer, column, select
from sqlalchemy import table as sql_table
from sqlalchemy import text as sql_text

from pipeline.records import DocumentStatus
from pipeline.store.mapping import document_from_row
from pipeline.store.rows import StoredDocument
from pipeline.store.tables import DocumentRow, DocumentTextRow
from pipeline.store.transactions import Transactions


DEFAULT_LIMIT = 50
_WORD = re.compile(r"\w+", re.UNICODE)
#: the SQLite FTS5 index over document_text (revision 0001); its rowid is document_text.id
_FTS = sql_table("document_text_fts", column("rowid", Integer))


#: a date-of-service range at most this long selects few enough documents to check one by one
NARROW_RANGE_DAYS = 366


def _narrow(date_from: date | None, date_to: date | None) -> bool:
    return date_from is not None and date_to is not None and (date_to - date_from).days <= NARROW_RANGE_DAYS


class Search(Transactions):
    """Documents matching filters, with full-text search in both dialects."""

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
                if patient_mrn is not None or patient_id is not None or _narrow(date_from, date_to):
                    # a patient's few documents (or a few months' worth) first, each checked against the
                    # index by rowid: streaming a common word's matches would pass over most of them
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
