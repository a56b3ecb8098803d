"""Which failures are passing faults (retried, the input left in place) and the backoff between tries."""

from __future__ import annotations

import errno
import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pipeline.errors import CorruptFileError, PassingFaultError, StorageError, StoreUnreachableError
from pipeline.faults import RetryPolicy, passing_fault, retry


def test_a_locked_sqlite_database_is_a_passing_fault(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    try:
        with pytest.raises(OperationalError) as locked, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        holder.close()
        engine.dispose()
    assert "busy" in passing_fault(locked.value)
    try:  # the same, wrapped by an adapter the way the manifest does (`raise StorageError(...) from exc`)
        raise StorageError("manifest database: insert failed") from locked.value
    except StorageError as wrapped:
        assert passing_fault(wrapped) is not None


def test_our_full_disk_is_a_passing_fault_and_the_inputs_defects_are_not() -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    assert "ENOSPC" in passing_fault(full)
    assert passing_fault(OSError(errno.EACCES, "Permission denied")) is None
    assert passing_fault(CorruptFileError("scan.pdf: the PDF is damaged")) is None
    assert passing_fault(StorageError("object x already exists with other bytes")) is None
    assert passing_fault(StoreUnreachableError("S3 put failed (EndpointConnectionError)")) is not None
    assert StoreUnreachableError.exit_code == PassingFaultError.exit_code == 12
    assert isinstance(StoreUnreachableError("x"), StorageError)


def test_the_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(attempts=6, first_delay=1.0, factor=2.0, max_delay=10.0)
    assert list(policy.delays()) == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert [policy.delay_after(n) for n in (1, 2, 3, 9)] == [1.0, 2.0, 4.0, 10.0]
    assert list(RetryPolicy(attempts=1).delays()) == []


def test_a_jittered_wait_lies_in_the_upper_half_of_the_backoff_and_is_spread() -> None:
    policy = RetryPolicy(first_delay=1.0, max_delay=10.0)
    rng = random.Random(13)
    for failures, delay in ((1, 1.0), (3, 4.0), (9, 10.0)):
        waits = [policy.jittered_delay_after(failures, rng) for _ in range(200)]
        assert all(delay / 2 <= w <= delay for w in waits)
        assert max(waits) - min(waits) > delay / 4  # tasks failed together come back apart


def test_retry_tries_again_on_passing_faults_only() -> None:
    waits: list[float] = []
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return "done"

    assert retry(flaky, RetryPolicy(attempts=5, first_delay=0.5), sleep=waits.append) == "done"
    assert waits == [0.5, 1.0]

    def always_full() -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    waits.clear()
    with pytest.raises(OSError):
        retry(always_full, RetryPolicy(attempts=3, first_delay=0.5), sleep=waits.append)
    assert waits == [0.5, 1.0]  # three tries, then the fault is the caller's to report

    def bad_input() -> str:
        raise CorruptFileError("scan.pdf: damaged")

    waits.clear()
    with pytest.raises(CorruptFileError):
        retry(bad_input, RetryPolicy(attempts=3), sleep=waits.append)
    assert waits == []  # the input's own defect is not retried
