"""Only regular files are inputs: links, FIFOs, devices and sockets are refused with a reason and
never opened; a size cap applies before reading; file names in log lines cannot forge a line."""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.errors import NotFoundError, NotRegularFileError
from pipeline.ingest.discover import Refusal, iter_inputs
from pipeline.ingest.intake import intake, intake_one
from pipeline.records import IncomingDocument, Rejection

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n0\n%%EOF\n"


def _specials(folder: Path, outside: Path) -> dict[str, str]:
    """Every kind of non-regular entry, named for what the refusal must say."""
    (folder / "link_to_outside.pdf").symlink_to(outside)
    (folder / "link_to_passwd.pdf").symlink_to("/etc/passwd")
    (folder / "dangling.pdf").symlink_to(folder / "nowhere.pdf")
    os.mkfifo(folder / "pipe.pdf")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "socket.pdf"))
    server.close()
    (folder / "linked_dir").symlink_to(outside.parent)
    expected = {"link_to_outside.pdf": "symbolic link", "link_to_passwd.pdf": "symbolic link",
                "dangling.pdf": "symbolic link", "pipe.pdf": "FIFO", "socket.pdf": "socket",
                "linked_dir": "symbolic link to a folder"}
    if os.geteuid() == 0:  # making a device node needs root; /dev/zero's numbers
        os.mknod(folder / "zero.pdf", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        expected["zero.pdf"] = "a device"
    return expected


def test_a_walk_refuses_every_non_regular_entry_with_its_reason(tmp_path) -> None:
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    (archive / "good.pdf").write_bytes(PDF)
    (archive / "sub" / "also.pdf").write_bytes(PDF)
    secret = tmp_path / "elsewhere" / "secret.pdf"
    secret.parent.mkdir()
    secret.write_bytes(PDF)
    expected = _specials(archive / "sub", secret)
    refused: list[Refusal] = []
    found = list(iter_inputs([archive], on_refused=refused.append))
    assert found == [archive / "good.pdf", archive / "sub" / "also.pdf"]
    reasons = {r.path.name: r.reason for r in refused}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])


def test_refusals_are_logged_by_default(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="pipeline.ingest.discover")
    (tmp_path / "x.pdf").symlink_to("/etc/passwd")
    assert list(iter_inputs([tmp_path])) == []
    (record,) = caplog.records
    assert record.getMessage().startswith("x.pdf: refused: is a symbolic link")


def test_explicit_paths_must_be_files_or_folders_and_links_only_when_followed(tmp_path) -> None:
    real = tmp_path / "real.pdf"
    real.write_bytes(PDF)
    link = tmp_path / "link.pdf"
    link.symlink_to(real)
    with pytest.raises(NotRegularFileError, match="link.pdf: is a symbolic link .*name the file it points to"):
        list(iter_inputs([link]))
    assert list(iter_inputs([link], follow_symlinks=True)) == [real]
    with pytest.raises(NotRegularFileError, match="is a device, not a scan file") as caught:
        list(iter_inputs([Path("/dev/zero")]))
    assert caught.value.exit_code == 4
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NotRegularFileError, match="FIFO"):
        list(iter_inputs([tmp_path / "fifo"], follow_symlinks=True))
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(NotFoundError, match="a symbolic link to nothing"):
        list(iter_inputs([tmp_path / "dangling"], follow_symlinks=True))


def test_intake_refuses_links_and_fifos_from_the_open_file_without_blocking(tmp_path) -> None:
    real = tmp_path / "real.pdf"
    real.write_bytes(PDF)
    (tmp_path / "link.pdf").symlink_to(real)
    os.mkfifo(tmp_path / "pipe.pdf")  # nobody writes: a blocking open or read would hang the test
    link = intake(tmp_path / "link.pdf", NOW)
    assert isinstance(link, Rejection) and link.error == "NotRegularFileError"
    assert link.reason == "link.pdf: is a symbolic link, not a scan file; put the file itself in, not a link to it"
    pipe = intake(tmp_path / "pipe.pdf", NOW)
    assert isinstance(pipe, Rejection) and "not a regular file" in pipe.reason
    assert isinstance(intake(Path("/dev/zero"), NOW), Rejection)
    assert isinstance(intake(tmp_path / "link.pdf", NOW, follow_symlinks=True), IncomingDocument)
    # a single-file command (`pipeline ocr`) only reads: a link named there is followed
    assert intake_one(tmp_path / "link.pdf", NOW).sha256 == intake(real, NOW).sha256


