"""No patient name, birth date or MRN in any log line at the default level, on every path a user runs.

Scanners often name files after the patient, so every input here is named
`<FAMILY>_<GIVEN>_<birth date>_<MRN>.<ext>` after the (generated) patient it belongs to, and the
logs (stderr of the real commands, the whole output of the Celery worker; `review serve` driven
over HTTP as a clerk) are searched for each of those values. stdout of `process` / `watch` is the machine output the user asked for (it carries the
MRN a document was filed to) and is not a log.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PATIENTS = {row["mrn"]: row for row in csv.DictReader((SAMPLES / "patients.csv").open(encoding="utf-8"))}
#: sample scan -> the patient it is about (samples/expected.csv truth_mrn): one filed, one left for review
GOOD_INPUTS = {"scans/progress_note.png": "75826275", "scans/lab_report_mrn_only.png": "97490116"}
BAD_INPUT = {"bad/notes_not_a_pdf.pdf": "58162164"}
CLI = [sys.executable, "-m", "pipeline.cli"]


def named_after_patients(folder: Path, inputs: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for sample, mrn in inputs.items():
        p = PATIENTS[mrn]
        target = folder / f"{p['family_name']}_{p['given_name']}_{p['birth_date']}_{mrn}{Path(sample).suffix}"
        shutil.copy(SAMPLES / sample, target)
        paths.append(target)
    return paths


def patient_values(mrns) -> dict[str, re.Pattern]:
    """Each name, birth date (ISO, HL7, US) and MRN of these patients, as a pattern to search logs with."""
    values = {}
    for mrn in mrns:
        p = PATIENTS[mrn]
        year, month, day = p["birth_date"].split("-")
        for value in (p["family_name"], p["given_name"], mrn, p["birth_date"], f"{year}{month}{day}",
                      f"{month}/{day}/{year}"):
            values[value] = re.compile(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", re.IGNORECASE)
    return values


def leaks(log: str, values: dict[str, re.Pattern]) -> list[str]:
    return [f"{value!r} in: {line}" for line in log.splitlines() for value, pattern in values.items()
            if pattern.search(line)]


def run(*args: str, home: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "--home", str(home), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, check=check)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder whose patient index holds the sample patients (loaded in-process: quicker)."""
    from pipeline.patients.importer import import_file
    from pipeline.store.database import make_engine, migrate

    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'manifest.db'}"
    migrate(url)
    engine = make_engine(url)
    assert import_file(SAMPLES / "patients.csv", engine).imported == len(PATIENTS)
    engine.dispose()
    return home


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)  # polling interval, not a wait for an event


# ----------------------------------------------------------------------------------------------


def test_embedded_process_logs_no_patient_data(home: Path, tmp_path: Path) -> None:
    inputs = named_after_patients(tmp_path / "scans", GOOD_INPUTS)
    done = run("process", "--json", *map(str, inputs), home=home)
    assert '"status": "filed"' in done.stdout and '"status": "needs_review"' in done.stdout
    assert "processed 2 documents" in done.stderr  # the log is there, at the default level
    assert leaks(done.stderr, patient_values(GOOD_INPUTS.values())) == []


def test_a_rejected_input_logs_no_patient_data(home: Path, tmp_path: Path) -> None:
    inputs = named_after_patients(tmp_path / "bad", BAD_INPUT)
    done = run("process", "--json", *map(str, inputs), home=home)
    assert '"status": "rejected"' in done.stdout
    assert re.search(r"rejected input name:[0-9a-f]{10}: UnsupportedFormatError", done.stderr)  # logged, by a hash
    assert leaks(done.stderr, patient_values(BAD_INPUT.values())) == []


