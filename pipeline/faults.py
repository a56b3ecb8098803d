"""Passing faults: what went wrong around a document, not in it, and how long to keep trying.

    passing_fault(exc) -> str | None     a short reason when `exc` (or what caused it) is a passing
                                         fault; None when it is not one
    RetryPolicy(attempts, first_delay, factor, max_delay).delays()   the waits between attempts
    RetryPolicy(...).jittered_delay_after(failures)   one wait, spread at random over its upper half
    retry(work, policy, sleep=time.sleep) -> result of `work()`      with backoff on passing faults

Only the input's own defects reject it (`errors.InputError` -> `rejected`, kept in quarantine).
A passing fault leaves the document where it was, to be tried again: the database locked, busy or
its connection lost (SQLite SQLITE_BUSY/LOCKED/IOERR/FULL/CANTOPEN, any driver's OperationalError
through SQLAlchemy, a connection invalidated), a full disk or an I/O error on our own folders
(ENOSPC, EDQUOT, EIO), the object store unreachable (`errors.PassingFaultError` raised by its
adapter), an OCR worker process or Tesseract killed (`BrokenProcessPool`, a Tesseract run ended by
a signal). Causes are followed (`raise ... from exc`), so an adapter's `StorageError` over an
ENOSPC counts. `Pipeline.process` retries within the run; what is still failing comes out as an
`undone` outcome (exit 12 from `process` and `backfill`); `pipeline watch` keeps retrying.
"""

from __future__ import annotations

import errno
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from pipeline.errors import PassingFaultError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: errno values that say our own disk, not the input, is at fault
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO})
#: SQLite primary result codes of a database that is busy or cannot write now
SQLITE_PASSING = frozenset({5, 6, 10, 13, 14})  # BUSY, LOCKED, IOERR, FULL, CANTOPEN


def passing_fault(exc: BaseException) -> str | None:
    """A short reason (no file names, no PHI) if `exc` or one of its causes is a passing fault."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        reason = _own_reason(current)
        if reason:
            return reason
        current = current.__cause__ or current.__context__
    return None


def _own_reason(exc: BaseException) -> str | None:
    if isinstance(exc, PassingFaultError):
        return exc.message
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None or (code & 0xFF) in SQLITE_PASSING:
            return f"the database is busy or cannot be written ({getattr(exc, 'sqlite_errorname', 'SQLITE')})"
        return None
    if isinstance(exc, OperationalError):
        return f"the database is unreachable or busy ({type(exc.orig).__name__})"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "the database connection was lost"
    if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
        return f"our disk failed ({errno.errorcode.get(exc.errno or 0, exc.errno)}: {exc.strerror})"
    if isinstance(exc, BrokenProcessPool):
        return "an OCR worker process died"
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` tries in all; waits `first_delay`, then `factor` times longer each time, up to `max_delay`."""

    attempts: int = 5
    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 60.0

    def delays(self) -> Iterator[float]:
        """The waits between attempts (`attempts - 1` of them)."""
        delay = self.first_delay
        for _ in range(max(self.attempts - 1, 0)):
            yield min(delay, self.max_delay)
            delay *= self.factor

    def delay_after(self, failures: int) -> float:
        """The wait after `failures` failures in a row (for a loop that never gives up, e.g. `watch`)."""
        return min(self.first_delay * self.factor ** max(failures - 1, 0), self.max_delay)

    def jittered_delay_after(self, failures: int, rng: random.Random | None = None) -> float:
        """`delay_after(failures)` drawn at random from its upper half, so documents hit by one fault
        (a Celery queue's worth of tasks) do not all come back at the same moment."""
        delay = self.delay_after(failures)
        return delay / 2 + (rng or random).uniform(0.0, delay / 2)


def retry(work: Callable[[], T], policy: RetryPolicy, *, sleep: Callable[[float], object] = time.sleep,
          what: str = "work") -> T:
    """Run `work`; on a passing fault wait and run it again, up to `policy.attempts` times in all.
    The last passing fault is raised as it came (the caller turns it into an `undone` outcome);
    anything else is raised at once."""
    for delay in policy.delays():
        try:
            return work()
        except Exception as exc:
            reason = passing_fault(exc)
            if reason is None:
                raise
            log.warning("%s: %s; trying again in %.1f s", what, reason, delay)
            sleep(delay)
    return work()
