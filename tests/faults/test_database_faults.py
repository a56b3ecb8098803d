"""The manifest database fails mid-run: SQLite held locked by another connection, a PostgreSQL
session killed (`pg_terminate_backend`). Good scans are never rejected for it."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from .conftest import (
    FAST_RETRIES,
    TWO_SCANS,
    Home,
    assert_each_filed_once,
    copy_scans,
    import_patients,
    ocr_started,
    results,
    sha256,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_sqlite_locked_mid_run_leaves_the_scans_undone_and_intact_then_a_rerun_files_them(
        home: Home, tmp_path: Path) -> None:
    scans = copy_scans(tmp_path / "scans", TWO_SCANS)
    before = {p.name: sha256(p) for p in scans}
    run = home.start("process", "--json", *map(str, scans), env={"PIPELINE_DATABASE_BUSY_TIMEOUT": "0.2"},
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    locker = sqlite3.connect(home.path / "manifest.db", isolation_level=None, timeout=30)
    try:
        wait_until(ocr_started(home), 120, "the run to start a document")
        locker.execute("BEGIN EXCLUSIVE")  # another writer holds the database for longer than the run tries
        out, err = run.communicate(timeout=240)
    finally:
        locker.close()
    assert run.returncode == 12, err  # PassingFaultError: what is left undone
    assert set(results(out).values()) == {"undone"}, out
    assert "left undone" in err and "database" in err
    assert "trying again in" in err  # it was retried with backoff before being left
    assert {p.name: sha256(p) for p in scans} == before  # every input where it was, untouched
    assert not list((home.path / "quarantine").iterdir())

    again = home.run("process", "--json", *map(str, scans))  # the lock is gone: the same command files them
    assert again.returncode == 0, again.stderr
    assert sorted(results(again.stdout).values()) == ["filed", "needs_review"]
    assert_each_filed_once(home, before)


def test_a_postgresql_session_killed_mid_run_is_reconnected_and_nothing_is_lost(
        tmp_path: Path, postgres_url: str) -> None:
    import_patients(postgres_url)
    home = Home(tmp_path / "home", {**FAST_RETRIES, "PIPELINE_DATABASE_URL": postgres_url})
    scans = copy_scans(tmp_path / "scans")
    run = home.start("process", "--json", *map(str, scans), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    killed = 0
    try:
        with admin.connect() as conn:
            wait_until(ocr_started(home), 120, "the run to start a document")
            while run.poll() is None:  # kill every session of the run, again and again, until it ends
                killed += conn.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
                if killed >= 3:
                    break
                threading.Event().wait(0.3)
    finally:
        admin.dispose()
    out, err = run.communicate(timeout=240)
    assert killed >= 1
    assert run.returncode in (0, 12), err
    if run.returncode == 12:  # the kills outlasted the retries: undone, then filed by a rerun
        assert "undone" in results(out).values()
        again = home.run("process", "--json", *map(str, scans))
        assert again.returncode == 0, again.stderr
    assert_each_filed_once(home, {p.name: sha256(p) for p in scans}, database_url=postgres_url)
