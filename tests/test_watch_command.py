"""`pipeline watch` as a user runs it: a real process, files dropped into its inbox."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.store.database import make_engine
from pipeline.store.manifest import Manifest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)  # polling interval, not a wait for an event


def test_watch_files_what_is_dropped_in_and_quarantines_what_is_bad(tmp_path):
    home = tmp_path / "home"
    subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(home), "patients", "import",
                    str(SAMPLES / "patients.csv")], check=True, capture_output=True)
    inbox = home / "inbox"
    already_there = inbox / "already.png"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "scans" / "progress_note.png", already_there)
    env = {**os.environ, "PIPELINE_WATCH_SETTLE_SECONDS": "0.3", "PIPELINE_WATCH_POLL_SECONDS": "0.1"}
    watcher = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(home), "watch", "--json"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        shutil.copy(SAMPLES / "bad" / "notes_not_a_pdf.pdf", inbox / "notes.pdf")
        wait_until(lambda: not any(inbox.iterdir()), 180, "the inbox to empty")
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, _ = watcher.communicate(timeout=60)

    assert watcher.returncode == 0
    statuses = sorted(line.split('"status": "')[1].split('"')[0] for line in out.splitlines())
    assert statuses == ["filed", "rejected"]
    quarantined = sorted(p.name for p in (home / "quarantine").iterdir())
    assert len(quarantined) == 2 and quarantined[0].endswith("notes.pdf")
    assert "plain text" in (home / "quarantine" / quarantined[1]).read_text()
    manifest = Manifest(make_engine(f"sqlite:///{home / 'manifest.db'}"))
    assert manifest.count() == 1