def test_the_size_cap_rejects_before_reading(tmp_path) -> None:
    big = tmp_path / "huge.pdf"
    with big.open("wb") as handle:  # sparse: 3 GB on paper, nothing on disk
        handle.write(b"%PDF-1.4\n")
        handle.truncate(3_000_000_000)
    rejected = intake(big, NOW)  # the default cap, 2 GB
    assert isinstance(rejected, Rejection) and rejected.error == "LimitExceededError"
    assert rejected.reason == ("huge.pdf: the file is larger than the limit of 2000 MB; "
                               "split the scan into smaller files, or raise PIPELINE_MAX_INPUT_BYTES")
    small = tmp_path / "small.pdf"
    small.write_bytes(PDF)
    assert isinstance(intake(small, NOW, max_bytes=len(PDF) - 1), Rejection)
    assert isinstance(intake(small, NOW, max_bytes=len(PDF)), IncomingDocument)


def test_the_size_cap_is_a_setting(tmp_path, monkeypatch) -> None:
    from pipeline.errors import ConfigurationError
    from pipeline.settings import load_settings

    monkeypatch.setenv("PIPELINE_MAX_INPUT_BYTES", "5000")
    assert load_settings(tmp_path).max_input_bytes == 5000
    monkeypatch.setenv("PIPELINE_MAX_INPUT_BYTES", "0")
    with pytest.raises(ConfigurationError, match="max_input_bytes .PIPELINE_MAX_INPUT_BYTES.: .*positive"):
        load_settings(tmp_path)


def test_a_newline_in_a_file_name_cannot_forge_a_log_line(tmp_path, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="pipeline.ingest")
    name = "scan.pdf\n2026-01-05 09:30:00 INFO pipeline: filed everything\x1b[2J"
    forged = tmp_path / name
    forged.write_bytes(b"not a scan at all, just text")
    rejected = intake(forged, NOW)
    assert isinstance(rejected, Rejection)
    assert "\n" not in rejected.reason and "\\x0a" in rejected.reason and "\\x1b" in rejected.reason
    assert caplog.records and all("\n" not in r.getMessage() and "\x1b" not in r.getMessage()
                                  for r in caplog.records)


@pytest.mark.integration
def test_pipeline_process_refuses_dev_zero_at_once(tmp_path) -> None:
    """The reported bug: `pipeline process /dev/zero` read until killed."""
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(tmp_path / "home"),
                           "process", "/dev/zero"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == 4
    assert "/dev/zero: is a device, not a scan file" in done.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_process_never_reads_files_behind_links_in_a_folder(tmp_path) -> None:
    """The reported bug: links in the inbox to a file outside it and to /etc/passwd were filed or
    copied into the store's quarantine. Now only the real, bad file is rejected; the links are
    refused by name and the bytes behind them are nowhere in the store."""
    samples = Path(__file__).parents[2] / "samples"
    outside = tmp_path / "outside" / "someone_elses.pdf"
    outside.parent.mkdir()
    outside.write_bytes((samples / "scans" / "discharge_summary.pdf").read_bytes())
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "link_out.pdf").symlink_to(outside)
    (folder / "passwd.pdf").symlink_to("/etc/passwd")
    os.mkfifo(folder / "pipe.pdf")
    (folder / "notes.pdf").write_bytes((samples / "bad" / "notes_not_a_pdf.pdf").read_bytes())
    home = tmp_path / "home"
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "--home", str(home), "process", "--json",
                           str(folder)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()  # one document: the real file
    assert '"status": "rejected"' in line and "notes.pdf" in line
    for name, why in (("link_out.pdf", "symbolic link"), ("passwd.pdf", "symbolic link"), ("pipe.pdf", "FIFO")):
        assert f"{name}: refused: is a {why}" in done.stderr
    secret, passwd = outside.read_bytes(), Path("/etc/passwd").read_bytes()
    stored = [p.read_bytes() for p in home.rglob("*") if p.is_file() and not p.name.endswith(".db")]
    assert stored and not any(data in (secret, passwd) for data in stored)
