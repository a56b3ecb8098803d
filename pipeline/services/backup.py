"""Back up and restore a home, export FHIR, rebuild the manifest from the store's journal.

This is where backup and restore live (they were `pipeline/store/backup.py`): they combine the
manifest and the object store with the patient index (the encounters a FHIR export links), so they
are use cases. `export_home` writes a folder a restore needs nothing else for:

    DIR/export.json            format version, when, counts
    DIR/tables/<table>.ndjson  every manifest table, row by row, ids included
    DIR/objects/<key>          every stored object (read back and hash-verified on the way out)
    DIR/SHA256SUMS             `sha256sum -c` compatible, for every file above

`import_home` checks every checksum first, then fills an *empty* home, so the restore is bit for
bit. `reindex` rebuilds the manifest rows from the journal; `write_snapshot` journals the whole
manifest so later reindexes start there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.clock import Clock, utc_now
from pipeline.errors import IntegrityError, NotFoundError, StorageError
from pipeline.patients import lookup
from pipeline.records import Encounter
from pipeline.store import journal
from pipeline.store.fhir import document_reference, encounter_for
from pipeline.store.files import atomic_file
from pipeline.store.keys import EXTENSIONS
from pipeline.store.manifest import TABLE_ORDER, Manifest
from pipeline.store.mapping import review_to_json
from pipeline.store.objects import CHUNK, ObjectStore, check_key
from pipeline.store.rows import StoredDocument

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1
SUMS = "SHA256SUMS"
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
    if out_dir.exists() and any(out_dir.iterdir()):
        raise StorageError(f"{out_dir}: the export folder is not empty; give a new or empty folder")
    manifest.record_access(actor, "exported", reason=f"backup export to {out_dir.name}")
    manifest.flush_journal(store)  # the export's objects include every journal event
    (out_dir / "tables").mkdir(parents=True, exist_ok=True)
    sums: list[str] = []
    rows: dict[str, int] = {}
    for name in TABLE_ORDER:
        lines = [json.dumps(row, sort_keys=True) for row in manifest.dump_table(name)]
        data = ("\n".join(lines) + "\n").encode() if lines else b""
        path = out_dir / "tables" / f"{name}.ndjson"
        path.write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  tables/{name}.ndjson")
        rows[name] = len(lines)
    objects = 0
    for key in store.iter_keys():
        data = store.get(key)  # verified against its SHA-256 on the way out
        path = out_dir / "objects" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  objects/{key}")
        objects += 1
    (out_dir / SUMS).write_text("\n".join(sums) + "\n")
    counts = Counts(objects, rows)
    (out_dir / "export.json").write_text(json.dumps({
        "format": EXPORT_FORMAT, "created_at": clock().isoformat(), "pipeline": __version__,
        "database": manifest.dialect, **counts.to_json()}, indent=2, sort_keys=True) + "\n")
    _fsync_tree(out_dir)
    log.info("exported %d objects and %d manifest rows to %s", objects, sum(rows.values()), out_dir)
    return counts


def import_home(manifest: Manifest, store: ObjectStore, in_dir: Path) -> Counts:
    """Restore an export into an empty home: every checksum is verified before anything is written."""
    sums_path = in_dir / SUMS
    if not sums_path.is_file():
        raise NotFoundError(f"{in_dir}: no {SUMS} file; give a folder written by `pipeline export DIR`")
    entries = _verify_sums(in_dir, sums_path)
    if not manifest.is_empty() or next(iter(store.iter_keys()), None) is not None:
        raise StorageError("the home is not empty: import restores into an empty home only",
                           hint="use a new --home folder (and a new database / bucket)")
    objects = 0
    for relative, sha256 in entries:
        if relative.startswith("objects/"):
            key = check_key(relative.removeprefix("objects/"))
            stored = store.put(key, in_dir / relative, _content_type(key))
            if stored.sha256 != sha256:
                raise IntegrityError(f"{relative}: changed while it was imported; run the import again")
            objects += 1
    rows = {}
    for name in TABLE_ORDER:
        path = in_dir / "tables" / f"{name}.ndjson"
        data = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
        rows[name] = manifest.load_table(name, data)
    log.info("imported %d objects and %d manifest rows from %s", objects, sum(rows.values()), in_dir)
    return Counts(objects, rows)


def _verify_sums(root: Path, sums_path: Path) -> list[tuple[str, str]]:
    entries, bad = [], []
    for number, line in enumerate(sums_path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        sha256, _, relative = line.partition("  ")
        if not relative or ".." in Path(relative).parts or Path(relative).is_absolute():
            raise IntegrityError(f"{sums_path}: line {number} is not `<sha256>  <relative path>`")
        path = root / relative
        if not path.is_file() or _sha256_file(path) != sha256:
            bad.append(relative)
        entries.append((relative, sha256))
    if bad:
        raise IntegrityError(f"{root}: {len(bad)} files are missing or do not match {SUMS} (first: {bad[0]})",
                             hint="the export is damaged; nothing was imported")
    return entries


# ------------------------------------------------------------------------------- reindex


@dataclass(frozen=True, slots=True)
class Reindexed:
    documents: int
    added: int
    review_items: int
    access_entries_restored: int = 0
    intake_events_restored: int = 0  # duplicates and rejections put back

    def to_json(self) -> dict[str, int]:
        return {"documents": self.documents, "added": self.added, "review_items": self.review_items,
                "access_entries_restored": self.access_entries_restored,
                "intake_events_restored": self.intake_events_restored}


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
    log.info("reindex: %d documents (%d new), %d review items, %d access-log entries and %d duplicates/rejections "
             "put back", len(found.documents), added, len(found.reviews), restored, intake)
    return Reindexed(len(found.documents), added, len(found.reviews), restored, intake)


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
    rejections) as one snapshot, so later reindexes replay from it; returns (key, documents).
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

    journal.write_lines(store, key, lines())
    log.info("snapshot of %d documents written to %s", count, key)
    return key, count


# ------------------------------------------------------------------------------- helpers


def _content_type(key: str) -> str:
    return _CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            with open(Path(folder) / name, "rb") as handle:
                os.fsync(handle.fileno())
