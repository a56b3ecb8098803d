"""Claiming an input: an atomic rename into a processing area, so each file is taken once.

    claim = take(path, area)            # None: another watcher or worker took it first
    ... handle(claim.path) ...          # the file, under its own name, inside the area
    claim.release()                     # a file still there goes back where it came from

The area (`<inbox>/.processing/` for the watcher: hidden, so walks skip it, and on the inbox's
file system, so the rename is atomic; removed again when idle) holds one folder per claim with
the file and a `.claim` file. The `.claim` file is locked (flock) for as long as the claim is held; the kernel drops the
lock when its process dies, even by `kill -9`. `stale(area)` takes over the claims whose owner
died: a restart finds what was in flight and hands it on again (the pipeline's SHA-256 duplicate
check makes a second pass over an already-filed document a `duplicate`, never a second copy).

Only regular files are claimed: a name swapped for a symbolic link between the look and the
rename is put back and refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.ingest.names import display_name, name_tag

log = logging.getLogger(__name__)

PROCESSING_DIR = ".processing"
CLAIM_FILE = ".claim"


@dataclass(slots=True)
class Claim:
    """A file held in the processing area by this process."""

    path: Path  # where the file is now
    origin: Path  # where it was found
    folder: Path  # the claim's own folder in the area
    _lock: int  # the open, locked `.claim` file

    def release(self) -> Path | None:
        """End the claim. A file still in the area goes back to `origin` (or a free name beside
        it); returns where it went, None when the handler moved or removed it."""
        back: Path | None = None
        try:
            if self.path.exists() or self.path.is_symlink():
                back = _free_beside(self.origin)
                back.parent.mkdir(parents=True, exist_ok=True)
                os.rename(self.path, back)
            for leftover in self.folder.iterdir():
                if leftover.name != CLAIM_FILE:
                    log.warning("processing area: %s left in %s; removing it", name_tag(leftover),
                                self.folder.name)
                    leftover.unlink()
            (self.folder / CLAIM_FILE).unlink(missing_ok=True)
            self.folder.rmdir()
            with contextlib.suppress(OSError):  # the area goes when idle: an empty inbox looks empty
                self.folder.parent.rmdir()
        finally:
            os.close(self._lock)
        return back

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def area_for(inbox: Path) -> Path:
    return Path(inbox) / PROCESSING_DIR


def take(path: Path, area: Path) -> Claim | None:
    """Claim `path` by renaming it into `area`; None when it is gone (another claimer won) or is
    not a regular file. `area` must be on the same file system as `path`."""
    path = Path(path)
    folder = area / f"{os.getpid()}-{secrets.token_hex(6)}"
    for attempt in range(5):
        try:
            folder.mkdir(parents=True)
            break
        except FileNotFoundError:  # another claimer removed the idle area between our two mkdirs
            if attempt == 4:
                raise
    lock = _lock_new(folder, path)
    target = folder / path.name
    try:
        os.rename(path, target)
    except FileNotFoundError:
        _abandon(folder, lock)
        return None
    except BaseException:
        _abandon(folder, lock)
        raise
    claim = Claim(target, path, folder, lock)
    if not stat.S_ISREG(os.lstat(target).st_mode):
        log.warning("%s: not a regular file (a link or device put in its place); left where it was",
                    name_tag(path))
        claim.release()
        return None
    return claim


def stale(area: Path) -> Iterator[Claim]:
    """Claims in `area` whose owner is gone, each now held by this process (oldest folder first)."""
    if not area.is_dir():
        return
    for folder in sorted(area.iterdir()):
        if not folder.is_dir() or folder.is_symlink():
            continue
        claim = _take_over(folder)
        if claim is not None:
            yield claim


def _take_over(folder: Path) -> Claim | None:
    try:
        lock = os.open(folder / CLAIM_FILE, os.O_RDWR | os.O_NOFOLLOW)
    except FileNotFoundError:  # its owner died before writing the claim file: nothing was moved in
        with contextlib.suppress(OSError):
            folder.rmdir()
        return None
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)  # held: its owner is alive
        return None
    try:
        with os.fdopen(os.dup(lock), "r", encoding="utf-8") as handle:
            origin = Path(json.load(handle)["origin"])
    except (OSError, ValueError, KeyError, TypeError):
        origin = folder.parent.parent / "recovered"
    files = [p for p in folder.iterdir() if p.name != CLAIM_FILE]
    path = files[0] if files else folder / origin.name
    log.info("processing area: taking over %s from a stopped run", name_tag(path))
    return Claim(path, origin, folder, lock)


def _lock_new(folder: Path, origin: Path) -> int:
    lock = os.open(folder / CLAIM_FILE, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(lock, json.dumps({"origin": os.fsdecode(origin), "pid": os.getpid()}).encode("utf-8", "surrogateescape"))
    return lock


def _abandon(folder: Path, lock: int) -> None:
    with contextlib.suppress(OSError):
        (folder / CLAIM_FILE).unlink()
        folder.rmdir()
    os.close(lock)


def _free_beside(origin: Path) -> Path:
    if not (origin.exists() or origin.is_symlink()):
        return origin
    for n in range(2, 10_000):
        candidate = origin.with_name(f"{origin.stem} ({n}){origin.suffix}")
        if not (candidate.exists() or candidate.is_symlink()):
            return candidate
    raise FileExistsError(f"no free name beside {display_name(origin)}")
