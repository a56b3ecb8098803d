"""Intake: the first look at a file. `intake(path, now) -> IncomingDocument | Rejection`.

One streamed read gives the SHA-256, the size and the first and last bytes. The media type is
sniffed from the bytes (magic numbers), never taken from the file name: a PNG named `.pdf` is a
PNG, a text file named `.pdf` is rejected. Cheap completeness checks catch a copy that stopped
part-way (a PDF without its `%%EOF` marker, a JPEG without its end marker, a PNG without IEND);
the OCR stage still detects deeper damage while it renders.

The file is opened without following a symbolic link and must be a regular file (not a FIFO or
device, which could be read forever); its size is checked against `max_bytes` before it is read
(default `settings.DEFAULT_MAX_INPUT_BYTES`; the setting is `PIPELINE_MAX_INPUT_BYTES`).

Every rejection names the file (escaped: `names.display_name`), says what is wrong and what to
do, and carries the name of the `InputError` class it stands for (`Rejection.error`), so the
orchestrator and the review screen can group them. OS errors (no permission, file vanished) are
raised, not returned.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline import errors
from pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    InputError,
    LimitExceededError,
    NotFoundError,
    NotRegularFileError,
    UnsupportedFormatError,
)
from pipeline.ingest.names import display_name, name_tag
from pipeline.records import IncomingDocument, Rejection
from pipeline.settings import DEFAULT_MAX_INPUT_BYTES

log = logging.getLogger(__name__)

PDF = "application/pdf"
TIFF = "image/tiff"
PNG = "image/png"
JPEG = "image/jpeg"
SUPPORTED_TYPES = (PDF, TIFF, PNG, JPEG)

CHUNK_BYTES = 1 << 20
HEAD_BYTES = 4096
TAIL_BYTES = 64 * 1024  # read this much of the end, to see past padding some scanners append
END_WINDOW = 1024  # end markers must sit this close to the end, padding stripped (PDF spec: %%EOF)
_PADDING = b"\x00\r\n\t \x1a"  # NULs, whitespace and a DOS end-of-file byte after the real end
PDF_HEADER_WINDOW = 1024  # "%PDF-" may follow a little junk (some scanners prepend bytes)


@dataclass(frozen=True, slots=True)
class _Unsupported:
    """A known type we do not take, and what the clerk should do instead."""

    what: str
    advice: str


_SCAN_AGAIN = "scan the paper again as PDF, TIFF, PNG or JPEG and drop the new file in"
_EXPORT = "print it to PDF (or scan the paper) and drop the PDF in"

_KNOWN_UNSUPPORTED: tuple[tuple[bytes, int, _Unsupported], ...] = (
    # (magic, offset, description)
    (b"GIF87a", 0, _Unsupported("a GIF image", "save it as PNG or PDF and drop that in")),
    (b"GIF89a", 0, _Unsupported("a GIF image", "save it as PNG or PDF and drop that in")),
    (b"BM", 0, _Unsupported("a BMP image", "save it as PNG or PDF and drop that in")),
    (b"WEBP", 8, _Unsupported("a WebP image", "save it as PNG or PDF and drop that in")),
    (b"ftypheic", 4, _Unsupported("a HEIC photo", "export it as JPEG or PDF and drop that in")),
    (b"ftypmif1", 4, _Unsupported("a HEIF photo", "export it as JPEG or PDF and drop that in")),
    (b"\x00\x00\x00\x0cjP  ", 0, _Unsupported("a JPEG 2000 image", "save it as PNG or PDF and drop that in")),
    (b"PK\x03\x04", 0, _Unsupported("a ZIP archive or Office document", _EXPORT)),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, _Unsupported("an old Office document", _EXPORT)),
    (b"{\\rtf", 0, _Unsupported("an RTF document", _EXPORT)),
    (b"\x1f\x8b", 0, _Unsupported("a gzip archive", "unpack it and drop the scans in")),
    (b"7z\xbc\xaf\x27\x1c", 0, _Unsupported("a 7-Zip archive", "unpack it and drop the scans in")),
    (b"Rar!", 0, _Unsupported("a RAR archive", "unpack it and drop the scans in")),
    (b"MZ", 0, _Unsupported("a Windows program", "delete it: it is not a scan")),
    (b"\x7fELF", 0, _Unsupported("a program", "delete it: it is not a scan")),
)


def intake(path: Path, now: datetime, *, max_bytes: int | None = DEFAULT_MAX_INPUT_BYTES,
           follow_symlinks: bool = False) -> IncomingDocument | Rejection:
    """Accept a readable, supported file as an `IncomingDocument`, or say why not.

    `now` (timezone-aware) becomes `received_at`. `max_bytes` caps the size (None: no cap).
    A symbolic link is rejected unless `follow_symlinks`.
    """
    if now.tzinfo is None:
        raise ValueError("intake needs a timezone-aware `now`")
    path = Path(path)
    shown = display_name(path)
    try:
        size, sha256, head, tail = _read(path, max_bytes, follow_symlinks)
        media_type = _check(shown, size, head, tail)
    except InputError as exc:
        log.info("rejected %s: %s", name_tag(path), type(exc).__name__)
        log.debug("rejected %s: %s", shown, type(exc).__name__)
        return Rejection(source=path, reason=str(exc), error=type(exc).__name__)
    suffix_type = _TYPE_BY_SUFFIX.get(path.suffix.lower())
    if suffix_type and suffix_type != media_type:
        log.info("%s: the bytes are %s although the name says %s; going by the bytes",
                 name_tag(path), media_type, suffix_type)
    log.debug("accepted %s: %s, %d bytes, sha256 %s", shown, media_type, size, sha256[:12])
    return IncomingDocument(
        source=path,
        original_name=path.name,
        sha256=sha256,
        size=size,
        media_type=media_type,
        received_at=now,
    )


def intake_one(path: Path, now: datetime) -> IncomingDocument:
    """`intake` for a single file named on the command line (which may be a link to one, as it is
    only read): a rejection is raised as its error."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"{path}: no such file; check the path")
    result = intake(path, now, follow_symlinks=True)
    if isinstance(result, Rejection):
        error = getattr(errors, result.error, InputError)
        raise (error if isinstance(error, type) and issubclass(error, InputError) else InputError)(result.reason)
    return result


