"""The manifest: what was filed where, for whom, as what; the review queue; the access log.

`Manifest(engine)` is one object over the parts, each in its own module and small enough to read
at one sitting:

    transactions.py   a session and one transaction per call; database failures -> StorageError
    outbox.py         the journal outbox: each change's journal lines queued in its transaction
    intake_log.py     duplicates (same bytes again) and rejections (with their quarantine key)
    documents.py      filing a document row, reading, history, refile, ADT merge re-pointing
    search.py         search by patient, type, date of service and full text (SQLite and PostgreSQL)
    review_queue.py   review items and their states: add, list, re-score, resolve, reopen
    access_log.py     the append-only access log
    restore.py        every table for export/import, journaled rows for reindex
    batch_log.py      batches kept whole and the parts cut from them; backfill runs and their items
    revisions.py      new versions by page surgery: the old documents and review items superseded
    activity.py       the supervisor's figures, aggregated in SQL: outcomes, queue age, throughput

It is safe to share between threads (a session per call). Every change to a document row, a review
item or the access log, and every duplicate or rejection recorded, also queues a journal event in
the same transaction (`journal.py`); a Manifest built with `store=` copies them to the object
store's NDJSON journal right away (otherwise the next process holding the store does), so
`pipeline reindex` can rebuild the index from the store alone. All times are stored in UTC. The
manifest knows nothing of the patient index.
"""

from __future__ import annotations

from pipeline.store.access_log import AccessLog
from pipeline.store.activity import Activity
from pipeline.store.batch_log import BatchLog, RunLog
from pipeline.store.documents import Documents, new_document_id
from pipeline.store.intake_log import IntakeLog
from pipeline.store.restore import Restore
from pipeline.store.revisions import Revisions
from pipeline.store.review_queue import ReviewQueue
from pipeline.store.search import DEFAULT_LIMIT, Search

__all__ = ["DEFAULT_LIMIT", "Manifest", "new_document_id"]


class Manifest(Documents, Search, IntakeLog, ReviewQueue, AccessLog, Restore, BatchLog, RunLog, Revisions, Activity):
    """The manifest database: every part above, over one engine (and optionally the object store
    the journal is copied to, and a clock)."""
