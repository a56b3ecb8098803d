"""The backup folder on disk: writing it, and reading it back only through its checksums.

    DIR/export.json            format, schema revision, when, counts of rows per table and of objects
    DIR/tables/<table>.ndjson  one JSON object per row, ids included
    DIR/objects/<key>          every stored object
    DIR/SHA256SUMS             `sha256sum -c` compatible, one line per file above, written last

`verify_folder` trusts nothing in the folder: `SHA256SUMS` must be strict (`<64 hex>  <name>` per
line, each name once, relative, inside the folder), every file in the folder must be listed, every
listed file present, a regular file (no symlink, device, pipe; checked with lstat and opened with
O_NOFOLLOW) and of the listed SHA-256. Each refusal is an `IntegrityError` naming the file.
`read_file` reads one file again and checks its hash once more, so the bytes used are the bytes
verified even if the folder changes in between.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.errors import IntegrityError, NotFoundError, StorageError

SUMS = "SHA256SUMS"
INFO = "export.json"
TABLES_DIR = "tables"
OBJECTS_DIR = "objects"
#: a SHA256SUMS longer than this is not one we wrote (about 2 million files)
MAX_SUMS_BYTES = 256 << 20
_CHUNK = 1 << 20
_LINE = re.compile(r"([0-9a-f]{64})  ([^\x00-\x1f\x7f]+)")
_DAMAGED = "the backup is damaged or was altered; nothing was imported"


def table_file(name: str) -> str:
    return f"{TABLES_DIR}/{name}.ndjson"


def object_file(key: str) -> str:
    return f"{OBJECTS_DIR}/{key}"


class BackupWriter:
    """Writes files into an empty folder, remembering each one's SHA-256; `finish` writes
    `export.json`, then `SHA256SUMS`, and fsyncs everything."""

    def __init__(self, root: Path) -> None:
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise StorageError(f"{root}: the export folder is not empty; give a new or empty folder")
        root.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds patient data: its owner only
        self.root = root
        self.sums: list[tuple[str, str]] = []

    def write_bytes(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.sums.append((hashlib.sha256(data).hexdigest(), name))

    def write_lines(self, name: str, rows: Iterable[dict[str, Any]]) -> int:
        """Rows as NDJSON, streamed; returns how many."""
        path, digest, count = self.root / name, hashlib.sha256(), 0
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            for row in rows:
                line = json.dumps(row, sort_keys=True).encode() + b"\n"
                handle.write(line)
                digest.update(line)
                count += 1
        self.sums.append((digest.hexdigest(), name))
        return count

    def finish(self, info: dict[str, Any]) -> None:
        self.write_bytes(INFO, (json.dumps(info, indent=2, sort_keys=True) + "\n").encode())
        (self.root / SUMS).write_text("".join(f"{sha}  {name}\n" for sha, name in self.sums))
        for folder, _, files in os.walk(self.root):
            for name in files:
                with open(Path(folder) / name, "rb") as handle:
                    os.fsync(handle.fileno())


def parse_sums(data: bytes, where: str = SUMS) -> dict[str, str]:
    """Name -> SHA-256 from a SHA256SUMS file, strictly."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise IntegrityError(f"{where}: not UTF-8 text", hint=_DAMAGED) from None
    if text and not text.endswith("\n"):
        raise IntegrityError(f"{where}: the last line is cut short", hint=_DAMAGED)
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        found = _LINE.fullmatch(line)
        if not found:
            raise IntegrityError(f"{where} line {number}: not `<sha256>  <file>`", hint=_DAMAGED)
        sha256, name = found.groups()
        check_name(name, f"{where} line {number}")
        if name in sums:
            raise IntegrityError(f"{where} line {number}: {name} is listed twice", hint=_DAMAGED)
        sums[name] = sha256
    return sums


def check_name(name: str, where: str) -> str:
    """A listed name stays inside the folder: relative, `/`-separated, no empty, `.` or `..` part."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts) or name == SUMS:
        raise IntegrityError(f"{where}: {name!r} is not a file inside the backup folder", hint=_DAMAGED)
    return name


def verify_folder(root: Path) -> dict[str, str]:
    """Every file in `root` checked against SHA256SUMS before anything is used; name -> SHA-256."""
    sums = parse_sums(_read_regular(root, SUMS, MAX_SUMS_BYTES))
    present = set()
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in list(dirs) + files:
            relative = (base / name).relative_to(root).as_posix()
            mode = os.lstat(base / name).st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise IntegrityError(f"{relative}: not a regular file ({_kind(mode)}) in the backup folder",
                                     hint=_DAMAGED)
            if relative != SUMS:
                present.add(relative)
    unlisted, missing = sorted(present - set(sums)), sorted(set(sums) - present)
    if unlisted:
        raise IntegrityError(f"{unlisted[0]}: in the backup folder but not in {SUMS} "
                             f"({len(unlisted)} unlisted files)", hint=_DAMAGED)
    if missing:
        raise IntegrityError(f"{missing[0]}: listed in {SUMS} but missing ({len(missing)} missing files)",
                             hint=_DAMAGED)
    for name, sha256 in sorted(sums.items()):
        _hash_regular(root, name, sha256)
    return sums


def read_file(root: Path, name: str, sha256: str, limit: int | None = None) -> bytes:
    """A verified file's bytes, checked against its SHA-256 again."""
    data = _read_regular(root, name, limit)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise IntegrityError(f"{name}: changed since it was verified", hint="run the import again")
    return data


def iter_lines(root: Path, name: str, sha256: str) -> Iterator[bytes]:
    """A verified file's lines, streamed; its SHA-256 is checked again when the last line is read."""
    digest = hashlib.sha256()
    with os.fdopen(_open_regular(root, name), "rb") as handle:
        for line in handle:
            digest.update(line)
            yield line
    if digest.hexdigest() != sha256:
        raise IntegrityError(f"{name}: changed since it was verified", hint="run the import again")


def _open_regular(root: Path, name: str) -> int:
    try:
        fd = os.open(root / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise (NotFoundError(f"{root}: no {SUMS} file; give a folder written by `pipeline export DIR`")
               if name == SUMS else IntegrityError(f"{name}: missing from the backup folder", hint=_DAMAGED)) from None
    except OSError as exc:  # ELOOP: a symlink
        raise IntegrityError(f"{name}: cannot be opened as a regular file ({exc.strerror})", hint=_DAMAGED) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise IntegrityError(f"{name}: not a regular file ({_kind(mode)}) in the backup folder", hint=_DAMAGED)
    return fd


def _read_regular(root: Path, name: str, limit: int | None) -> bytes:
    fd = _open_regular(root, name)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1) if limit is not None else handle.read()
    if limit is not None and len(data) > limit:
        raise IntegrityError(f"{name}: larger than {limit} bytes", hint=_DAMAGED)
    return data


def _hash_regular(root: Path, name: str, sha256: str) -> None:
    digest = hashlib.sha256()
    with os.fdopen(_open_regular(root, name), "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise IntegrityError(f"{name}: its SHA-256 does not match {SUMS}", hint=_DAMAGED)


def _kind(mode: int) -> str:
    for test, word in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "not a file"