def looks_complete(path: Path) -> bool:
    """Whether a file looks fully written: not empty, and its end marker there (PDF, JPEG, PNG).

    Reads only the first and last few kilobytes. The watcher uses it to wait longer for a copy
    that stalled part-way; a file of an unknown type counts as complete (intake rejects it).
    """
    try:
        with _open_regular(Path(path), follow_symlinks=False) as handle:
            head = handle.read(HEAD_BYTES)
            size = handle.seek(0, 2)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read(TAIL_BYTES)
    except NotRegularFileError:
        return True  # nothing to wait for: it is refused, not read
    except OSError:
        return False
    try:
        _check(display_name(Path(path)), size, head, tail)
    except (EmptyFileError, CorruptFileError):
        return False
    except InputError:
        return True
    return True


def sniff(head: bytes) -> str | None:
    """The supported media type the first bytes of a file show, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # classic and BigTIFF
        return TIFF
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return PDF
    return None


_TYPE_BY_SUFFIX = {".pdf": PDF, ".tif": TIFF, ".tiff": TIFF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG}


def _read(path: Path, max_bytes: int | None, follow_symlinks: bool) -> tuple[int, str, bytes, bytes]:
    """Size, SHA-256, head and tail in one streamed pass, from a regular file only."""
    digest = hashlib.sha256()
    head = b""
    tail = b""
    size = 0
    with _open_regular(path, follow_symlinks) as handle:
        declared = os.fstat(handle.fileno()).st_size
        if max_bytes is not None and declared > max_bytes:
            raise _too_large(path, max_bytes)
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            tail = (tail + chunk)[-TAIL_BYTES:]
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:  # it grew while being read
                raise _too_large(path, max_bytes)
    return size, digest.hexdigest(), head, tail


def _open_regular(path: Path, follow_symlinks: bool):
    """The file opened for reading; a link (unless followed), FIFO, device or socket is refused
    from the open descriptor itself, so nothing can be swapped in between a look and the read."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFileError(f"{display_name(path)}: is a symbolic link, not a scan file",
                                      hint="put the file itself in, not a link to it") from None
        raise
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise NotRegularFileError(f"{display_name(path)}: is not a regular file (a FIFO, device or socket)",
                                  hint="only scan files (PDF, TIFF, PNG, JPEG) are taken")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def _too_large(path: Path, max_bytes: int) -> LimitExceededError:
    return LimitExceededError(
        f"{display_name(path)}: the file is larger than the limit of {_megabytes(max_bytes)}",
        hint="split the scan into smaller files, or raise PIPELINE_MAX_INPUT_BYTES",
    )


