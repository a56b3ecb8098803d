"""File names as they may be shown and stored: escaped for logs, collision-free for quarantine.

    display_name(path) -> str          control characters and undecodable bytes escaped, so a name
                                       with a newline cannot forge a log line
    name_tag(path) -> str              a short hash of the name, for log lines at the default level:
                                       scanners name files after patients
    reserve_name(folder, name, now)    a new, empty file in `folder` no other writer can take:
                                       `<yyyymmddThhmmss>-<name>`, or `...-2-<name>`, `-3-` ...

`EscapeControlCharacters` is the same escaping as a logging filter for a whole handler (every
module's messages, whatever they interpolate); tracebacks are left as they are.

`reserve_name` creates the file with O_EXCL, so two rejections of the same name in the same second
(two sub-folders, two watchers) get two names; the caller then moves the rejected file over it
(`os.replace`) and writes its reason beside it as `<reserved>.reason.txt`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import datetime
from pathlib import Path, PurePath

MAX_NAME_CHARS = 180  # leaves room for the stamp, a counter and ".reason.txt" under 255 bytes


def display_name(path: PurePath | str) -> str:
    """The file's name with every control character and undecodable byte shown as an escape."""
    name = path.name if isinstance(path, PurePath) else str(path)
    return "".join(_escape(ch) for ch in name)


def name_tag(path: PurePath | str) -> str:
    """`name:` and the first 10 hex digits of the SHA-256 of the file name: tells inputs apart in a
    log without showing a name (the same name always gives the same tag)."""
    name = path.name if isinstance(path, PurePath) else str(path)
    return "name:" + hashlib.sha256(os.fsencode(name)).hexdigest()[:10]


class EscapeControlCharacters(logging.Filter):
    """Rewrites each record's message with control characters escaped: one event, one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = "".join(_escape(ch) for ch in message)
        if escaped != message:
            record.msg, record.args = escaped, None
        return True


def safe_file_name(name: str) -> str:
    """A name fit to write into another folder: no separators, no control characters, not hidden."""
    cleaned = "".join("_" if (ch in "/\\" or not ch.isprintable() or _surrogate(ch)) else ch for ch in name)
    cleaned = cleaned.lstrip(".").strip() or "unnamed"
    return cleaned[:MAX_NAME_CHARS]


def reserve_name(folder: Path, name: str, now: datetime) -> Path:
    """Create and return a new empty file in `folder` named for `name` at `now`; never an existing one."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    base = safe_file_name(name)
    for attempt in range(1, 10_000):
        candidate = folder / (f"{stamp}-{base}" if attempt == 1 else f"{stamp}-{attempt}-{base}")
        try:
            descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(descriptor)
        return candidate
    raise FileExistsError(f"{folder}: no free name for {display_name(base)} at {stamp}")


def _escape(ch: str) -> str:
    if _surrogate(ch):  # a byte that was not valid UTF-8 (os.fsdecode keeps it as a surrogate)
        return f"\\x{ord(ch) - 0xDC00:02x}"
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _surrogate(ch: str) -> bool:
    return 0xDC80 <= ord(ch) <= 0xDCFF
