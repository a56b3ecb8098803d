"""`pipeline backfill` for real: a generated archive (batch files with patch-code, barcode and cover
sheet separators, lone scans, a broken file, hidden and partial files), real OCR, the real command.

The resume test runs `pipeline backfill` as a subprocess, kills it with SIGKILL (its whole process
group: the OCR workers too) at five seeded random moments, resumes it each time, and then checks
that every document of the archive is in the manifest exactly once (by SHA-256, and by batch and
part), that each batch split page for page as generated, and that no part went to a wrong patient.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.cli import main
from pipeline.records import ItemStatus, Outcome, RunStatus
from pipeline.services.home import read_manifest
from pipeline.settings import load_settings
from pipeline.store.tables import DocumentRow, IntakeEventRow
from pipeline.synth.batches import SEPARATOR_TEXT, write_batch
from pipeline.synth.patients import generate_patients, write_patient_csv

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
ENV = {"PIPELINE_SPLIT_SEPARATOR_BARCODE": SEPARATOR_TEXT, "PIPELINE_WORKERS": "2"}


@pytest.fixture
def archive(tmp_path):
    """Two batches (PDF, TIFF) of three documents each, two lone scans, a broken PDF, and files
    a backfill skips (hidden, partial); the truth of each batch."""
    patients = generate_patients(30, seed=13)
    root = tmp_path / "archive"
    (root / "box1").mkdir(parents=True)
    (root / "box2" / "deeper").mkdir(parents=True)
    truth = {
        root / "box1" / "batch-a.pdf": write_batch(root / "box1" / "batch-a.pdf", patients, seed=21, documents=3,
                                                   max_pages=1, blank_backs=0.3),
        root / "box2" / "deeper" / "batch-b.tif": write_batch(root / "box2" / "deeper" / "batch-b.tif", patients,
                                                              seed=22, documents=3, max_pages=1, blank_backs=0.3),
    }
    shutil.copy(SAMPLES / "scans" / "discharge_summary.pdf", root / "box1" / "discharge_summary.pdf")
    shutil.copy(SAMPLES / "scans" / "progress_note.png", root / "box2" / "progress_note.png")
    (root / "box2" / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage")
    (root / "box1" / ".hidden.pdf").write_bytes((root / "box1" / "discharge_summary.pdf").read_bytes())
    (root / "box1" / "copying.pdf.part").write_bytes(b"%PDF-1.7 half")
    patients_csv = write_patient_csv(patients, tmp_path / "patients.csv")
    return root, truth, patients_csv


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def test_dry_run_counts_the_files_and_pages_it_would_take(archive, tmp_path, monkeypatch):
    root, truth, _ = archive
    code, out = _cli("--home", str(tmp_path / "home"), "backfill", "--dry-run", "--json", str(root))
    assert code == 0
    found = json.loads(out)
    batch_pages = sum(t.pages for t in truth.values())
    assert found["files"] == 5  # two batches, two scans, the broken PDF; not the hidden or partial file
    assert found["pages"] == batch_pages + 2 + 1  # discharge summary 2, progress note 1, the broken PDF none
    assert found["estimated_seconds"] > 0
    assert not (tmp_path / "home" / "manifest.db").exists() or read_manifest(
        load_settings(tmp_path / "home")).count_runs() == 0


def _start(home: Path, args: list[str], log: Path) -> tuple[subprocess.Popen, str | None]:
    """Start `pipeline backfill`; wait (with a deadline) for the line that names its run."""
    handle = log.open("a")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(home), "backfill", "--every", "1",
                             *args], env={**os.environ, **ENV}, stdout=subprocess.DEVNULL, stderr=handle,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        for line in log.read_text().splitlines()[::-1]:
            if line.startswith("backfill run ") and "resume with" in line:
                return proc, line.split()[2]
        time.sleep(0.1)
    return proc, None


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_stopped_by_ctrl_c_then_killed_five_times_and_resumed_every_document_is_filed_exactly_once(archive, tmp_path):
    root, truth, patients_csv = archive
    home = tmp_path / "home"
    assert _cli("--home", str(home), "patients", "import", str(patients_csv))[0] == 0
    rng = random.Random(20261201)
    log = tmp_path / "backfill.log"

    # Ctrl-C as a terminal sends it (to the whole process group): the documents in flight finish
    # (none of them rejected), the run stops resumable, exit 130
    proc, run_id = _start(home, [str(root)], log)
    deadline = time.monotonic() + 600
    while "backfill: 0/5 files" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=600) == 130, log.read_text()[-3000:]
    manifest = read_manifest(load_settings(home))
    assert manifest.run_info(run_id).status is RunStatus.STOPPED
    assert manifest.run_items(run_id, not_done=True)  # it stopped before the end

    kills = 0
    while kills < 5:
        proc, named = _start(home, ["--resume", run_id] if run_id else [str(root)], log)
        run_id = run_id or named
        assert run_id, log.read_text()[-2000:]
        try:
            proc.wait(timeout=rng.uniform(2.0, 25.0))  # a random moment: start-up, OCR, filing, recording
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
        else:
            break  # it finished before its kill came: nothing left to interrupt
    proc, _ = _start(home, ["--resume", run_id], log)
    assert proc.wait(timeout=900) == 0, log.read_text()[-3000:]

    manifest = read_manifest(load_settings(home))
    items = manifest.run_items(run_id)
    assert {Path(i.path).name for i in items} == {"batch-a.pdf", "batch-b.tif", "discharge_summary.pdf",
                                                  "progress_note.png", "broken.pdf"}
    assert all(i.status is ItemStatus.DONE for i in items), [(i.path, i.status, i.error) for i in items]

    with manifest.engine.connect() as conn:
        rows = conn.execute(select(DocumentRow)).all()
        rejected = conn.execute(select(IntakeEventRow.source_name).where(IntakeEventRow.kind == "rejected")).all()
    assert all(n == 1 for n in Counter(r.sha256 for r in rows).values())
    parts = Counter((r.batch_sha256, r.batch_part) for r in rows if r.batch_sha256)
    assert all(n == 1 for n in parts.values())
    assert len(rows) == 2 + sum(len(t.documents) for t in truth.values())
    assert {name for (name,) in rejected} == {"broken.pdf"}

    by_name = {Path(i.path).name: i for i in items}
    for path, expected in truth.items():
        item = by_name[path.name]
        cut = sorted((r for r in rows if r.batch_sha256 == item.sha256), key=lambda r: r.batch_part)
        assert [r.batch_part for r in cut] == list(range(1, len(expected.documents) + 1))
        for row, document in zip(cut, expected.documents, strict=True):
            # the range spans the part's pages and the blank backs left out of it, nothing of another part
            assert row.batch_first_page <= document.pages[0] and document.pages[-1] <= row.batch_last_page
            assert row.pages == len(document.pages)
            if row.outcome == Outcome.FILED:
                assert row.patient_mrn == document.mrn  # never a wrong patient
        assert all(a.batch_last_page < b.batch_first_page for a, b in zip(cut, cut[1:]))
        assert manifest.batch(item.sha256).completed_at is not None
    kept = [p.name for p in (load_settings(home).objects_dir / "batches").rglob("*") if p.is_file()]
    assert sorted(k for k in kept if k.split(".")[0] in {by_name[p.name].sha256 for p in truth}) == sorted(
        f"{by_name[p.name].sha256}{p.suffix}" for p in truth)  # each batch original kept once, whole

    with open(home / "reports" / f"backfill-{run_id}.csv", newline="") as handle:
        report = list(csv.DictReader(handle))
    assert Counter(Path(r["file"]).name for r in report) == {
        "batch-a.pdf": 3, "batch-b.tif": 3, "discharge_summary.pdf": 1, "progress_note.png": 1, "broken.pdf": 1}
    assert {r["outcome"] for r in report} <= {"filed", "needs_review", "rejected"}


def _received(log: Path) -> list[str]:
    """Ids of the backfill tasks a worker's log says it received."""
    return re.findall(r"Task pipeline\.backfill_file\[([0-9a-f-]+)\] received", log.read_text())


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_two_celery_workers_on_redis_one_killed_mid_task_every_document_once(archive, tmp_path, postgres_url,
                                                                              redis_url):
    root, truth, patients_csv = archive
    home = tmp_path / "home"
    env = {**os.environ, **ENV, "PIPELINE_DATABASE_URL": postgres_url, "PIPELINE_CELERY_BROKER_URL": redis_url,
           "PIPELINE_CELERY_QUEUE": f"pipeline-test-{uuid.uuid4().hex[:10]}", "PIPELINE_WORKERS": "1",
           "PIPELINE_CELERY_VISIBILITY_TIMEOUT": "20"}
    base = [sys.executable, "-m", "pipeline.cli", "--home", str(home)]
    subprocess.run([*base, "patients", "import", str(patients_csv)], env=env, check=True, capture_output=True)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [subprocess.Popen([*base, "worker", "--concurrency", "1"], env=env, stdout=log.open("w"),
                                stderr=subprocess.STDOUT, start_new_session=True) for log in logs]
    submitter = subprocess.Popen([*base, "backfill", "--workers", "3", "--json", str(root)],
                                 env={**env, "PIPELINE_WORKER_MODE": "celery"}, stdout=subprocess.PIPE,
                                 stderr=(tmp_path / "backfill.log").open("w"), text=True)
    try:
        deadline, victim = time.monotonic() + 300, None
        while victim is None and time.monotonic() < deadline:
            victim = next((i for i, log in enumerate(logs) if _received(log)), None)
            time.sleep(0.1)
        assert victim is not None, logs[0].read_text()[-2000:] + logs[1].read_text()[-2000:]
        taken = _received(logs[victim])[0]
        os.killpg(workers[victim].pid, signal.SIGKILL)  # mid-task: OCR of a file takes seconds
        workers[victim].wait()
        out, _ = submitter.communicate(timeout=900)
    finally:
        for proc in (*workers, submitter):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM) if proc is not submitter else proc.kill()
                proc.wait(timeout=60)
    assert submitter.returncode == 0, (tmp_path / "backfill.log").read_text()[-3000:]
    assert f"{taken}] succeeded" not in logs[victim].read_text()  # it died before finishing that task
    assert taken in _received(logs[1 - victim])  # ... which the other worker then took
    assert json.loads(out.splitlines()[-1])["status"] == "finished"

    manifest = read_manifest(load_settings(home, database_url=postgres_url))
    with manifest.engine.connect() as conn:
        rows = conn.execute(select(DocumentRow)).all()
    assert all(n == 1 for n in Counter(r.sha256 for r in rows).values())
    assert all(n == 1 for n in Counter((r.batch_sha256, r.batch_part) for r in rows if r.batch_sha256).values())
    assert len(rows) == 2 + sum(len(t.documents) for t in truth.values())
