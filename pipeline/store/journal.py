"""The manifest as NDJSON in the object store, so the store alone can rebuild the index.

Every change to a document row or review item (filed, queued, refiled, merged, re-scored, resolved)
is first written to the `journal_outbox` table *in the same transaction as the change*, then
copied to the store as a new object under `manifest/` by whoever holds the store (the filing step,
any store command), and only then deleted from the outbox. So no committed change can miss the
journal, whichever process made it (an ADT feed without a store, a crash after the commit).

One JSON object per line:

    {"kind": "document", "document": {...StoredDocument...}, "text": "..."}   text only when first filed
    {"kind": "review_item", "review_item": {...}}                              keyed by document id
    {"kind": "access", "access": {...access_log row...}}                       keyed by its id
    {"kind": "intake_event", "intake_event": {...intake_events row...}}        a duplicate or a rejection
    {"kind": "batch", "batch": {...batches row...}}                            keyed by its SHA-256
    {"kind": "backfill_run", "backfill_run": {...backfill_runs row...}}        keyed by its id
    {"kind": "backfill_item", "backfill_item": {...backfill_items row...}}     keyed by run id and path

A batch row is written when its original is kept and again when its last part is filed; a replay
keeps the completed state. A backfill run and its items (one process drives a run at a time) keep
the state journaled last. Journals written before batches and runs were journaled have none;
`pipeline reindex --snapshot` writes the database's into the journal.

An intake event (the same bytes received again, linked to the document holding them; or an input
rejected, with its reason and quarantine key) never changes, so it has no revision: a replay keeps
one of each, the same event written twice being one. It carries the manifest row as it is (file
name, SHA-256, reason, quarantine key), never OCR text. Journals written before intake events were
journaled have none; `pipeline reindex --snapshot` writes the database's into the journal.

The access log rides along: on a store with Object Lock its copy in the journal cannot be altered
even by someone who can alter the database.

Every row carries a `revision` (+1 per change), and a replay keeps the highest revision of each
document and review item, so objects written out of order (two processes flushing at once) or twice
do no harm. Keys sort by time; a snapshot (`...-snapshot.ndjson`, the whole manifest, stamped before
it is read) lets a replay skip everything older than the newest snapshot: an event stamped before
the snapshot was flushed after its commit, so the snapshot already holds that change.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.store.keys import MANIFEST_PREFIX, manifest_key
from pipeline.store.objects import ObjectStore
from pipeline.store.rows import StoredDocument

log = logging.getLogger(__name__)

SNAPSHOT_SUFFIX = "-snapshot.ndjson"
_sequence = itertools.count()


def document_line(doc: StoredDocument, text: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": "document", "document": doc.to_json()}
    if text is not None:
        line["text"] = text
    return line


def review_line(item: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "review_item", "review_item": item}


def access_line(entry: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "access", "access": entry}


def intake_line(event: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "intake_event", "intake_event": event}


def batch_line(batch: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "batch", "batch": batch}


def run_line(run: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "backfill_run", "backfill_run": run}


def run_item_line(item: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "backfill_item", "backfill_item": item}


def intake_identity(event: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two intake events the same event whatever id each database gave it."""
    at = datetime.fromisoformat(event["at"]) if isinstance(event["at"], str) else event["at"]
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return (event["kind"], at, event.get("source_name"), event.get("sha256"), event.get("document_id"),
            event.get("error"), event.get("reason"), event.get("quarantine_key"))


def write_event(store: ObjectStore, lines: Iterable[dict[str, Any]], at: datetime, label: str) -> str:
    """Write lines as one new journal object; returns its key."""
    key = manifest_key(at, next(_sequence), label)
    write_lines(store, key, lines)
    return key


def snapshot_key(at: datetime) -> str:
    return manifest_key(at, next(_sequence), "snapshot")


def write_lines(store: ObjectStore, key: str, lines: Iterable[dict[str, Any]]) -> int:
    encoded = [json.dumps(line, sort_keys=True, default=str) for line in lines]
    store.put(key, ("\n".join(encoded) + "\n").encode(), "application/x-ndjson")
    return len(encoded)


def replay(store: ObjectStore) -> Iterator[dict[str, Any]]:
    """Every journal line that matters, oldest first: from the newest snapshot on."""
    keys = sorted(store.iter_keys(MANIFEST_PREFIX))
    snapshots = [i for i, key in enumerate(keys) if key.endswith(SNAPSHOT_SUFFIX)]
    if snapshots:
        keys = keys[snapshots[-1]:]
    for key in keys:
        for number, line in enumerate(store.get(key).decode().splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError:
                log.warning("%s line %d is not JSON; skipped", key, number)


@dataclass
class Collected:
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # by document id
    texts: dict[str, str] = field(default_factory=dict)  # OCR text by SHA-256
    reviews: dict[str, dict[str, Any]] = field(default_factory=dict)  # by document id
    access: dict[int, dict[str, Any]] = field(default_factory=dict)  # by access-log id
    #: duplicates and rejections by `intake_identity`, not by id: a database rebuilt empty gives
    #: its first new event an id the journal already holds for another
    intake: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)  # by SHA-256; the completed state wins
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # backfill runs by id; the last state
    run_items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # by run id and path


def collect(store: ObjectStore) -> Collected:
    """The newest state of everything in the journal: the highest revision of each row wins."""
    out = Collected()
    documents, texts, reviews = out.documents, out.texts, out.reviews
    for line in replay(store):
        if line.get("kind") == "document":
            doc = line["document"]
            _keep_newest(documents, doc["document_id"], doc)
            if "text" in line:
                texts.setdefault(doc["sha256"], line["text"])
        elif line.get("kind") == "review_item":
            item = line["review_item"]
            _keep_newest(reviews, item["document_id"], item)
        elif line.get("kind") == "access":
            out.access[int(line["access"]["id"])] = line["access"]
        elif line.get("kind") == "intake_event":
            event = line["intake_event"]
            out.intake.setdefault(intake_identity(event), event)
        elif line.get("kind") == "batch":
            batch = line["batch"]
            held = out.batches.get(batch["sha256"])
            if held is None or not held.get("completed_at") or batch.get("completed_at"):
                out.batches[batch["sha256"]] = batch
        elif line.get("kind") == "backfill_run":
            out.runs[line["backfill_run"]["id"]] = line["backfill_run"]
        elif line.get("kind") == "backfill_item":
            item = line["backfill_item"]
            out.run_items[(item["run_id"], item["path"])] = item
    return out


def _keep_newest(states: dict[str, dict[str, Any]], key: str, state: dict[str, Any]) -> None:
    held = states.get(key)
    if held is None or int(state.get("revision") or 1) >= int(held.get("revision") or 1):
        states[key] = state
