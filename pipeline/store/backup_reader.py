"""Reading a backup folder before anything is restored: `read_backup` checks it all.

First the files (`backup_folder.verify_folder`: every file listed in SHA256SUMS, regular, of its
hash), then what they say: `export.json` is of this format and of this database's schema revision,
the table files are exactly the tables this pipeline backs up, each row fits its table's columns,
the counts in `export.json` are the counts found, object names are valid keys, and every object a
row names (a document's original and searchable PDF, a quarantined input) is in the backup. Any
refusal is an `IntegrityError` (exit 8) naming the file and line, or a `StorageError` (exit 7) for
a schema revision this home is not at, and nothing has been written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table

from pipeline.errors import IntegrityError, StorageError
from pipeline.store.backup_folder import (
    INFO,
    OBJECTS_DIR,
    TABLES_DIR,
    iter_lines,
    read_file,
    table_file,
    verify_folder,
)
from pipeline.store.database import known_revision
from pipeline.store.objects import check_key
from pipeline.store.restore import OBJECT_KEY_COLUMNS, backup_tables, row_from_json

FORMAT = 2
MAX_INFO_BYTES = 1 << 20
_DAMAGED = "the backup is damaged or was altered; nothing was imported"


@dataclass(frozen=True, slots=True)
class VerifiedBackup:
    root: Path
    info: dict[str, Any]
    sums: dict[str, str]
    tables: tuple[Table, ...]
    objects: dict[str, str]  # key -> SHA-256

    def rows(self, table: Table) -> Iterator[dict[str, Any]]:
        """The table's rows, checked and converted for inserting (the file's hash checked again)."""
        name = table_file(table.name)
        for number, line in enumerate(iter_lines(self.root, name, self.sums[name]), 1):
            yield row_from_json(table, _json(line, f"{name} line {number}"), f"{name} line {number}")


def read_backup(root: Path, schema_revision: str | None) -> VerifiedBackup:
    sums = verify_folder(root)
    if INFO not in sums:
        raise IntegrityError(f"{INFO}: missing from the backup folder", hint=_DAMAGED)
    info = _json(read_file(root, INFO, sums[INFO], MAX_INFO_BYTES), INFO)
    if not isinstance(info, dict):
        raise IntegrityError(f"{INFO}: not a JSON object", hint=_DAMAGED)
    _check_format(info)
    _check_revision(info.get("schema_revision"), schema_revision)
    tables = tuple(backup_tables())
    objects = _objects(sums)
    expected = {table_file(t.name) for t in tables}
    listed = {name for name in sums if name.startswith(f"{TABLES_DIR}/")}
    if listed != expected:
        odd = sorted(listed - expected) or sorted(expected - listed)
        raise IntegrityError(f"{odd[0]}: {'not a table this pipeline backs up' if listed - expected else 'missing'}",
                             hint=_DAMAGED)
    stray = sorted(set(sums) - listed - {INFO} - {f"{OBJECTS_DIR}/{key}" for key in objects})
    if stray:
        raise IntegrityError(f"{stray[0]}: not part of a backup (only {INFO}, {TABLES_DIR}/ and {OBJECTS_DIR}/)",
                             hint=_DAMAGED)
    backup = VerifiedBackup(root, info, sums, tables, objects)
    rows = {table.name: _check_rows(backup, table) for table in tables}
    if info.get("rows") != rows or info.get("objects") != len(objects):
        raise IntegrityError(f"{INFO}: its counts are not what the backup holds ({sum(rows.values())} rows, "
                             f"{len(objects)} objects)", hint=_DAMAGED)
    return backup


def _check_format(info: dict[str, Any]) -> None:
    if info.get("format") == FORMAT:
        return
    if info.get("format") == 1:
        raise IntegrityError(f"{INFO}: format 1, written before backups held the patient index and every table",
                             hint="export the home again with this pipeline, or rebuild it with `pipeline reindex` "
                                  "and a patient import")
    raise IntegrityError(f"{INFO}: format {info.get('format')!r} is not one this pipeline reads ({FORMAT})",
                         hint="import it with the pipeline release that wrote it")


def _check_revision(theirs: Any, ours: str | None) -> None:
    if theirs == ours:
        return
    if not isinstance(theirs, str) or not theirs:
        raise IntegrityError(f"{INFO}: no schema revision", hint=_DAMAGED)
    if known_revision(theirs):
        raise StorageError(f"the backup is at database schema revision {theirs}, this home at {ours}: "
                           "import restores into the same revision only",
                           hint=f"import it with the pipeline release at revision {theirs} into an empty home, "
                                "then upgrade the pipeline (its next command migrates the database)")
    raise StorageError(f"the backup is at database schema revision {theirs}, which this pipeline does not know "
                       f"(this home is at {ours})", hint="upgrade the pipeline to the release that wrote the backup")


def _objects(sums: dict[str, str]) -> dict[str, str]:
    objects = {}
    for name, sha256 in sums.items():
        if name.startswith(f"{OBJECTS_DIR}/"):
            key = name.removeprefix(f"{OBJECTS_DIR}/")
            try:
                objects[check_key(key)] = sha256
            except StorageError:
                raise IntegrityError(f"{name}: not a valid object key", hint=_DAMAGED) from None
    return objects


def _check_rows(backup: VerifiedBackup, table: Table) -> int:
    count = 0
    keys = OBJECT_KEY_COLUMNS.get(table.name, ())
    for count, row in enumerate(backup.rows(table), 1):
        for column in keys:
            if row[column] and row[column] not in backup.objects:
                raise IntegrityError(f"{table_file(table.name)} line {count}: names object {row[column]}, "
                                     "which the backup does not hold", hint=_DAMAGED)
    return count


def _json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise IntegrityError(f"{where}: not valid JSON", hint=_DAMAGED) from None
