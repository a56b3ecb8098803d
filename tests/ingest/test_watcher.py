"""The inbox watcher, driven by a real watchdog observer; waits are polls with a deadline."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.errors import PassingFaultError
from pipeline.ingest.names import name_tag
from pipeline.ingest.watcher import watch

DEADLINE = 10.0  # seconds; generous for a loaded CI machine, met in well under one normally


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        tick.wait(0.02)


class FakeClock:
    """Monotonic time that moves only when the test says so."""

    def __init__(self) -> None:
        self._now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass
class Recorder:
    """The handler: records (name, size when read, bytes) per call."""

    calls: list[tuple[str, int, bytes]] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)
    delete: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, path: Path) -> None:
        data = path.read_bytes()
        with self.lock:
            self.calls.append((path.name, len(data), data))
        if path.name in self.fail_on:
            raise RuntimeError(f"cannot process {path.name}")
        if self.delete:
            path.unlink()

    def names(self) -> list[str]:
        with self.lock:
            return [name for name, _, _ in self.calls]


@pytest.fixture
def run_watcher(tmp_path: Path) -> Iterator[Callable[..., tuple[Path, Recorder]]]:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(recorder: Recorder | None = None, *, settle: float = 0.15, clock=time.monotonic,
              before: Callable[[Path], None] | None = None, polling: bool = False,
              incomplete: float | None = None) -> tuple[Path, Recorder]:
        inbox = tmp_path / "inbox"
        inbox.mkdir(exist_ok=True)
        if before:
            before(inbox)
        recorder = recorder or Recorder()
        thread = threading.Thread(
            target=watch,
            args=(inbox, recorder),
            kwargs={"settle_seconds": settle, "poll_seconds": 0.02, "stop": stop, "clock": clock,
                    "polling": polling, "incomplete_seconds": incomplete},
            daemon=True,
        )
        thread.start()
        threads.append(thread)
        return inbox, recorder

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=DEADLINE)
        assert not thread.is_alive(), "the watcher did not stop when asked"


def test_files_already_there_are_handled_and_junk_is_skipped(run_watcher) -> None:
    def before(inbox: Path) -> None:
        for name in ("b.pdf", "a.png", ".DS_Store", "half.pdf.part", "~$lock.docx", "x.pdf.reason.txt"):
            (inbox / name).write_bytes(b"data " + name.encode())
        (inbox / "sub").mkdir()
        (inbox / "sub" / "c.tif").write_bytes(b"tiff")
        (inbox / ".hidden").mkdir()
        (inbox / ".hidden" / "d.pdf").write_bytes(b"hidden")

    inbox, recorder = run_watcher(before=before)
    wait_for(lambda: len(recorder.names()) >= 3, "the three files already there")
    # a new, real file afterwards proves the watcher kept going without picking up the junk
    (inbox / "z.pdf").write_bytes(b"new")
    wait_for(lambda: "z.pdf" in recorder.names(), "z.pdf")
    assert recorder.names() == ["a.png", "b.pdf", "c.tif", "z.pdf"]


def test_new_and_moved_in_files_are_handled_once(run_watcher, tmp_path) -> None:
    inbox, recorder = run_watcher()
    (inbox / "one.pdf").write_bytes(b"1")
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"22")
    outside.rename(inbox / "moved.pdf")
    staging = inbox / "atomic.pdf.part"  # the copy-then-rename pattern: only the final name counts
    staging.write_bytes(b"333")
    staging.rename(inbox / "atomic.pdf")
    wait_for(lambda: len(recorder.names()) >= 3, "three files")
    # touching a handled file without changing it does not hand it over again
    (inbox / "one.pdf").open("ab").close()
    (inbox / "marker.pdf").write_bytes(b"m")
    wait_for(lambda: "marker.pdf" in recorder.names(), "marker.pdf")
    assert sorted(recorder.names()) == ["atomic.pdf", "marker.pdf", "moved.pdf", "one.pdf"]


def test_a_slowly_copied_file_is_read_only_when_complete(run_watcher) -> None:
    clock = FakeClock()
    inbox, recorder = run_watcher(settle=5.0, clock=clock)
    target = inbox / "slow.pdf"
    pause = threading.Event()  # never set: a pause of the simulated copier, not a wait for a result
    chunks = [bytes([i]) * 1000 for i in range(12)]
    with target.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            handle.flush()
            clock.advance(2.0)  # the copier pauses, but never as long as settle_seconds...
            pause.wait(0.03)  # ...and is slow in real time too, so the watcher looks mid-copy
            assert recorder.names() == [], "read while still being written"
    wait_for(lambda: recorder.names() == ["slow.pdf"] or (clock.advance(1.0) and False), "slow.pdf")
    _, size, data = recorder.calls[0]
    assert size == 12_000 and data == b"".join(chunks)


def test_nothing_is_handed_over_before_settle_seconds(run_watcher) -> None:
    clock = FakeClock()
    inbox, recorder = run_watcher(settle=30.0, clock=clock)
    (inbox / "fresh.pdf").write_bytes(b"x")
    (inbox / "probe.pdf").write_bytes(b"y")
    clock.advance(29.0)
    # give the loop real time to look at the files several times: still nothing
    threading.Event().wait(0.3)
    assert recorder.names() == []
    wait_for(lambda: len(recorder.names()) == 2 or (clock.advance(1.0) and False), "both files")


def test_a_copy_that_stalls_part_way_is_given_longer(run_watcher) -> None:
    clock = FakeClock()
    inbox, recorder = run_watcher(settle=5.0, clock=clock, incomplete=1000.0)
    half = inbox / "a_stalled.pdf"
    half.write_bytes(b"%PDF-1.4\n" + b"x" * 5000)  # no startxref / %%EOF yet
    (inbox / "a_empty.pdf").write_bytes(b"")
    # a complete file sorted after them: once it is handled, the loop has looked at all three
    (inbox / "z_probe.pdf").write_bytes(b"%PDF-1.4\nstartxref\n0\n%%EOF\n")
    wait_for(lambda: "z_probe.pdf" in recorder.names() or (clock.advance(1.0) and False), "the probe")
    clock.advance(300.0)  # well past settle, far short of the 1000 s patience
    (inbox / "zz_probe.pdf").write_bytes(b"%PDF-1.4\nstartxref\n0\n%%EOF\n")
    wait_for(lambda: "zz_probe.pdf" in recorder.names() or (clock.advance(1.0) and False), "the second probe")
    assert sorted(recorder.names()) == ["z_probe.pdf", "zz_probe.pdf"]
    with half.open("ab") as handle:  # the copy resumes and finishes
        handle.write(b"\nstartxref\n0\n%%EOF\n")
    wait_for(lambda: "a_stalled.pdf" in recorder.names() or (clock.advance(1.0) and False), "the finished copy")
    assert recorder.calls[-1][2].endswith(b"%%EOF\n")
    # the empty file never grows: after the patience it goes to the handler anyway (intake rejects it)
    wait_for(lambda: "a_empty.pdf" in recorder.names() or (clock.advance(100.0) and False), "the empty file")
    assert recorder.names().count("a_empty.pdf") == 1


def test_a_failing_handler_is_logged_and_the_watcher_goes_on(run_watcher, caplog) -> None:
    caplog.set_level(logging.ERROR, logger="pipeline.ingest.watcher")
    inbox, recorder = run_watcher(Recorder(fail_on={"bad.pdf"}))
    (inbox / "bad.pdf").write_bytes(b"bad")
    wait_for(lambda: "bad.pdf" in recorder.names(), "bad.pdf")
    (inbox / "good.pdf").write_bytes(b"good")
    wait_for(lambda: "good.pdf" in recorder.names(), "good.pdf")
    assert recorder.names().count("bad.pdf") == 1  # not retried while unchanged
    failures = [r for r in caplog.records if name_tag("bad.pdf") in r.getMessage()]
    assert failures and failures[0].exc_info is not None
    assert not [r for r in caplog.records if "bad.pdf" in r.getMessage()]  # the name itself is not logged


@dataclass
class FlakyRecorder(Recorder):
    """Raises a passing fault for the first `faults` calls on a file, then removes it (done);
    records the (fake) time of each call."""

    faults: int = 2
    clock: FakeClock = field(default_factory=FakeClock)
    times: list[float] = field(default_factory=list)

    def __call__(self, path: Path) -> None:
        with self.lock:
            self.calls.append((path.name, path.stat().st_size, path.read_bytes()))
            self.times.append(self.clock())
            seen = len(self.calls)
        if seen <= self.faults:
            raise PassingFaultError("the database is locked")
        path.unlink()


def test_a_passing_fault_puts_the_file_back_and_it_is_retried_with_backoff(run_watcher, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="pipeline.ingest.watcher")
    clock = FakeClock()
    inbox, recorder = run_watcher(FlakyRecorder(faults=2, clock=clock), clock=clock)
    (inbox / "scan.pdf").write_bytes(b"%PDF-1.4 scan %%EOF")
    wait_for(lambda: recorder.names() == ["scan.pdf"] or (clock.advance(0.05) and False), "the first try")
    assert (inbox / "scan.pdf").read_bytes() == b"%PDF-1.4 scan %%EOF"  # back in the inbox, untouched
    wait_for(lambda: len(recorder.names()) == 3 or (clock.advance(0.05) and False), "two retries")
    wait_for(lambda: not (inbox / "scan.pdf").exists(), "the file to be done")
    first, second, third = recorder.times
    assert second - first >= 1.0 and third - second >= 2.0  # not before the backoff, which doubles
    waits = [r.getMessage() for r in caplog.records if "trying again in" in r.getMessage()]
    assert [w.rsplit("trying again in ", 1)[1] for w in waits] == ["1 s", "2 s"]  # doubling backoff


def test_a_file_dropped_again_after_removal_is_handled_again(run_watcher) -> None:
    inbox, recorder = run_watcher(Recorder(delete=True))
    (inbox / "again.pdf").write_bytes(b"first")
    wait_for(lambda: recorder.names() == ["again.pdf"], "the first drop")
    wait_for(lambda: not (inbox / "again.pdf").exists(), "the handler's delete")
    (inbox / "again.pdf").write_bytes(b"second drop")
    wait_for(lambda: len(recorder.names()) == 2, "the second drop")
    assert [data for _, _, data in recorder.calls] == [b"first", b"second drop"]


def test_a_folder_moved_in_whole_brings_its_files(run_watcher, tmp_path) -> None:
    inbox, recorder = run_watcher()
    batch = tmp_path / "batch_0007"
    (batch / "part2").mkdir(parents=True)
    (batch / "a.pdf").write_bytes(b"a")
    (batch / "part2" / "b.tif").write_bytes(b"b")
    (batch / ".DS_Store").write_bytes(b"junk")
    batch.rename(inbox / "batch_0007")
    wait_for(lambda: len(recorder.names()) >= 2, "the batch's two files")
    (inbox / "after.pdf").write_bytes(b"c")
    wait_for(lambda: "after.pdf" in recorder.names(), "after.pdf")
    assert sorted(recorder.names()) == ["a.pdf", "after.pdf", "b.tif"]


def test_polling_observer_for_shares_without_events(run_watcher, tmp_path) -> None:
    inbox, recorder = run_watcher(polling=True)
    (inbox / "share.pdf").write_bytes(b"from a share")
    moved = tmp_path / "elsewhere.png"
    moved.write_bytes(b"png")
    moved.rename(inbox / "moved.png")
    wait_for(lambda: sorted(recorder.names()) == ["moved.png", "share.pdf"], "both files via polling")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        watch(Path("/tmp"), print, settle_seconds=-1, poll_seconds=0.1, stop=threading.Event())


def test_links_fifos_and_sockets_in_the_inbox_are_refused_once_and_never_read(run_watcher, tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="pipeline.ingest.watcher")
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"someone else's scan")

    def before(inbox: Path) -> None:
        (inbox / "already_link.pdf").symlink_to(secret)

    inbox, recorder = run_watcher(before=before)
    (inbox / "new_link.pdf").symlink_to("/etc/passwd")
    os.mkfifo(inbox / "pipe.pdf")
    (inbox / "real.pdf").write_bytes(b"real")
    wait_for(lambda: "real.pdf" in recorder.names(), "the real file")
    wait_for(lambda: len([r for r in caplog.records if "refused" in r.getMessage()]) >= 3, "three refusals")
    (inbox / "later.pdf").write_bytes(b"later")
    wait_for(lambda: "later.pdf" in recorder.names(), "a later file")
    assert sorted(recorder.names()) == ["later.pdf", "real.pdf"]
    refusals = sorted(r.getMessage() for r in caplog.records if "refused" in r.getMessage())
    link = "refused: is a symbolic link; links are not followed inside folders: put the file itself there"
    fifo = "refused: is a FIFO (named pipe), not a file; only scan files are taken"
    # named by a hash of the name (scanners name files after patients); the name itself at debug level
    assert refusals == sorted([f"inbox: {name_tag('already_link.pdf')} {link}",
                               f"inbox: {name_tag('new_link.pdf')} {link}", f"inbox: {name_tag('pipe.pdf')} {fifo}"])
    assert (inbox / "already_link.pdf").is_symlink() and (inbox / "pipe.pdf").exists()  # left alone
