"""Back up and restore a home, export FHIR, rebuild the manifest from the store's journal.

This is where backup and restore live (they were `pipeline/store/backup.py`): they combine the
manifest and the object store with the patient index (the encounters a FHIR export links), so they
are use cases. `export_home` writes a folder a restore needs nothing else for:

    DIR/export.json            format, database schema revision, when, counts
    DIR/tables/<table>.ndjson  every table (manifest, patient index, merges, encounters, review items,
                               users, access log, ...; sign-in sessions and the queue's change count
                               left out), ids included
    DIR/objects/<key>          every stored object, journal included (hash-verified on the way out)
    DIR/SHA256SUMS             `sha256sum -c` compatible, for every file above

`import_home` checks every file and row first (`store/backup_reader.py`), then fills an *empty*
home, all or nothing, so the restore is bit for bit, and ends with the audit clean (docs/backup.md).
`reindex` rebuilds the manifest rows from the journal; `write_snapshot` journals the whole manifest
so later reindexes start there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.clock import Clock, utc_now
from pipeline.errors import IntegrityError, StorageError
from pipeline.patients import lookup
from pipeline.patients import tables as _patient_tables  # noqa: F401  (declares the patient index's tables)
from pipeline.services.audit import audit
from pipeline.records import Encounter
from pipeline.store import journal
from pipeline.store.fhir import document_reference, encounter_for
from pipeline.store.backup_folder import BackupWriter, object_file, read_file, table_file
from pipeline.store.backup_reader import FORMAT, VerifiedBackup, read_backup
from pipeline.store.files import atomic_file
from pipeline.store.keys import EXTENSIONS
from pipeline.store.manifest import Manifest
from pipeline.store.mapping import review_to_json
from pipeline.store.objects import ObjectStore
from pipeline.store.restore import SKIPPED_TABLES
from pipeline.store.rows import StoredDocument

log = logging.getLogger(__name__)

_CONTENT_TYPES = {ext: media for media, ext in EXTENSIONS.items()} | {".ndjson": "application/x-ndjson",
                                                                      ".txt": "text/plain; charset=utf-8"}


# ----------------------------------------------------------------------------------- FHIR


def export_fhir(manifest: Manifest, store: ObjectStore, out: Path, *, actor: str) -> int:
    """Every manifest row as one DocumentReference per line; returns the count."""
    count = 0
    encounters = load_encounters(manifest)
    with atomic_file(out) as handle:
        for doc in manifest.iter_documents():
            resource = document_reference(doc, store.url, encounter=encounter_for(doc, encounters))
            handle.write(json.dumps(resource, sort_keys=True).encode() + b"\n")
            count += 1
    manifest.record_access(actor, "exported", reason=f"FHIR DocumentReference export of {count} entries to {out.name}")
    return count


def load_encounters(manifest: Manifest) -> dict[int, list[Encounter]]:
    """Encounters by patient id, from the patient index (none when there is no index yet)."""
    out: dict[int, list[Encounter]] = {}
    for encounter in lookup.encounters(manifest.engine):
        out.setdefault(encounter.patient_id, []).append(encounter)
    return out


# --------------------------------------------------------------------------- backup/restore


@dataclass(frozen=True, slots=True)
class Counts:
    objects: int
    rows: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"objects": self.objects, "rows": self.rows}


def export_home(manifest: Manifest, store: ObjectStore, out_dir: Path, *, actor: str,
                clock: Clock = utc_now) -> Counts:
    """Every table (one consistent read), then every object, then `export.json` and `SHA256SUMS`."""
    writer = BackupWriter(out_dir)  # refuses a folder that is not empty
    undeclared = manifest.undeclared_tables()
    if undeclared:
        raise StorageError(f"the database holds tables this pipeline does not know ({', '.join(undeclared)}), "
                           "so a backup would leave them out", hint="export with the pipeline release that added them")
    manifest.record_access(actor, "exported", reason=f"backup export to {out_dir.name}")
    manifest.flush_journal(store)  # the export's objects include every journal event
    rows = manifest.dump_tables(lambda name, lines: writer.write_lines(table_file(name), lines))
    objects = 0
    for key in store.iter_keys():
        writer.write_bytes(object_file(key), store.get(key))  # verified against its SHA-256 on the way out
        objects += 1
    counts = Counts(objects, rows)
    writer.finish({"format": FORMAT, "schema_revision": manifest.schema_revision(), "created_at": clock().isoformat(),
                   "pipeline": __version__, "database": manifest.dialect, "skipped_tables": sorted(SKIPPED_TABLES),
                   **counts.to_json()})
    log.info("exported %d objects and %d rows to %s", objects, sum(rows.values()), out_dir)
    return counts


def import_home(manifest: Manifest, store: ObjectStore, in_dir: Path, *, actor: str) -> Counts:
    """Restore a backup into an empty home, all or nothing, and audit the result.

    Every file is verified (and every row checked) before anything is written; the rows go in
    one transaction that commits only once every object is in the store. An import that failed
    half way (objects put, rows rolled back) can be run again: objects already in the store with
    the backup's bytes do not make the home "not empty".
    """
    backup = read_backup(in_dir, manifest.schema_revision())
    _refuse_unless_empty(manifest, store, backup)

    def put_objects() -> None:
        for key, sha256 in backup.objects.items():
            stored = store.put(key, read_file(in_dir, object_file(key), sha256), _content_type(key))
            if stored.sha256 != sha256:
                raise IntegrityError(f"{object_file(key)}: stored with SHA-256 {stored.sha256[:12]}..., the backup "
                                     f"lists {sha256[:12]}...", hint="run `pipeline audit`, then the import again")

    rows = manifest.load_tables(((table, backup.rows(table)) for table in backup.tables), then=put_objects)
    manifest.record_access(actor, "imported", reason=f"restored from backup {in_dir.name} "
                                                    f"written {backup.info.get('created_at')}")
    report = audit(manifest, store)
    if report.damaged:
        raise IntegrityError(f"the restored home fails its audit ({report.counts()})",
                             hint="run `pipeline audit` on it; restore into a new empty home from another backup")
    log.info("imported %d objects and %d rows from %s; audit clean", len(backup.objects), sum(rows.values()), in_dir)
    return Counts(len(backup.objects), rows)


def _refuse_unless_empty(manifest: Manifest, store: ObjectStore, backup: VerifiedBackup) -> None:
    hint = "use a new --home folder (and a new database / bucket)"
    busy = manifest.nonempty_tables()
    if busy:
        raise StorageError(f"the home is not empty (table {busy[0]} has rows): import restores into an empty home only",
                           hint=hint)
    for key in store.iter_keys():
        held = store.head(key)
        if held is None or backup.objects.get(key) != held.sha256:
            raise StorageError(f"the home is not empty (its store holds {key}, which the backup does not): import "
                               "restores into an empty home only", hint=hint)


# ------------------------------------------------------------------------------- reindex


@dataclass(frozen=True, slots=True)
class Reindexed:
    documents: int
    added: int
    review_items: int
    access_entries_restored: int = 0
    intake_events_restored: int = 0  # duplicates and rejections put back
    batches: int = 0  # batch rows in the journal (split batch files kept whole)
    batches_restored: int = 0  # of which added or completed
    backfill_runs: int = 0  # backfill runs in the journal, their items with them

    def to_json(self) -> dict[str, int]:
        return {"documents": self.documents, "added": self.added, "review_items": self.review_items,
                "access_entries_restored": self.access_entries_restored,
                "intake_events_restored": self.intake_events_restored, "batches": self.batches,
                "batches_restored": self.batches_restored, "backfill_runs": self.backfill_runs}


def reindex(manifest: Manifest, store: ObjectStore) -> Reindexed:
    """Rebuild the manifest rows from the store's NDJSON journal (the last state of each wins)."""
    manifest.flush_journal(store)
    found = journal.collect(store)
    added = 0
    for data in found.documents.values():
        doc = StoredDocument.from_json(data)
        added += manifest.upsert_document(doc, found.texts.get(doc.sha256))
    for item in found.reviews.values():
        manifest.upsert_review_item(item)
    restored = manifest.restore_access_entries(sorted(found.access.values(), key=lambda e: e["id"]))
    intake = restore_intake_events(manifest, found.intake.values())
    batches = manifest.restore_batches(found.batches.values())
    manifest.restore_runs(found.runs.values(), found.run_items.values())
    log.info("reindex: %d documents (%d new), %d review items, %d access-log entries, %d duplicates/rejections, "
             "%d batches and %d backfill runs put back", len(found.documents), added, len(found.reviews), restored,
             intake, batches, len(found.runs))
    return Reindexed(len(found.documents), added, len(found.reviews), restored, intake, len(found.batches), batches,
                     len(found.runs))


