"""The start-up sweep of the work folder: scratch left by a run that was killed.

    sweep_scratch(work_dir, older_than=STALE_SCRATCH_SECONDS) -> list of what was removed

Each document is OCR'd in its own scratch folder under `<home>/work/` (`doc-*`, with the OCR
engine's `ocr-*` and the searchable PDF inside), removed when the document is done. A run killed
by `kill -9` or a power cut leaves its folder behind for good. At start a command calls
`sweep_scratch`: a top-level entry of the work folder in which nothing has changed for
`older_than` seconds is removed. A live document writes into its folder at least once a page
(a page may take `ocr_page_timeout`, 120 s by default), so the default hour leaves the work of a
second process sharing the folder alone. Links are removed, never followed.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import time
from pathlib import Path

from pipeline.ingest.names import display_name

log = logging.getLogger(__name__)

STALE_SCRATCH_SECONDS = 3600.0


def sweep_scratch(work_dir: Path, older_than: float = STALE_SCRATCH_SECONDS, *,
                  now: float | None = None) -> list[Path]:
    """Remove the entries of `work_dir` untouched for `older_than` seconds; return them."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - older_than
    removed: list[Path] = []
    for entry in sorted(work_dir.iterdir()):
        try:
            if _newest_change(entry) > cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # its owner finished and removed it meanwhile
        except OSError as exc:
            log.warning("work folder: cannot remove %s (%s)", display_name(entry), exc.strerror)
            continue
        removed.append(entry)
    if removed:
        log.info("work folder: removed %d stale scratch entr%s left by a stopped run",
                 len(removed), "y" if len(removed) == 1 else "ies")
    return removed


def _newest_change(entry: Path) -> float:
    """The latest modification time of `entry` and everything under it (links not followed)."""
    info = os.lstat(entry)
    newest = info.st_mtime
    if stat.S_ISDIR(info.st_mode):
        for root, dirs, files in os.walk(entry):
            for name in dirs + files:
                try:
                    child = os.lstat(os.path.join(root, name))
                except FileNotFoundError:
                    continue
                newest = max(newest, child.st_mtime)
    return newest
