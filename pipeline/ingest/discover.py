"""Which files under the paths given are inputs: `iter_inputs(paths)` and `is_candidate(path)`.

Folders are walked recursively in sorted order. Skipped inside folders: hidden files and folders
(`.DS_Store`, `._x`, `.~lock.x#`), files still being written by a copier or browser (`*.part`,
`*.tmp`, `*.crdownload`, ...), Office lock files (`~$x`), editor backups (`x~`), Windows
thumbnails, and the pipeline's own sidecars (`x.reason.txt` beside a quarantined file). A file
named explicitly is always given back: whoever named it meant it. Each file comes out once, even
when named twice or inside a folder also named.

Files are not filtered by suffix: a wrong file is rejected by intake with a reason, not skipped
silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.errors import NotFoundError

log = logging.getLogger(__name__)

PARTIAL_SUFFIXES = frozenset(
    {".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".filepart", ".swp", ".lock"}
)
JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
SIDECAR_SUFFIXES = (".reason.txt",)  # written by the pipeline beside a quarantined file


def is_candidate(path: Path) -> bool:
    """Whether a file found in a folder is an input (see the module docstring for what is not)."""
    name = path.name
    lower = name.lower()
    if name.startswith((".", "~$")) or name.endswith("~"):
        return False
    if lower in JUNK_NAMES or lower.endswith(SIDECAR_SUFFIXES):
        return False
    return Path(lower).suffix not in PARTIAL_SUFFIXES


def iter_inputs(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Each input file under `paths` (files and folders), in order given, folders sorted.

    Raises `NotFoundError` for a path that does not exist.
    """
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = _walk(path)
        elif path.exists():
            found = iter((path,))
        else:
            raise NotFoundError(f"{path}: no such file or folder; check the path")
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                yield file


def _walk(folder: Path) -> Iterator[Path]:
    entries: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=_log_walk_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(root)
        entries.extend(base / name for name in files if is_candidate(base / name))
    entries.sort(key=lambda p: p.relative_to(folder).parts)
    for entry in entries:
        if entry.is_file():  # not a dangling link, fifo or socket
            yield entry


def _log_walk_error(error: OSError) -> None:
    log.warning("%s: cannot be listed (%s); check the folder's permissions", error.filename, error.strerror)
