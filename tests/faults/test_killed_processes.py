"""Processes killed with `kill -9` mid-document: `pipeline watch` (its OCR workers end with it, the
restarted watcher takes the claimed scan over, sweeps the dead run's scratch, and files everything
once) and a Celery worker (the task goes to the next worker after the visibility timeout)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from .conftest import (
    SAMPLES,
    SCANS,
    Home,
    assert_each_filed_once,
    copy_scans,
    ocr_started,
    results,
    sha256,
    wait_until,
)
from .test_disk_and_ocr_faults import _descendants

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WATCH_ENV = {"PIPELINE_WATCH_SETTLE_SECONDS": "0.2", "PIPELINE_WATCH_POLL_SECONDS": "0.1"}
STALE = 2 * 3600  # older than the scratch sweep's hour: what a restart the next morning finds


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _reading_under(folder: Path) -> list[int]:
    """Live processes whose command line names a file under `folder` (an orphaned tesseract)."""
    marker = os.fsencode(str(folder))
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes() and _alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_watch_killed_mid_document_leaves_no_orphans_and_a_restart_files_everything_once(home: Home) -> None:
    inbox = home.path / "inbox"
    inbox.mkdir()
    digests = {}
    for sample in SCANS:
        target = inbox / Path(sample).name
        shutil.copy(SAMPLES / sample, target)
        digests[target.name] = sha256(target)

    first = home.start("watch", "--json", env=WATCH_ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    wait_until(ocr_started(home), 120, "the watcher to start a document")
    descendants = _descendants(first.pid)
    workers = {pid for pid, name in descendants.items() if name != "tesseract"}
    assert workers, "no OCR worker processes under the watcher"
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    wait_until(lambda: not any(_alive(pid) for pid in workers), 15, "the OCR workers to end with their parent")
    # A tesseract already reading a page finishes that page (it may still write into the scratch
    # folder): only once it has ended is the scratch what a restart hours later finds.
    wait_until(lambda: not _reading_under(home.work), 180, "the page being read to finish")
    leftovers = list(home.work.iterdir())
    assert leftovers, "the killed run left no scratch (the kill came too late to test the sweep)"
    for entry in leftovers:  # the dead run's scratch, as a restart hours later finds it
        for root, dirs, files in os.walk(entry):
            for name in dirs + files:
                os.utime(Path(root) / name, (time.time() - STALE, time.time() - STALE))
        os.utime(entry, (time.time() - STALE, time.time() - STALE))

    second = home.start("watch", "--json", env=WATCH_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: not any(inbox.iterdir()), 180, "the inbox (and its processing area) to empty")
    finally:
        second.send_signal(signal.SIGTERM)
        out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert list(results(out).values()) == ["filed"]  # the one in flight was taken over
    assert not any(entry.exists() for entry in leftovers)  # swept at start
    assert_each_filed_once(home, digests)


def test_a_celery_worker_killed_mid_document_hands_it_to_the_next_worker(home: Home, tmp_path: Path,
                                                                         redis_url: str) -> None:
    home.env.update({"PIPELINE_CELERY_BROKER_URL": redis_url, "PIPELINE_CELERY_QUEUE": f"faults-{uuid.uuid4().hex[:10]}",
                     "PIPELINE_CELERY_VISIBILITY_TIMEOUT": "3", "PIPELINE_WORKERS": "1"})
    scans = copy_scans(tmp_path / "scans")
    digests = {p.name: sha256(p) for p in scans}
    first = home.start("worker", "--concurrency", "1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    submitter = home.start("process", "--json", *map(str, scans), env={"PIPELINE_WORKER_MODE": "celery"},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = None
    try:
        wait_until(ocr_started(home), 120, "the worker to start a document")
        workers = {pid for pid, name in _descendants(first.pid).items() if name != "tesseract"}
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        wait_until(lambda: not any(_alive(pid) for pid in workers), 15, "the OCR workers to end with their parent")
        second = home.start("worker", "--concurrency", "1", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, err = submitter.communicate(timeout=240)
    finally:
        if submitter.poll() is None:
            submitter.kill()
        if second is not None:
            second.terminate()
            second.wait(timeout=60)
    assert submitter.returncode == 0, err
    assert list(results(out).values()) == ["filed"]  # the one in flight was redelivered
    assert_each_filed_once(home, digests)