def _check(name: str, size: int, head: bytes, tail: bytes) -> str:
    end = tail.rstrip(_PADDING)[-END_WINDOW:]
    if size == 0:
        raise EmptyFileError(f"{name}: the file is empty (0 bytes)", hint="scan it again and drop the new file in")
    media_type = sniff(head)
    if media_type is None:
        raise UnsupportedFormatError(f"{name}: {_describe_unsupported(head)}", hint=_advice(head))
    if media_type == PDF:
        if b"%%EOF" not in end:
            raise CorruptFileError(
                f"{name}: the PDF is cut short (no end-of-file marker); the scan or copy did not finish",
                hint="scan it again, or copy the whole file again, and drop it in",
            )
        if b"startxref" not in end:
            raise CorruptFileError(
                f"{name}: the PDF has no cross-reference table; the file is damaged",
                hint="scan it again and drop the new file in",
            )
    elif media_type == JPEG and b"\xff\xd9" not in end:
        raise CorruptFileError(
            f"{name}: the JPEG is cut short (no end-of-image marker); the copy did not finish",
            hint="copy or scan it again and drop it in",
        )
    elif media_type == PNG and b"IEND" not in end:
        raise CorruptFileError(
            f"{name}: the PNG is cut short (no IEND chunk); the copy did not finish",
            hint="copy or scan it again and drop it in",
        )
    elif media_type == TIFF and not _tiff_directory_inside(head, size):
        raise CorruptFileError(
            f"{name}: the TIFF is cut short (its page directory lies past the end of the file)",
            hint="copy or scan it again and drop it in",
        )
    return media_type


def _tiff_directory_inside(head: bytes, size: int) -> bool:
    """Whether the first image directory's offset (header bytes 4-8, BigTIFF 8-16) is in the file."""
    order = "little" if head[:2] == b"II" else "big"
    big = head[2:4] in (b"+\x00", b"\x00+")
    field = head[8:16] if big else head[4:8]
    if len(field) < (8 if big else 4):
        return False
    offset = int.from_bytes(field, order)
    return (16 if big else 8) <= offset < size - 2


def _known(head: bytes) -> _Unsupported | None:
    for magic, offset, info in _KNOWN_UNSUPPORTED:
        if head[offset : offset + len(magic)] == magic:
            return info
    return None


def _describe_unsupported(head: bytes) -> str:
    known = _known(head)
    if known is not None:
        return f"the file is {known.what}, not a PDF, TIFF, PNG or JPEG scan"
    stripped = head.lstrip()
    if stripped[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "the file is a web page (HTML), not a PDF, TIFF, PNG or JPEG scan"
    if stripped.startswith(b"<?xml"):
        return "the file is XML text, not a PDF, TIFF, PNG or JPEG scan"
    if _looks_like_text(head):
        return "the file is plain text, not a PDF, TIFF, PNG or JPEG scan"
    return "the file's type is not recognised (not a PDF, TIFF, PNG or JPEG scan)"


def _advice(head: bytes) -> str:
    known = _known(head)
    if known is not None:
        return known.advice
    if _looks_like_text(head):
        return _EXPORT
    return _SCAN_AGAIN


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:  # a multi-byte character cut at the end of the head
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable >= 0.95 * max(len(text), 1)


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.0f} MB" if count >= 1_000_000 else f"{count} bytes"
