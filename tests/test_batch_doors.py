"""Batch files through `pipeline process` and `pipeline watch` (not only `backfill`), and the batch
records through the journal (`reindex`) and the audit. Real OCR on a generated batch: a Patch T
separator sheet, a patient cover sheet, blank backs; synthetic patients only."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.orchestrator import Pipeline
from pipeline.records import PageKind
from pipeline.services.home import read_manifest
from pipeline.settings import load_settings
from pipeline.synth.batches import write_batch
from pipeline.synth.patients import generate_patients, write_patient_csv

from test_watch_command import wait_until  # a sibling module: pytest puts tests/ on the path

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
#: the keys of a `process --json` line for a file filed whole (as before batches were split)
WHOLE_KEYS = {"source", "document_id", "status", "doc_type", "loinc", "type_confidence", "patient_mrn",
              "match_confidence", "pages", "reasons", "type_confirmed"}


def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    """A batch PDF of three documents (patch T, cover sheet, patch T, some blank backs), its truth,
    and the patients' CSV."""
    folder = tmp_path_factory.mktemp("scans")
    patients = generate_patients(30, seed=13)
    batch = folder / "box7.pdf"
    truth = write_batch(batch, patients, seed=41, documents=3, separations=("patch", "cover"), max_pages=1,
                        blank_backs=0.4)
    assert {d.separation for d in truth.documents} == {"patch", "cover"}
    assert PageKind.BLANK in truth.kinds
    return batch, truth, write_patient_csv(patients, folder / "patients.csv")


def _home(root: Path, patients_csv: Path) -> Path:
    home = root / "home"
    assert _cli("--home", str(home), "patients", "import", str(patients_csv))[0] == 0
    return home


@pytest.fixture(scope="module")
def processed(scans, tmp_path_factory):
    """`pipeline process --json` over the batch and a two-page single document, once."""
    batch, truth, patients_csv = scans
    home = _home(tmp_path_factory.mktemp("processed"), patients_csv)
    code, out = _cli("--home", str(home), "process", "--json", str(batch), str(SAMPLES / "scans" /
                                                                               "discharge_summary.pdf"))
    assert code == 0, out
    return home, [json.loads(line) for line in out.splitlines()]


def _check_parts(home: Path, lines: list[dict], batch: Path, truth) -> None:
    """One line per document of the batch, cut where the truth says, each filed to its own patient,
    and the batch kept whole with its hash."""
    parts = [line for line in lines if Path(line["source"]).name == batch.name]
    assert [p["part"] for p in parts] == list(range(1, len(truth.documents) + 1))
    manifest = read_manifest(load_settings(home))
    sha256 = manifest.get(parts[0]["document_id"]).batch_sha256
    kept = manifest.batch(sha256)
    assert kept is not None and kept.pages == truth.pages and kept.parts == len(truth.documents)
    assert kept.completed_at is not None
    stored = load_settings(home).objects_dir / kept.original_key
    assert stored.read_bytes() == batch.read_bytes()  # the original, whole
    for line, document in zip(parts, truth.documents, strict=True):
        first, last = line["batch_pages"]
        assert first <= document.pages[0] and document.pages[-1] <= last  # its pages, and only its blank backs
        assert line["pages"] == len(document.pages)  # separator sheets and blank backs left out
        assert line["status"] == "filed", line["reasons"]
        assert line["patient_mrn"] == document.mrn  # the right patient
    assert all(a["batch_pages"][1] < b["batch_pages"][0] for a, b in zip(parts, parts[1:]))


def test_process_splits_a_batch_and_files_each_part_to_its_patient(processed, scans):
    home, lines = processed
    batch, truth, _ = scans
    _check_parts(home, lines, batch, truth)


def test_process_files_a_single_document_whole_with_the_same_line_as_before(processed, scans, tmp_path):
    home, lines = processed
    single = [line for line in lines if Path(line["source"]).name == "discharge_summary.pdf"]
    assert len(single) == 1
    assert set(single[0]) == WHOLE_KEYS  # no part, no batch pages
    doc = read_manifest(load_settings(home)).get(single[0]["document_id"])
    assert doc.batch_sha256 is None and doc.batch_part is None and single[0]["pages"] == 2
    # what the one-document path (`Pipeline.process`) makes of the same file with the same patients
    with Pipeline.open(load_settings(_home(tmp_path, scans[2]))) as pipe:
        before = pipe.process(SAMPLES / "scans" / "discharge_summary.pdf").to_json()
    assert {**single[0], "document_id": None} == {**before, "document_id": None}


