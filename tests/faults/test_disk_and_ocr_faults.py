"""Our own disk fills (a small tmpfs under the work folder) and Tesseract is killed on a page:
neither is the scan's fault, so neither rejects it."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import Home, assert_each_filed_once, copy_scans, results, sha256, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def full_work_folder(home: Home) -> Iterator[Path]:
    """`<home>/work` on a 2 MiB tmpfs, filled up; yields the filler file (remove it to free the disk)."""
    home.work.mkdir(exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(home.work)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    filler = home.work / "filler"
    try:
        with filler.open("wb") as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        with pytest.raises(OSError) as full:
            (home.work / "probe").write_bytes(b"\0" * 65536)
        assert full.value.errno == errno.ENOSPC
        (home.work / "probe").unlink(missing_ok=True)
        yield filler
    finally:
        subprocess.run(["umount", "-l", str(home.work)], check=False)


def test_a_full_work_disk_leaves_the_scans_undone_and_intact_then_a_rerun_files_them(
        home: Home, full_work_folder: Path, tmp_path: Path) -> None:
    scans = copy_scans(tmp_path / "scans")
    before = {p.name: sha256(p) for p in scans}
    full = home.run("process", "--json", *map(str, scans))
    assert full.returncode == 12, full.stderr
    assert set(results(full.stdout).values()) == {"undone"}, full.stdout
    assert "ENOSPC" in full.stdout  # the reason names the fault, not the scan
    # a backfill of the same folder: its item undone, the run stopped, exit 12 (before: 0) naming --resume
    backfill = home.run("backfill", "--json", str(tmp_path / "scans"))
    assert backfill.returncode == 12, backfill.stderr
    summary = json.loads(backfill.stdout.splitlines()[-1])
    assert (summary["status"], summary["undone"]) == ("stopped", 1)
    assert "1 of 1 files left undone" in backfill.stderr and f"--resume {summary['run']}" in backfill.stderr
    assert {p.name: sha256(p) for p in scans} == before
    assert not list((home.path / "quarantine").iterdir())

    full_work_folder.unlink()  # space again
    again = home.run("process", "--json", *map(str, scans))
    assert again.returncode == 0, again.stderr
    assert list(results(again.stdout).values()) == ["filed"]
    resumed = home.run("backfill", "--resume", summary["run"], "--json")  # finds it filed: nothing twice
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[-1])["status"] == "finished"
    assert_each_filed_once(home, before)
    assert [p.name for p in home.work.iterdir()] == []  # no scratch left behind


def _descendants(root: int) -> dict[int, str]:
    """pid -> command name of every live process under `root`."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                parents[int(entry.name)] = (int(stat[stat.rindex(")") + 2:].split()[1]), name)
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child, (parent, name) in parents.items():
            if parent == pid and child not in found:
                found[child] = name
                frontier.append(child)
    return found


def _reading_a_page(pid: int) -> bool:
    """A tesseract run on a page image (not the `tesseract --version` probe at start)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"--version" not in argv and len(argv) > 3


def test_tesseract_killed_on_a_page_is_retried_and_the_scan_filed(home: Home, tmp_path: Path) -> None:
    scans = copy_scans(tmp_path / "scans")
    run = home.start("process", "--json", *map(str, scans), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed: list[int] = []

    def kill_a_tesseract() -> bool:
        if run.poll() is not None:
            return True
        for pid, name in _descendants(run.pid).items():
            if name == "tesseract" and _reading_a_page(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                return True
        return False

    wait_until(kill_a_tesseract, 120, "tesseract to start on a page")
    out, err = run.communicate(timeout=240)
    assert killed, "the run ended before tesseract was seen"
    assert run.returncode == 0, err
    assert "tesseract was ended by signal 9" in err  # seen as a passing fault and retried
    assert list(results(out).values()) == ["filed"]
    assert_each_filed_once(home, {p.name: sha256(p) for p in scans})
