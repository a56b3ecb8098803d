"""Backup, restore, release of information, FHIR export and reindex.

`export_home` writes a folder a restore needs nothing else for:

    DIR/export.json            format version, when, counts
    DIR/tables/<table>.ndjson  every manifest table, row by row, ids included
    DIR/objects/<key>          every stored object (read back and hash-verified on the way out)
    DIR/SHA256SUMS             `sha256sum -c` compatible, for every file above

`import_home` checks every checksum first, then fills an *empty* home, so the restore is bit for
bit. `release` bundles a patient's filed documents into a zip (the PDFs, `index.json`, and
`DocumentReference.ndjson` whose attachment URLs are the file names in the zip) and logs the
disclosure.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import IntegrityError, NotFoundError, StorageError
from pipeline.records import DocumentStatus, Outcome
from pipeline.store import journal
from pipeline.store.fhir import Encounter, document_reference, encounter_for
from pipeline.store.keys import EXTENSIONS
from pipeline.store.manifest import TABLE_ORDER, Manifest
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
    """Encounters by patient id, from the patient index's `encounters` table when there is one."""
    from sqlalchemy import inspect, text

    if "encounters" not in inspect(manifest.engine).get_table_names():
        return {}
    out: dict[int, list[Encounter]] = {}
    with manifest.engine.connect() as conn:
        for row in conn.execute(text("SELECT id, patient_id, visit_number, admitted_at, discharged_at "
                                     "FROM encounters WHERE admitted_at IS NOT NULL")):
            start, end = _day(row.admitted_at), _day(row.discharged_at)
            out.setdefault(row.patient_id, []).append(Encounter(row.id, row.patient_id, row.visit_number, start, end))
    return out


def _day(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    return value.date() if isinstance(value, datetime) else datetime.fromisoformat(str(value)).date()


# --------------------------------------------------------------------------- backup/restore


@dataclass(frozen=True, slots=True)
class Counts:
    objects: int
    rows: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"objects": self.objects, "rows": self.rows}


def export_home(manifest: Manifest, store: ObjectStore, out_dir: Path, *, actor: str) -> Counts:
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
        "format": EXPORT_FORMAT, "created_at": datetime.now(UTC).isoformat(), "pipeline": __version__,
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


# ------------------------------------------------------------------------------- release


@dataclass(frozen=True, slots=True)
class Release:
    patient_mrn: str
    recipient: str
    purpose: str
    documents: tuple[str, ...]
    out: Path

    def to_json(self) -> dict[str, Any]:
        return {"patient_mrn": self.patient_mrn, "recipient": self.recipient, "purpose": self.purpose,
                "documents": list(self.documents), "out": str(self.out)}


def release(manifest: Manifest, store: ObjectStore, *, patient_mrn: str, recipient: str, purpose: str,
            out: Path, actor: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Release:
    """Bundle a patient's current filed documents into `out` (zip) and log the disclosure."""
    if not recipient.strip() or not purpose.strip():
        raise StorageError("a release needs the requester (--to) and the purpose (--purpose); both are logged")
    docs = [d for d in manifest.search(patient_mrn=patient_mrn, status=DocumentStatus.CURRENT, limit=1_000_000)
            if d.outcome is Outcome.FILED]
    if not docs:
        raise NotFoundError(f"no filed documents for MRN {patient_mrn}; check the MRN with `pipeline search`")
    now = clock()
    index, references = [], []
    with atomic_file(out) as handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for doc in sorted(docs, key=lambda d: (d.date_of_service or d.filed_at.date(), d.document_id)):
            key = doc.searchable_key or doc.original_key
            data = store.get(key)
            name = _release_name(doc, key)
            bundle.writestr(name, data)
            index.append({"file": name, "document_id": doc.document_id, "type": doc.type_display or doc.doc_type,
                          "loinc": doc.loinc, "date_of_service": doc.date_of_service.isoformat()
                          if doc.date_of_service else None, "sha256": hashlib.sha256(data).hexdigest()})
            reference = document_reference(doc, lambda k, n=name, key=key: n if k == key else k)
            reference["content"] = [c for c in reference["content"] if c["attachment"]["url"] == name]
            references.append(json.dumps(reference, sort_keys=True))
        bundle.writestr("DocumentReference.ndjson", "\n".join(references) + "\n")
        bundle.writestr("index.json", json.dumps({
            "patient_mrn": patient_mrn, "recipient": recipient, "purpose": purpose, "released_at": now.isoformat(),
            "released_by": actor, "documents": index}, indent=2))
    for doc in docs:
        manifest.record_access(actor, "released", document_id=doc.document_id, patient_mrn=patient_mrn,
                               recipient=recipient, reason=purpose)
    log.info("released %d documents to a requester (%s)", len(docs), out.name)
    return Release(patient_mrn, recipient, purpose, tuple(d.document_id for d in docs), out)


def _release_name(doc: StoredDocument, key: str) -> str:
    when = (doc.date_of_service or doc.filed_at.date()).isoformat()
    return f"{when}_{doc.doc_type or 'document'}_{doc.document_id}{Path(key).suffix}"


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
    from pipeline.store.mapping import review_to_json

    manifest.flush_journal(store)
    key = journal.snapshot_key(at or datetime.now(UTC))  # stamped before reading: see journal.py
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


class atomic_file:
    """Write to a temp file beside `path`; on success fsync and rename; never replaces a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        if self.path.exists():
            raise StorageError(f"{self.path} already exists; give a new file name")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=self.path.parent)
        self.temp = Path(name)
        self.handle = os.fdopen(fd, "w+b")
        return self.handle

    def __exit__(self, exc_type, *_: object) -> None:
        try:
            if exc_type is None:
                self.handle.flush()
                os.fsync(self.handle.fileno())
            self.handle.close()
            if exc_type is None:
                os.link(self.temp, self.path)
        finally:
            self.temp.unlink(missing_ok=True)


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
