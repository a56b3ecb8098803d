"""The inbox watcher: hand each file dropped into a folder to `handle`, once, when it is complete.

    watch(inbox, handle, settle_seconds=2.0, poll_seconds=0.5, stop=threading.Event())

- Files already in the inbox at start are handled first (sorted), then new ones as watchdog
  reports them (created, modified, moved in), recursively.
- A file is handed over only after its size and modification time have not changed for
  `settle_seconds` (by `clock`): a scan still being copied in, slowly, is never read half-written.
  A file that still looks incomplete then (empty, or a PDF / JPEG / PNG without its end marker:
  `intake.looks_complete`) gets `incomplete_seconds` (default ten times settle, at least 10 s)
  before it is handed over anyway, so a copy that stalls for a while is not rejected as cut short.
- A file is claimed before it is handed over: renamed into the processing area (`processing`,
  default `<inbox>/.processing/`, see `claim.py`), so two watchers (or a watcher and a worker)
  on one inbox never take the same file; `handle` gets the claimed path (same file name). A file
  still there when `handle` returns goes back to its place in the inbox. At start and at every
  rescan, claims left by a watcher that died (even by `kill -9`) are taken over and handled.
- Each file is handled once. If it is still there afterwards and unchanged it is left alone; if
  it is rewritten (another size or mtime) or removed and dropped in again, it is handled again.
- An exception from `handle` is logged with its traceback and the watcher goes on; that file is
  not retried until it changes. A `PassingFaultError` from `handle` (the database locked, the disk
  full: the document could not be processed *now*) puts the file back and hands it over again
  after a backoff (`retry`: 1 s, 2 s, 4 s ... up to a minute), for as long as the watcher runs.
- Hidden, temporary and partial files and our sidecars are ignored (`discover.is_candidate`).
  Symbolic links, FIFOs, devices and sockets are refused, with a warning once per path: never
  opened, never handed over. Log lines at the default level name a file by a hash of its name
(`names.name_tag`: scanners name files after patients); the escaped name is logged at debug level.
- Events can be lost (a full inotify queue, a network share): the folder is rescanned every
  `rescan_seconds` as a safety net. On a share where the OS sends no events at all (NFS, SMB,
  some container mounts) pass `polling=True`: watchdog then compares folder snapshots instead.

`handle` runs in the calling thread, one file at a time; watchdog's observer thread only records
which paths to look at. `stop.set()` ends the loop within `poll_seconds`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from pipeline.errors import NotFoundError, NotRegularFileError, PassingFaultError
from pipeline.ingest import claim
from pipeline.ingest.discover import Refusal, is_candidate, iter_inputs, refusal_reason
from pipeline.ingest.intake import looks_complete
from pipeline.ingest.names import display_name, name_tag

log = logging.getLogger(__name__)

DEFAULT_RESCAN_SECONDS = 30.0
DEFAULT_RETRY = (1.0, 60.0)  # first wait and longest wait after a passing fault; doubles in between


@dataclass(frozen=True, slots=True)
class _Signature:
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Pending:
    signature: _Signature | None  # last seen; None before the first stat
    since: float  # clock() when that signature was first seen
    complete: bool | None = None  # intake.looks_complete for that signature, once asked
    not_before: float = 0.0  # clock() before which it is not handed over (a retry's backoff)


class _Inbox(FileSystemEventHandler):
    """Collects candidate paths from watchdog events (observer thread) for the loop to check."""

    def __init__(self, inbox: Path) -> None:
        super().__init__()
        self._inbox = inbox
        self._lock = threading.Lock()
        self._touched: set[Path] = set()
        self._removed: set[Path] = set()
        self.wakeup = threading.Event()

    def on_created(self, event: FileSystemEvent) -> None:
        self._touch(event.src_path, event.is_directory)

    def on_modified(self, event: FileSystemEvent) -> None:
        self._touch(event.src_path, event.is_directory)

    def on_closed(self, event: FileSystemEvent) -> None:
        self._touch(event.src_path, event.is_directory)

    def on_moved(self, event: FileSystemEvent) -> None:
        self._remove(event.src_path)
        self._touch(event.dest_path, event.is_directory)

    def on_deleted(self, event: FileSystemEvent) -> None:
        self._remove(event.src_path)

    def _touch(self, raw: str | bytes, is_directory: bool) -> None:
        path = Path(os.fsdecode(raw))
        with self._lock:
            if not is_directory:
                self._touched.add(path)
            elif not _hidden_inside(self._inbox, path):  # a folder moved in: its files came with it
                with contextlib.suppress(NotFoundError, NotRegularFileError, OSError):  # gone again already
                    self._touched.update(iter_inputs([path], on_refused=_ignore))
        self.wakeup.set()

    def _remove(self, raw: str | bytes) -> None:
        with self._lock:
            self._removed.add(Path(os.fsdecode(raw)))

    def drain(self) -> tuple[set[Path], set[Path]]:
        with self._lock:
            touched, removed = self._touched, self._removed
            self._touched, self._removed = set(), set()
        return touched, removed


def watch(
    inbox: Path,
    handle: Callable[[Path], None],
    *,
    settle_seconds: float,
    poll_seconds: float,
    stop: threading.Event,
    clock: Callable[[], float] = time.monotonic,
    rescan_seconds: float = DEFAULT_RESCAN_SECONDS,
    polling: bool = False,
    incomplete_seconds: float | None = None,
    processing: Path | None = None,
    retry: tuple[float, float] = DEFAULT_RETRY,
) -> None:
    """Watch `inbox` until `stop` is set, handing each complete file to `handle` once."""
    if settle_seconds < 0 or poll_seconds <= 0:
        raise ValueError("settle_seconds must be >= 0 and poll_seconds > 0")
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    events = _Inbox(inbox)
    observer = PollingObserver(timeout=max(poll_seconds, 0.1)) if polling else Observer()
    observer.schedule(events, str(inbox), recursive=True)
    observer.start()  # before the first scan, so nothing dropped in between is missed
    try:
        patience = incomplete_seconds if incomplete_seconds is not None else max(10 * settle_seconds, 10.0)
        area = processing or claim.area_for(inbox)
        loop = _Loop(inbox, handle, settle_seconds, patience, clock, events, area)
        loop.retry_first, loop.retry_max = retry
        loop.run(stop, poll_seconds, rescan_seconds)
    finally:
        observer.stop()
        observer.join(timeout=10)


class _Loop:
    def __init__(
        self,
        inbox: Path,
        handle: Callable[[Path], None],
        settle_seconds: float,
        incomplete_seconds: float,
        clock: Callable[[], float],
        events: _Inbox,
        area: Path,
    ) -> None:
        self.inbox = inbox
        self.area = area
        self.refused: set[Path] = set()
        self.handle = handle
        self.settle = settle_seconds
        self.patience = max(incomplete_seconds, settle_seconds)
        self.clock = clock
        self.events = events
        self.pending: dict[Path, _Pending] = {}
        self.handled: dict[Path, _Signature] = {}
        self.failures: dict[Path, int] = {}  # passing faults in a row, per file
        self.retry_first, self.retry_max = DEFAULT_RETRY

    def run(self, stop: threading.Event, poll_seconds: float, rescan_seconds: float) -> None:
        self._take_over_stale(stop)
        self._add(self._scan())
        log.info("inbox %s: %d file(s) already there", self.inbox, len(self.pending))
        next_rescan = self.clock() + rescan_seconds
        while not stop.is_set():
            self.events.wakeup.clear()  # before draining: an event after this wakes the wait below
            touched, removed = self.events.drain()
            for path in removed:  # a file claimed and put back unchanged is still the one handled
                if path in self.handled and _stat(path) != self.handled[path]:
                    del self.handled[path]
                self.pending.pop(path, None)
            self._add(p for p in touched if self._wanted(p))
            if self.clock() >= next_rescan:
                self._forget_vanished()
                self._take_over_stale(stop)
                self._add(self._scan())
                next_rescan = self.clock() + rescan_seconds
            self._check_pending(stop)
            self.events.wakeup.wait(poll_seconds)

    def _wanted(self, path: Path) -> bool:
        return is_candidate(path) and not _hidden_inside(self.inbox, path.parent)

    def _scan(self) -> Iterable[Path]:
        if not self.inbox.is_dir():
            return ()
        return iter_inputs([self.inbox], follow_symlinks=True, on_refused=self._refuse)

    def _refuse(self, refusal: Refusal) -> None:
        if refusal.path not in self.refused:
            self.refused.add(refusal.path)
            log.warning("inbox: %s refused: %s", name_tag(refusal.path), refusal.reason)
            log.debug("inbox: %s is %s", name_tag(refusal.path), display_name(refusal.path))

    def _take_over_stale(self, stop: threading.Event) -> None:
        for held in claim.stale(self.area):
            if stop.is_set():
                held.release()
                continue
            self._handle_claimed(held)

    def _add(self, paths: Iterable[Path]) -> None:
        now = self.clock()
        for path in paths:
            if path not in self.pending:
                self.pending[path] = _Pending(None, now)

    def _check_pending(self, stop: threading.Event) -> None:
        for path in sorted(self.pending):
            if stop.is_set():
                return
            signature = _stat(path)
            if signature is None:  # gone (moved away, deleted) or not a regular file
                self.pending.pop(path)
                self.handled.pop(path, None)
                reason = refusal_reason(path)
                if reason:
                    self._refuse(Refusal(path, reason))
                continue
            if self.handled.get(path) == signature:
                self.pending.pop(path)  # a late event for a file already handled, unchanged
                continue
            state = self.pending[path]
            now = self.clock()
            if now < state.not_before:
                continue  # waiting to be retried after a passing fault
            if state.signature != signature:
                state.signature, state.since, state.complete = signature, now, None
                continue
            if now - state.since < self.settle:
                continue
            if state.complete is None:
                state.complete = looks_complete(path)
            if not state.complete and now - state.since < self.patience:
                continue  # a stalled copy, most likely: give it longer
            if not state.complete:
                log.info("inbox: %s still looks incomplete after %.0f s; handing it over",
                         name_tag(path), self.patience)
            self.pending.pop(path)
            self.handled[path] = signature
            self._handle(path)
            after = _stat(path)
            if after is None:
                self.handled.pop(path, None)

    def _handle(self, path: Path) -> None:
        held = claim.take(path, self.area)
        if held is None:
            log.info("inbox: %s was taken by another watcher or worker", name_tag(path))
            return
        self._handle_claimed(held)

    def _handle_claimed(self, held: claim.Claim) -> None:
        tag = name_tag(held.path)
        log.info("inbox: handling %s", tag)
        log.debug("inbox: %s is %s", tag, display_name(held.path))
        fault: PassingFaultError | None = None
        try:
            self.handle(held.path)
        except PassingFaultError as exc:
            fault = exc
        except Exception:  # noqa: BLE001 - one bad file must not stop the watcher
            log.exception("inbox: handling %s failed; it will not be retried until it changes", tag)
        finally:
            back = held.release()
        if back is None:  # the handler moved or removed it: done
            self.failures.pop(held.origin, None)
            return
        if fault is None:  # left by the handler: put back, and not handed over again unchanged
            self.failures.pop(back, None)
            signature = _stat(back)
            if signature is not None:
                self.handled[back] = signature
            return
        failures = self.failures[back] = self.failures.get(back, 0) + 1
        delay = min(self.retry_first * 2 ** (failures - 1), self.retry_max)
        log.warning("inbox: %s left in the inbox (%s); trying again in %.0f s", tag, fault.message, delay)
        self.handled.pop(back, None)
        now = self.clock()
        self.pending[back] = _Pending(None, now, not_before=now + delay)

    def _forget_vanished(self) -> None:
        for path in [p for p in self.handled if not p.exists()]:
            del self.handled[path]


def _stat(path: Path) -> _Signature | None:
    """Size and mtime of a regular file (a link is not followed); None for anything else."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return _Signature(info.st_size, info.st_mtime_ns)


def _hidden_inside(inbox: Path, path: Path) -> bool:
    """Whether `path` is outside the inbox or in (or is) a hidden folder of it, such as the processing area."""
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        return True
    return any(part.startswith(".") for part in parts)


def _ignore(refusal: Refusal) -> None:
    """Refusals seen in the observer thread: the loop's own scan reports them."""