def test_process_prints_a_batchs_parts_in_plain_text(scans, tmp_path):
    batch, truth, patients_csv = scans
    home = _home(tmp_path, patients_csv)
    code, out = _cli("--home", str(home), "process", str(batch))
    assert code == 0
    heads = [line for line in out.splitlines() if not line.startswith(" ")]
    assert len(heads) == len(truth.documents)
    for number, (head, document) in enumerate(zip(heads, truth.documents, strict=True), 1):
        assert head.startswith("filed") and f" part {number} (batch pages " in head
        assert f"-> MRN {document.mrn} " in head


def test_reindex_from_the_store_brings_the_batch_back(processed, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(processed[0], home)
    before = read_manifest(load_settings(home))
    batches = before.batch_rows()
    parts = [(d.document_id, d.batch_sha256, d.batch_part, d.batch_first_page, d.batch_last_page)
             for d in before.iter_documents()]
    assert batches and any(p[1] for p in parts)
    (home / "manifest.db").unlink()  # the manifest wiped: the store alone is left
    code, out = _cli("--home", str(home), "reindex", "--json")
    assert code == 0
    assert json.loads(out)["batches"] == len(batches)
    after = read_manifest(load_settings(home))
    assert after.batch_rows() == batches  # hash, name, pages, parts, key, received and completed
    assert sorted(parts) == sorted((d.document_id, d.batch_sha256, d.batch_part, d.batch_first_page,
                                    d.batch_last_page) for d in after.iter_documents())


def test_audit_reports_a_changed_or_missing_batch_original(processed, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(processed[0], home)
    assert _cli("--home", str(home), "audit", "--json")[0] == 0  # clean first
    key = read_manifest(load_settings(home)).batch_rows()[0]["original_key"]
    original = load_settings(home).objects_dir / key
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the kept batch
    original.write_bytes(bytes(data))
    code, out = _cli("--home", str(home), "audit", "--json")
    assert code == 10
    found = json.loads(out)
    assert [(f["kind"], f["key"]) for f in found["findings"] if f["severity"] == "damage"] == [("hash-mismatch", key)]
    original.unlink()
    code, out = _cli("--home", str(home), "audit", "--json")
    assert code == 10
    damage = [f for f in json.loads(out)["findings"] if f["severity"] == "damage"]
    assert [(f["kind"], f["key"]) for f in damage] == [("missing", key)]
    assert "batch original" in damage[0]["detail"]


def test_watch_splits_a_batch_dropped_into_the_inbox(scans, tmp_path):
    batch, truth, patients_csv = scans
    home = _home(tmp_path, patients_csv)
    inbox = home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PIPELINE_WATCH_SETTLE_SECONDS": "0.3", "PIPELINE_WATCH_POLL_SECONDS": "0.1"}
    watcher = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(home), "watch", "--json"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        shutil.copy(batch, inbox / batch.name)
        wait_until(lambda: not any(inbox.iterdir()), 300, "the inbox to empty")
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, _ = watcher.communicate(timeout=60)
    assert watcher.returncode == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(truth.documents)
    for line in lines:
        line["source"] = str(batch)  # the watcher names the file where it took it from
    _check_parts(home, lines, batch, truth)
    assert not (home / "quarantine").exists() or not any((home / "quarantine").iterdir())


def test_process_in_celery_mode_splits_the_batch_in_the_worker(scans, tmp_path, postgres_url, redis_url,
                                                               monkeypatch):
    batch, truth, patients_csv = scans
    env = {"PIPELINE_DATABASE_URL": postgres_url, "PIPELINE_CELERY_BROKER_URL": redis_url,
           "PIPELINE_CELERY_QUEUE": f"pipeline-test-{uuid.uuid4().hex[:10]}", "PIPELINE_WORKERS": "1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    home = _home(tmp_path, patients_csv)
    worker = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(home), "worker",
                               "--concurrency", "1"], env={**os.environ, **env},
                              stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT)
    try:
        monkeypatch.setenv("PIPELINE_WORKER_MODE", "celery")
        code, out = _cli("--home", str(home), "process", "--json", str(batch))
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert code == 0, (tmp_path / "worker.log").read_text()[-2000:]
    assert "Task pipeline.process_file[" in (tmp_path / "worker.log").read_text()
    _check_parts(home, [json.loads(line) for line in out.splitlines()], batch, truth)
