"""Passing faults under Celery: a worker on Redis whose PostgreSQL database is gone (renamed away,
as a server that is down or restarting looks to a client). The task, not the worker thread, waits
the fault out: it goes back to the queue with a jittered, doubling countdown. A fault that clears
in time ends with the scan filed once; one that outlasts the retries ends `undone` (exit 12), the
scan untouched where it was and nothing quarantined, and the same command files it once the
database is back. An input defect is rejected at the first try, never retried. One worker serves the
module (its start-up is most of a test's time)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from .conftest import FAST_RETRIES, Home, assert_each_filed_once, copy_scans, import_patients, results, sha256, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: how often the task is sent back before the scan is left undone (waits 0.25-0.5, 0.5-1, 1-2 s)
RETRIES = 3
RETRY_LINE = "met a passing fault; retry"


@dataclass
class CeleryHome:
    home: Home
    database_url: str
    admin_url: str
    log: Path
    filed: dict[str, str] = field(default_factory=dict)  # every scan filed in this home so far: name -> sha256

    def retries(self) -> int:
        return self.log.read_text().count(RETRY_LINE)

    def retried_since(self, before: int) -> Callable[[], bool]:
        return lambda: self.retries() > before

    @contextmanager
    def database_gone(self) -> Iterator[None]:
        """The worker's database renamed away (its sessions ended first), renamed back on leaving."""
        name = self.database_url.rsplit("/", 1)[1]
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                def rename(old: str, new: str) -> bool:
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                                 {"n": old})
                    try:
                        conn.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
                    except Exception:  # noqa: BLE001 - a session came back between the two: again
                        return False
                    return True

                wait_until(lambda: rename(name, f"{name}_gone"), 30, "the database to be renamed away")
                try:
                    yield
                finally:
                    wait_until(lambda: rename(f"{name}_gone", name), 30, "the database to be renamed back")
        finally:
            admin.dispose()

    def process(self, scan: Path) -> subprocess.Popen:
        return self.home.start("process", "--json", str(scan), env={"PIPELINE_WORKER_MODE": "celery"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def celery_home(tmp_path_factory, module_postgres_url: str, postgres_admin_url: str,
                redis_url: str) -> Iterator[CeleryHome]:
    folder = tmp_path_factory.mktemp("celery-faults")
    import_patients(module_postgres_url)
    home = Home(folder / "home", {**FAST_RETRIES, "PIPELINE_DATABASE_URL": module_postgres_url,
                                  "PIPELINE_CELERY_BROKER_URL": redis_url,
                                  "PIPELINE_CELERY_QUEUE": f"faults-{uuid.uuid4().hex[:10]}",
                                  "PIPELINE_CELERY_FAULT_RETRIES": str(RETRIES), "PIPELINE_WORKERS": "1"})
    home.path.mkdir()
    log = folder / "worker.log"
    worker = home.start("worker", "--concurrency", "1", stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        yield CeleryHome(home, module_postgres_url, postgres_admin_url, log)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def test_a_database_gone_for_the_first_tries_is_waited_out_by_the_task_and_the_scan_filed_once(
        celery_home: CeleryHome, tmp_path: Path) -> None:
    (scan,) = copy_scans(tmp_path / "scans", ("scans/progress_note.png",))
    before = celery_home.retries()
    with celery_home.database_gone():
        submitter = celery_home.process(scan)
        wait_until(celery_home.retried_since(before), 120, "the task to be sent back to the queue")
    out, err = submitter.communicate(timeout=240)
    assert submitter.returncode == 0, err
    assert results(out) == {scan.name: "filed"}
    assert before < celery_home.retries() <= before + RETRIES
    celery_home.filed[scan.name] = sha256(scan)
    assert_each_filed_once(celery_home.home, celery_home.filed, database_url=celery_home.database_url)


def test_a_database_gone_for_longer_than_the_retries_leaves_the_scan_undone_and_intact(
        celery_home: CeleryHome, tmp_path: Path) -> None:
    (scan,) = copy_scans(tmp_path / "scans", ("scans/referral_fax.pdf",))
    digest = sha256(scan)
    before = celery_home.retries()
    with celery_home.database_gone():
        submitter = celery_home.process(scan)
        out, err = submitter.communicate(timeout=240)
    assert submitter.returncode == 12, err  # PassingFaultError: left undone
    assert results(out) == {scan.name: "undone"}, out
    assert "database" in err and "left undone" in err
    assert celery_home.retries() == before + RETRIES  # every retry was used, none more
    assert sha256(scan) == digest  # where it was, untouched
    assert not (celery_home.home.path / "quarantine").exists() or not list(
        (celery_home.home.path / "quarantine").iterdir())

    again = celery_home.process(scan)  # the database is back: the same command files it, once
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err
    assert results(out) == {scan.name: "filed"}
    celery_home.filed[scan.name] = digest
    assert_each_filed_once(celery_home.home, celery_home.filed, database_url=celery_home.database_url)


def test_an_input_defect_is_rejected_by_the_first_try_and_never_retried(celery_home: CeleryHome,
                                                                         tmp_path: Path) -> None:
    # last in the module: it leaves a quarantined input, which the checks above would count
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage")
    before = celery_home.retries()
    submitter = celery_home.process(broken)
    out, err = submitter.communicate(timeout=240)
    assert submitter.returncode == 0, err
    assert results(out) == {broken.name: "rejected"}
    assert celery_home.retries() == before  # the file's own defect: not a passing fault