def restore_intake_events(manifest: Manifest, events: Iterable[dict[str, Any]]) -> int:
    """Put back journaled duplicates and rejections the database lacks; returns how many.

    An event already in the database (the same event, whatever its id there) is skipped, so a
    reindex twice adds nothing. A missing one gets its journaled id back; if that id is taken by
    another event (recorded in a new database before the reindex), it gets a new id instead.
    """
    held = manifest.intake_events()
    have_ids = {row["id"] for row in held}
    have = {journal.intake_identity(row) for row in held}
    with_id, renumbered, clashing = [], [], []
    for event in sorted(events, key=lambda e: int(e["id"])):
        identity = journal.intake_identity(event)
        if identity in have:
            continue
        have.add(identity)
        if int(event["id"]) in have_ids:
            clashing.append(int(event["id"]))
            renumbered.append({k: v for k, v in event.items() if k != "id"})
        else:
            have_ids.add(int(event["id"]))
            with_id.append(event)
    if clashing:
        log.warning("%d journaled duplicates/rejections (first journal id %d) clash with other events' ids in "
                    "the database; they are put back under new ids", len(clashing), clashing[0])
    return manifest.load_table("intake_events", with_id) + manifest.load_table("intake_events", renumbered)


def write_snapshot(manifest: Manifest, store: ObjectStore, *, at: datetime | None = None) -> tuple[str, int]:
    """Write the whole manifest (documents with their text, review items, access log, duplicates and
    rejections, batches, backfill runs and their items) as one snapshot, so later reindexes replay from it; returns (key, documents).
    Nothing older is deleted."""
    manifest.flush_journal(store)
    key = journal.snapshot_key(at or utc_now())  # stamped before reading: see journal.py
    count = 0

    def lines():
        nonlocal count
        written: set[str] = set()
        for doc in manifest.iter_documents():
            text = manifest.text_of(doc.sha256) if doc.sha256 not in written else None
            if text is not None:
                written.add(doc.sha256)
            count += 1
            yield journal.document_line(doc, text)
        for item in manifest.review_items():
            yield journal.review_line(review_to_json(item))
        for entry in manifest.access_log():
            yield journal.access_line(entry)
        for event in manifest.intake_events():
            yield journal.intake_line(event)
        for batch in manifest.batch_rows():
            yield journal.batch_line(batch)
        runs, items = manifest.run_rows()
        yield from map(journal.run_line, runs)
        yield from map(journal.run_item_line, items)

    journal.write_lines(store, key, lines())
    log.info("snapshot of %d documents written to %s", count, key)
    return key, count


# ------------------------------------------------------------------------------- helpers


def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")
