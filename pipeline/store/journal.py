"""The manifest as NDJSON in the object store, so the store alone can rebuild the index.

Every change to a document row (filed, queued, refiled, merged, resolved) is written as a new
object under `manifest/` (the store never overwrites), one JSON object per line:

    {"kind": "document", "document": {...StoredDocument...}, "text": "..."}   text only when first filed
    {"kind": "review_item", "review_item": {...}}                              keyed by document id

Keys sort by time, then by a per-process sequence number; `replay` reads them in that order and the
last state of each document wins. Every event is stamped *after* its database commit, so a snapshot
(`...-snapshot.ndjson`, the whole manifest, stamped before it is read) holds every change stamped
earlier, and a replay can start at the newest snapshot instead of the first event.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pipeline.store.keys import MANIFEST_PREFIX, manifest_key
from pipeline.store.objects import ObjectStore
from pipeline.store.rows import StoredDocument

log = logging.getLogger(__name__)

_sequence = itertools.count()


def append(store: ObjectStore, documents: Iterable[StoredDocument], *, texts: dict[str, str] | None = None,
           review_items: Iterable[dict[str, Any]] = (), at: datetime | None = None) -> str | None:
    """Write one journal object holding these document states; returns its key (None if empty)."""
    texts = texts or {}
    lines = []
    first_id = None
    for doc in documents:
        first_id = first_id or doc.document_id
        line: dict[str, Any] = {"kind": "document", "document": doc.to_json()}
        if doc.sha256 in texts:
            line["text"] = texts[doc.sha256]
        lines.append(json.dumps(line, sort_keys=True))
    for item in review_items:
        first_id = first_id or item["document_id"]
        lines.append(json.dumps({"kind": "review_item", "review_item": item}, sort_keys=True, default=str))
    if not lines:
        return None
    key = manifest_key(at or datetime.now(UTC), next(_sequence), first_id or "batch")
    store.put(key, ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
    return key


SNAPSHOT_SUFFIX = "-snapshot.ndjson"


def snapshot_key(at: datetime) -> str:
    return manifest_key(at, next(_sequence), "snapshot")


def write_lines(store: ObjectStore, key: str, lines: Iterable[dict[str, Any]]) -> int:
    """Write one journal object from already-built lines (used for snapshots); returns the count."""
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
