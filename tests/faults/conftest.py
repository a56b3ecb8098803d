"""The fault suite's tools: a home with the sample patients, the real `pipeline` command, and the
check every fault test ends with.

After each fault: every input ends filed, queued or rejected exactly once (here every input is a
good scan, so: in the manifest exactly once, filed or queued), no readable input is in quarantine
(neither the quarantine folder nor quarantine/ keys in the store), and `pipeline audit` finds no
damage (exit 0; an orphan object left by an interrupted filing is a warning it lists).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CLI = [sys.executable, "-m", "pipeline.cli"]
#: one small scan that is filed (samples/expected.csv): each run OCRs it, and a retry OCRs it again
SCANS = ("scans/progress_note.png",)
#: two: one is filed, one goes to the review queue
TWO_SCANS = ("scans/progress_note.png", "scans/lab_report_mrn_only.png")
#: a fault test's whole budget for one command; they take seconds
COMMAND_TIMEOUT = 240
#: short retries, so a test sees both a retry that succeeds and a fault that outlasts them
FAST_RETRIES = {"PIPELINE_FAULT_RETRIES": "1", "PIPELINE_FAULT_RETRY_DELAY": "0.5", "PIPELINE_WORKERS": "2"}


@dataclass
class Home:
    path: Path
    env: dict[str, str]

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, "--home", str(self.path), *args], capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT, env={**os.environ, **self.env, **(env or {})})

    def start(self, *args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
        return subprocess.Popen([*CLI, "--home", str(self.path), *args], text=True,
                                env={**os.environ, **self.env, **(env or {})}, **kwargs)

    @property
    def work(self) -> Path:
        return self.path / "work"


def import_patients(database_url: str) -> None:
    from pipeline.patients.importer import import_file
    from pipeline.store.database import make_engine, migrate

    migrate(database_url)
    engine = make_engine(database_url)
    import_file(SAMPLES / "patients.csv", engine)
    engine.dispose()


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """A home on SQLite whose patient index holds the sample patients (loaded in-process: quicker)."""
    path = tmp_path / "home"
    path.mkdir()
    import_patients(f"sqlite:///{path / 'manifest.db'}")
    return Home(path, dict(FAST_RETRIES))


def copy_scans(folder: Path, scans: Iterable[str] = SCANS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for sample in scans:
        target = folder / Path(sample).name
        shutil.copy(SAMPLES / sample, target)
        paths.append(target)
    return paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def results(out: str) -> dict[str, str]:
    """`process --json` / `watch --json` stdout -> {file name: status} (the last status of each)."""
    found = {}
    for line in out.splitlines():
        row = json.loads(line)
        found[Path(row["source"]).name] = row["status"]
    return found


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling interval, not a wait for an event


def ocr_started(home: Home) -> Callable[[], bool]:
    """True once a document's scratch folder is in the work folder: the run is mid-document."""
    return lambda: home.work.is_dir() and any(p.name.startswith("doc-") for p in home.work.iterdir())


def assert_each_filed_once(home: Home, digests: dict[str, str], *, database_url: str | None = None,
                           store_env: dict[str, str] | None = None) -> None:
    """Every input (name -> sha256) is in the manifest exactly once; nothing is in quarantine; the
    audit finds no damage."""
    from sqlalchemy import func, select

    from pipeline.store.database import make_engine
    from pipeline.store.tables import DocumentRow

    engine = make_engine(database_url or f"sqlite:///{home.path / 'manifest.db'}")
    try:
        with engine.connect() as conn:
            for name, digest in digests.items():
                count = conn.execute(select(func.count()).select_from(DocumentRow)
                                     .where(DocumentRow.sha256 == digest)).scalar_one()
                assert count == 1, f"{name} is in the manifest {count} times"
            total = conn.execute(select(func.count()).select_from(DocumentRow)).scalar_one()
            assert total == len(digests), f"{total} documents for {len(digests)} inputs"
    finally:
        engine.dispose()
    quarantine = home.path / "quarantine"
    assert not quarantine.exists() or not list(quarantine.iterdir()), "a readable input is in quarantine"
    audit = home.run("audit", "--json", env=store_env)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "quarantine/" not in audit.stdout, "a quarantine object in the store"
