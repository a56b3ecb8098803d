"""Claims: an atomic rename into the processing area; two watchers take each file once; a claim
left by a watcher killed with `kill -9` is taken over by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from pipeline.ingest import claim

DEADLINE = 30.0
ROOT = Path(__file__).parents[2]


def _wait_for(condition, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling with a deadline, not a wait for a result


def test_a_claim_moves_the_file_and_release_puts_back_what_is_left(tmp_path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    scan = inbox / "sub" / "scan.pdf"
    scan.write_bytes(b"scan")
    area = claim.area_for(inbox)
    held = claim.take(scan, area)
    assert held is not None and not scan.exists()
    assert held.path.name == "scan.pdf" and held.path.read_bytes() == b"scan" and held.path.parent.parent == area
    assert claim.take(scan, area) is None  # already taken: the second claimer gets nothing
    assert list(claim.stale(area)) == []  # held by a live owner (this process): not stale
    scan.write_bytes(b"a new scan dropped under the same name meanwhile")
    back = held.release()
    assert back == inbox / "sub" / "scan (2).pdf" and back.read_bytes() == b"scan"
    assert not area.exists()  # removed when idle


def test_a_file_the_handler_moved_away_is_not_put_back(tmp_path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"x")
    with claim.take(scan, tmp_path / ".processing") as held:
        held.path.unlink()
    assert not scan.exists() and not (tmp_path / ".processing").exists()


def test_a_link_swapped_in_is_not_claimed(tmp_path) -> None:
    (tmp_path / "scan.pdf").symlink_to("/etc/passwd")
    assert claim.take(tmp_path / "scan.pdf", tmp_path / ".processing") is None
    assert (tmp_path / "scan.pdf").is_symlink()  # left where it was, as it was


# ------------------------------------------------------------------------ real processes

WATCHER = textwrap.dedent("""
    import os, sys, threading, time
    from pathlib import Path
    from pipeline.ingest.watcher import watch

    inbox, log, hang_on = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    stop = threading.Event()

    def handle(path):
        data = path.read_bytes()
        if path.name == hang_on:
            with open(log, "a") as out:
                out.write(f"hanging {path.name} {os.getpid()}\\n")
            threading.Event().wait()  # stuck mid-document until killed
        time.sleep(0.01)  # a little work, so the other watcher gets its share
        with open(log, "a") as out:  # O_APPEND: one line per write, never interleaved
            out.write(f"{path.name} {os.getpid()} {len(data)}\\n")
        path.unlink()  # done with it, as the pipeline removes a filed scan

    with open(log, "a") as out:
        out.write(f"ready {os.getpid()}\\n")
    watch(inbox, handle, settle_seconds=0.05, poll_seconds=0.02, stop=stop, rescan_seconds=0.5)
""")


def _watcher(inbox: Path, log: Path, hang_on: str = "") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WATCHER, str(inbox), str(log), hang_on],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL)


def _lines(log: Path) -> list[list[str]]:
    """The handled lines (file, pid, size); `ready` and `hanging` lines left out."""
    lines = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return [f for f in lines if f[0] not in ("ready", "hanging")]


def _said(log: Path, word: str) -> int:
    return sum(line.startswith(word + " ") for line in log.read_text().splitlines()) if log.exists() else 0


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=DEADLINE)


@pytest.mark.integration
def test_two_watchers_on_one_inbox_take_each_file_once(tmp_path) -> None:
    inbox, log = tmp_path / "inbox", tmp_path / "handled.log"
    inbox.mkdir()
    watchers = [_watcher(inbox, log), _watcher(inbox, log)]
    try:
        _wait_for(lambda: _said(log, "ready") == 2, "both watchers to start")
        names = [f"scan_{i:03d}.pdf" for i in range(60)]
        for i, name in enumerate(names):  # dropped the way a scanner does: written, then renamed in
            staging = inbox / f".{name}.part"
            staging.write_bytes(b"x" * (i + 1))
            staging.rename(inbox / name)
        _wait_for(lambda: len(_lines(log)) >= len(names), "every file handled")
        time.sleep(1.0)  # two rescans more: nothing may be handled twice late
        handled = Counter(fields[0] for fields in _lines(log))
        assert handled == Counter(names)
        sizes = {fields[0]: int(fields[2]) for fields in _lines(log)}
        assert all(sizes[name] == i + 1 for i, name in enumerate(names))  # each read whole
        assert len({fields[1] for fields in _lines(log)}) == 2, "both watchers should have taken some"
        assert not claim.area_for(inbox).exists()
    finally:
        _stop(*watchers)


@pytest.mark.integration
def test_a_claim_left_by_a_killed_watcher_is_taken_over_once(tmp_path) -> None:
    inbox, log = tmp_path / "inbox", tmp_path / "handled.log"
    inbox.mkdir()
    first = _watcher(inbox, log, hang_on="stuck.pdf")
    second = None
    try:
        (inbox / "stuck.pdf").write_bytes(b"in flight")
        _wait_for(lambda: _said(log, "hanging") == 1, "the first watcher to take the file")
        assert not (inbox / "stuck.pdf").exists()  # in the processing area, claimed
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=DEADLINE)
        second = _watcher(inbox, log)
        _wait_for(lambda: any(f[0] == "stuck.pdf" for f in _lines(log)), "the restart to take it over")
        (inbox / "after.pdf").write_bytes(b"later")
        _wait_for(lambda: any(f[0] == "after.pdf" for f in _lines(log)), "a later file")
        done = _lines(log)
        assert sorted(f[0] for f in done) == ["after.pdf", "stuck.pdf"]
        assert [f for f in done if f[0] == "stuck.pdf"][0][1:] == [str(second.pid), str(len(b"in flight"))]
        assert not claim.area_for(inbox).exists()
    finally:
        _stop(first, *([second] if second else []))


def test_a_claim_folder_its_owner_died_before_locking_is_cleared(tmp_path) -> None:
    area = tmp_path / ".processing"
    (area / "4242-deadbeef0000").mkdir(parents=True)  # mkdir done, .claim not yet written
    assert list(claim.stale(area)) == [] and list(area.iterdir()) == []


def test_a_stale_claim_is_handed_over_with_its_origin(tmp_path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "sub" / "scan.pdf").write_bytes(b"in flight")
    area = claim.area_for(inbox)
    script = ("import os, sys; from pathlib import Path; from pipeline.ingest import claim; "
              "held = claim.take(Path(sys.argv[1]), Path(sys.argv[2])); os._exit(0)")  # dies holding it
    subprocess.run([sys.executable, "-c", script, str(inbox / "sub" / "scan.pdf"), str(area)], check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    (taken,) = claim.stale(area)
    assert taken.origin == inbox / "sub" / "scan.pdf" and taken.path.read_bytes() == b"in flight"
    assert list(claim.stale(area)) == []  # now held by this process
    assert taken.release() == inbox / "sub" / "scan.pdf" and not area.exists()
