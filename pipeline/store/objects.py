"""Object stores behind one small interface: the local folder store here, S3 in `s3.py`.

Every store keeps the SHA-256 of each object, verifies it on every read (`IntegrityError` when the
bytes changed) and never overwrites: putting different bytes under an existing key is a
`StorageError`, putting the same bytes again is a no-op. The pipeline never deletes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from pipeline.errors import ConfigurationError, IntegrityError, StorageError
from pipeline.records import StoredObject
from pipeline.settings import Settings

log = logging.getLogger(__name__)

CHUNK = 1 << 20
META_DIR = ".meta"  # sidecars: <root>/.meta/<key>.json with sha256, size, content type
TEMP_PREFIX = ".tmp-"


@runtime_checkable
class ObjectStore(Protocol):
    def put(self, key: str, data: bytes | Path, content_type: str) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def head(self, key: str) -> StoredObject | None: ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]: ...

    def url(self, key: str) -> str: ...


def open_store(settings: Settings) -> ObjectStore:
    """S3 when `PIPELINE_S3_BUCKET` is set, else the folder `<home>/objects`."""
    if settings.s3_bucket:
        from pipeline.store.s3 import S3Store

        return S3Store.from_settings(settings)
    if "s3_sse" in settings.model_fields_set or settings.s3_kms_key_id or settings.s3_endpoint_url:
        raise ConfigurationError("PIPELINE_S3_SSE / _KMS_KEY_ID / _ENDPOINT_URL are set but PIPELINE_S3_BUCKET "
                                 "is not; set the bucket or unset them")
    return LocalStore(settings.objects_dir)


def sha256_of(data: bytes | Path) -> tuple[str, int]:
    """(hex SHA-256, size) of bytes or of a file, read in chunks."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest(), len(data)
    digest, size = hashlib.sha256(), 0
    with open(data, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def check_key(key: str) -> str:
    """Keys are relative, slash-separated, without empty, `.` or `..` parts."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts) \
            or parts[0] == META_DIR or any(p.startswith(TEMP_PREFIX) for p in parts):
        raise StorageError(f"invalid object key {key!r}: use a relative path such as patients/12/consent/2024/ID.pdf")
    return key


class LocalStore:
    """Objects as files under `root`; writes are atomic (temp file, fsync, link, directory fsync)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / META_DIR / f"{check_key(key)}.json"

    def put(self, key: str, data: bytes | Path, content_type: str) -> StoredObject:
        path = self._path(key)
        sha256, size = sha256_of(data)
        existing = self.head(key)
        if existing is not None:
            return _same_or_refuse(key, existing, sha256, self)
        meta = json.dumps({"sha256": sha256, "size": size, "content_type": content_type}).encode()
        try:
            if not _write_atomic(path, data, replace=False):
                # another writer created this key between our check and our link: its bytes stay
                theirs, their_size = sha256_of(path)
                return _same_or_refuse(key, StoredObject(key, theirs, their_size), sha256, self)
            # only the writer that created the object writes its sidecar; until it lands (or if we
            # crash first) `head` recomputes the hash of the immutable bytes, which gives the same answer
            _write_atomic(self._meta_path(key), meta, replace=True)
        except OSError as exc:
            raise StorageError(f"cannot write object {key} under {self.root} ({exc.strerror})",
                               hint="check free space and permissions of the store folder") from exc
        log.debug("stored %s (%d bytes, sha256 %s)", key, size, sha256[:12])
        return StoredObject(key, sha256, size)

    def get(self, key: str) -> bytes:
        expected = self.head(key)
        if expected is None:
            raise StorageError(f"object {key} is missing from {self.root}", hint="run `pipeline audit`")
        try:
            data = self._path(key).read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read object {key} ({exc.strerror})") from exc
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected.sha256:
            raise IntegrityError(f"object {key}: SHA-256 is {actual[:12]}..., the store recorded "
                                 f"{expected.sha256[:12]}...", hint="restore it from a backup; run `pipeline audit`")
        return data

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def head(self, key: str) -> StoredObject | None:
        if not self.exists(key):
            return None
        return self._stat(key)

    def _stat(self, key: str) -> StoredObject:
        try:
            meta = json.loads(self._meta_path(key).read_bytes())
            return StoredObject(key, meta["sha256"], int(meta["size"]))
        except (OSError, ValueError, KeyError):
            # being written right now, or its writer crashed before the sidecar, or it was copied in
            # by hand: its current bytes are all we have
            log.debug("object %s has no checksum sidecar; using its current SHA-256", key)
            sha256, size = sha256_of(self._path(key))
            return StoredObject(key, sha256, size)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        base = self.root
        for folder, dirs, files in os.walk(base):
            rel = Path(folder).relative_to(base).as_posix()
            if rel == ".":
                dirs[:] = sorted(d for d in dirs if d != META_DIR)
                rel = ""
            else:
                dirs.sort()
                rel += "/"
            for name in sorted(files):
                key = rel + name
                if not name.startswith(TEMP_PREFIX) and key.startswith(prefix):
                    yield key

    def url(self, key: str) -> str:
        return self._path(key).resolve().as_uri()


def _same_or_refuse(key: str, existing: StoredObject, sha256: str, store: object) -> StoredObject:
    if existing.sha256 == sha256:
        return existing
    raise StorageError(f"object {key} already exists in {store} with other bytes (sha256 {existing.sha256[:12]}...); "
                       "the store never overwrites", hint="file it under a new document id")


def _write_atomic(path: Path, data: bytes | Path, *, replace: bool) -> bool:
    """Write to a temp file beside `path`, fsync, then rename (or link, when it must not replace).

    Returns False when `replace` is False and `path` already exists (another writer got there first).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}")
    try:
        with open(temp, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                with open(data, "rb") as src:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)
            except FileExistsError:
                return False
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
