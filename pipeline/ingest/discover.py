"""Which files under the paths given are inputs: `iter_inputs(paths)` and `is_candidate(path)`.

Folders are walked recursively in sorted order. Skipped inside folders: hidden files and folders
(`.DS_Store`, `._x`, `.~lock.x#`), files still being written by a copier or browser (`*.part`,
`*.tmp`, `*.crdownload`, ...), Office lock files (`~$x`), editor backups (`x~`), Windows
thumbnails, and the pipeline's own sidecars (`x.reason.txt` beside a quarantined file). A file
named explicitly is always given back: whoever named it meant it. Each file comes out once, even
when named twice or inside a folder also named.

Files are not filtered by suffix: a wrong file is rejected by intake with a reason, not skipped
silently.

Only regular files are inputs. Inside folders, symbolic links (to files or folders) and FIFOs,
devices and sockets are refused: each is reported (`on_refused`, by default a warning naming it
and why) and never opened, so a link to `/etc/passwd` or to a file outside the archive is not
read, filed or copied into quarantine. A path named explicitly that is not a regular file or
folder raises `NotRegularFileError`; one that is a symbolic link too, unless `follow_symlinks`
(for a command line's `--follow-symlinks`), when the path it points to is given back instead.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import NotFoundError, NotRegularFileError
from pipeline.ingest.names import display_name

log = logging.getLogger(__name__)

PARTIAL_SUFFIXES = frozenset(
    {".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".filepart", ".swp", ".lock"}
)
JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
SIDECAR_SUFFIXES = (".reason.txt",)  # written by the pipeline beside a quarantined file


@dataclass(frozen=True, slots=True)
class Refusal:
    """A path found in a folder that is not taken as an input, and why."""

    path: Path
    reason: str


def is_candidate(path: Path) -> bool:
    """Whether a file found in a folder is an input (see the module docstring for what is not)."""
    name = path.name
    lower = name.lower()
    if name.startswith((".", "~$")) or name.endswith("~"):
        return False
    if lower in JUNK_NAMES or lower.endswith(SIDECAR_SUFFIXES):
        return False
    return Path(lower).suffix not in PARTIAL_SUFFIXES


def iter_inputs(
    paths: Iterable[Path | str],
    *,
    follow_symlinks: bool = False,
    on_refused: Callable[[Refusal], None] | None = None,
) -> Iterator[Path]:
    """Each input file under `paths` (files and folders), in order given, folders sorted.

    Raises `NotFoundError` for a path that does not exist and `NotRegularFileError` for one that
    is neither a regular file nor a folder (or is a link, without `follow_symlinks`).
    """
    refused = on_refused or _log_refusal
    seen: set[Path] = set()
    for given in paths:
        path = _explicit(Path(given), follow_symlinks)
        found = _walk(path, refused) if path.is_dir() else iter((path,))
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file


def refusal_reason(path: Path) -> str | None:
    """Why a path found in a folder is not an input (None for a regular file). Never follows links."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link; links are not followed inside folders: put the file itself there"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return f"is {_kind(mode)}, not a file; only scan files are taken"


def _explicit(path: Path, follow_symlinks: bool) -> Path:
    if path.is_symlink():
        if not path.exists():
            raise NotFoundError(f"{path}: a symbolic link to nothing; check the path")
        if not follow_symlinks:
            raise NotRegularFileError(
                f"{path}: is a symbolic link (to {path.resolve()})",
                hint="name the file it points to instead")
        path = path.resolve()
    elif not path.exists():
        raise NotFoundError(f"{path}: no such file or folder; check the path")
    mode = path.stat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise NotRegularFileError(f"{path}: is {_kind(mode)}, not a scan file",
                                  hint="name a PDF, TIFF, PNG or JPEG file or a folder of them")
    return path


def _walk(folder: Path, refused: Callable[[Refusal], None]) -> Iterator[Path]:
    entries: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=_log_walk_error):
        base = Path(root)
        for name in [d for d in dirs if (base / d).is_symlink()]:
            dirs.remove(name)
            if not name.startswith("."):
                refused(Refusal(base / name, "is a symbolic link to a folder; links are not followed"))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = base / name
            if not is_candidate(path):
                continue
            reason = refusal_reason(path)
            if reason is None:
                entries.append(path)
            else:
                refused(Refusal(path, reason))
    entries.sort(key=lambda p: p.relative_to(folder).parts)
    yield from entries


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _log_refusal(refusal: Refusal) -> None:
    log.warning("%s: refused: %s", display_name(refusal.path), refusal.reason)


def _log_walk_error(error: OSError) -> None:
    log.warning("%s: cannot be listed (%s); check the folder's permissions",
                display_name(Path(os.fsdecode(error.filename or ""))), error.strerror)