def test_watch_logs_no_patient_data(home: Path, tmp_path: Path) -> None:
    inbox = home / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PIPELINE_WATCH_SETTLE_SECONDS": "0.3", "PIPELINE_WATCH_POLL_SECONDS": "0.1"}
    watcher = subprocess.Popen([*CLI, "--home", str(home), "watch", "--json"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for path in named_after_patients(tmp_path / "drop", GOOD_INPUTS):
            shutil.move(path, inbox / path.name)
        wait_until(lambda: not any(inbox.iterdir()), 180, "the inbox to empty")
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=60)
    assert out.count('"status"') == 2
    assert err.count("inbox: handling name:") == 2  # each file is logged, by a hash of its name
    assert leaks(err, patient_values(GOOD_INPUTS.values())) == []


def test_adt_listener_logs_no_patient_data(home: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = subprocess.Popen([*CLI, "--home", str(home), "adt", "listen", "--port", str(port)],
                                env={**os.environ, "PIPELINE_ADT_MAX_MESSAGE_BYTES": "4096"},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    new, other = "61000001", "75826275"
    family, given = "QUINTERO", "ROSALIND"
    hl7 = [
        f"PID|1||{new}^^^LOCAL^MR||{family}^{given}||19710304|F|||4 Elm St^^Salem^MA^01970",  # A04 new
        f"PID|1||{new}^^^LOCAL^MR||{family}^{given}^M||19710304|F",  # A08 update
        f"PID|1||62000001^^^LOCAL^MR||{family}^{given}||19710304|F\rMRG|{new}^^^LOCAL^MR",  # A47 id change
        f"PID|1||{other}^^^LOCAL^MR||{family}^{given}||1971-03-04|F",  # A08 with a bad birth date: AE
        f"PID|1||{other}^^^LOCAL^MR||{family}^{given}||19710304|F\rNTE|1||{'x' * 5000}",  # too large: AR
    ]
    events = ["A04", "A08", "A47", "A08", "A08"]
    answers = []
    try:
        _wait_for_port(port, listener)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            for n, (event, pid) in enumerate(zip(events, hl7, strict=True)):
                text = f"MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301120000||ADT^{event}|P{n}|P|2.5\rEVN|{event}|2026\r{pid}"
                sock.sendall(b"\x0b" + text.encode() + b"\x1c\x0d")
                answers.append(_read_block(sock))
    finally:
        listener.send_signal(signal.SIGINT)
        _, err = listener.communicate(timeout=30)
    assert [a.split("MSA|")[1][:2] for a in answers] == ["AA", "AA", "AA", "AE", "AR"]
    assert "ADT A47 P2: AA" in err  # every message was logged, at the default level
    values = patient_values([other])
    values.update({v: re.compile(re.escape(v), re.IGNORECASE) for v in (family, given, new, "62000001", "19710304")})
    assert leaks(err, values) == []


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    def up() -> bool:
        assert process.poll() is None, process.communicate()[1]
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0
    wait_until(up, 60, "the MLLP listener")


def _read_block(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\x1c\x0d"):
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the answer"
        data += chunk
    return data.decode()


def test_celery_worker_logs_no_patient_data(home: Path, tmp_path: Path, redis_url: str) -> None:
    env = {"PIPELINE_CELERY_BROKER_URL": redis_url, "PIPELINE_CELERY_QUEUE": f"privacy-{uuid.uuid4().hex[:10]}",
           "PIPELINE_WORKERS": "1"}
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        worker = subprocess.Popen([*CLI, "--home", str(home), "worker", "--concurrency", "1"],
                                  env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            inputs = named_after_patients(tmp_path / "scans", GOOD_INPUTS)
            done = run("process", "--json", *map(str, inputs), home=home,
                       env={**env, "PIPELINE_WORKER_MODE": "celery"})
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    assert '"status": "filed"' in done.stdout and '"status": "needs_review"' in done.stdout
    log = log_path.read_text()
    assert leaks(log + done.stderr, patient_values(GOOD_INPUTS.values())) == []
    assert log.count("succeeded in") == 2 and "result withheld from the log" in log  # the lines are there


# ---------------------------------------------------------------------- review serve (issue 15, item 6)

REVIEW_PASSWORD = "synthetic privacy passphrase"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def _ocr_words(home: Path) -> set[str]:
    """Distinctive words of every stored document's OCR text (long ones: log templates use short words)."""
    from pipeline.services.home import open_home
    from pipeline.settings import load_settings

    manifest = open_home(load_settings(home)).manifest
    try:
        texts = [manifest.text_of(doc.sha256) or "" for doc in manifest.search(limit=100)]
    finally:
        manifest.engine.dispose()
    return {w for text in texts for w in re.findall(r"[A-Za-z]{9,}", text)}


def test_review_serve_logs_no_patient_data(home: Path, tmp_path: Path) -> None:
    """The review web app as a clerk uses it (sign in, queue, item, page image, patient search by name
    and birth date, resolve, records), served by the real command at the default level (INFO, the
    lowest but debug; `pipeline` has no quieter level, so INFO covers WARNING too)."""
    import httpx

    inputs = named_after_patients(tmp_path / "scans", GOOD_INPUTS)
    done = run("process", "--json", *map(str, inputs), home=home)
    assert '"status": "needs_review"' in done.stdout and '"status": "filed"' in done.stdout
    subprocess.run([*CLI, "--home", str(home), "users", "add", "clerk1", "--role", "clerk", "--password-stdin"],
                   input=REVIEW_PASSWORD + "\n", capture_output=True, text=True, timeout=120, check=True)
    words = _ocr_words(home)
    assert len(words) > 10, words  # the OCR text is there to be leaked
    queued_mrn = "97490116"  # lab_report_mrn_only.png: an MRN alone never files it
    patient = PATIENTS[queued_mrn]

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([*CLI, "--home", str(home), "review", "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_port(port, server)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, follow_redirects=True) as web:
            token = _csrf(web.get("/login").text)
            refused = web.post("/login", data={"csrf": token, "user": "clerk1", "password": "wrong", "next": "/queue"})
            assert refused.status_code == 401
            signed_in = web.post("/login", data={"csrf": _csrf(refused.text), "user": "clerk1",
                                                 "password": REVIEW_PASSWORD, "next": "/queue"})
            assert signed_in.status_code == 200, signed_in.text  # followed to the queue
            item_id = int(re.search(r'href="/items/(\d+)"', web.get("/queue").text).group(1))
            page = web.get(f"/items/{item_id}")
            assert page.status_code == 200
            image = web.get(f"/items/{item_id}/pages/1.png")
            assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
            token = _csrf(page.text)
            found = web.post(f"/items/{item_id}/patients", data={
                "csrf": token, "search_family": patient["family_name"], "search_given": patient["given_name"],
                "search_birth_date": patient["birth_date"]})
            assert found.status_code == 200 and queued_mrn in found.text
            bad_date = web.post(f"/items/{item_id}/patients", data={"csrf": token, "search_family": patient[
                "family_name"], "search_birth_date": patient["birth_date"].replace("-", "/")})
            assert bad_date.status_code == 400
            resolved = web.post(f"/items/{item_id}/resolve", data={
                "csrf": token, "patient_mrn": queued_mrn, "doc_type": "laboratory_report", "note": "checked"})
            assert resolved.status_code == 200 and f"Review item {item_id} filed" in resolved.text
            records = web.post("/records", data={"csrf": token, "mrn": queued_mrn})
            document_id = re.search(r'href="/records/([0-9a-f-]{36})"', records.text).group(1)
            assert web.get(f"/records/{document_id}").status_code == 200
            assert web.get(f"/records/{document_id}/pages/1.png").status_code == 200
            assert web.get("/items/999999").status_code == 404
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)

    assert "clerk1 signed in from" in err and "sign-in failed for 'clerk1'" in err  # INFO and WARNING lines
    assert f"review item {item_id}: document {document_id} filed by clerk1" in err
    values = patient_values(PATIENTS)  # every patient of the index: the search and the chooser show several
    values.update({w: re.compile(rf"\b{w}\b", re.IGNORECASE) for w in words})
    assert leaks(err, values) == []
