"""Escaped names for logs, collision-free names for the local quarantine, the work-folder sweep."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from pipeline.ingest.names import display_name, reserve_name, safe_file_name
from pipeline.ingest.scratch import sweep_scratch

NOW = datetime(2026, 1, 5, 9, 30, 0, tzinfo=UTC)


def test_display_name_escapes_control_characters_and_undecodable_bytes() -> None:
    assert display_name(Path("scan 01 – Müller.pdf")) == "scan 01 – Müller.pdf"
    assert display_name(Path("a\nb\r\tc\x1b.pdf")) == "a\\x0ab\\x0d\\x09c\\x1b.pdf"
    assert display_name(Path(os.fsdecode(b"bad\xffname.pdf"))) == "bad\\xffname.pdf"
    assert display_name("x\u2028y") == "x\\u2028y"  # a line separator is a line break to some viewers


def test_safe_file_name_keeps_a_name_fit_for_another_folder() -> None:
    assert safe_file_name("../../etc/passwd") == "_.._etc_passwd"
    assert safe_file_name(".hidden.pdf") == "hidden.pdf"
    assert safe_file_name("a\nb.pdf") == "a_b.pdf"
    assert len(safe_file_name("x" * 400 + ".pdf")) == 180


def test_two_rejections_of_one_name_in_one_second_get_two_names(tmp_path) -> None:
    """The reported bug: a/scan.pdf and b/scan.pdf rejected in the same second kept one file."""
    quarantine = tmp_path / "quarantine"
    first = reserve_name(quarantine, "scan.pdf", NOW)
    second = reserve_name(quarantine, "scan.pdf", NOW)
    third = reserve_name(quarantine, "scan.pdf", NOW.replace(second=1))
    assert [p.name for p in (first, second, third)] == [
        "20260105T093000-scan.pdf", "20260105T093000-2-scan.pdf", "20260105T093001-scan.pdf"]
    for number, reserved in enumerate((first, second), 1):
        source = tmp_path / f"from_{number}" / "scan.pdf"
        source.parent.mkdir()
        source.write_bytes(f"rejected {number}".encode())
        os.replace(source, reserved)  # what the quarantine writer does with the reserved name
    assert first.read_bytes() == b"rejected 1" and second.read_bytes() == b"rejected 2"


def test_the_sweep_removes_only_scratch_untouched_for_the_whole_period(tmp_path) -> None:
    work = tmp_path / "work"
    stale = work / "doc-abc" / "ocr-123"
    stale.mkdir(parents=True)
    (stale / "page-0001.pdf").write_bytes(b"x")
    (work / "0123456789abcdef.searchable.pdf").write_bytes(b"pdf")
    live = work / "doc-live"
    live.mkdir()
    (live / "page-0001.pdf").write_bytes(b"y")
    (work / "outside-link").symlink_to(tmp_path)  # removed as a link, never followed
    now = time.time() + 7200  # two hours on
    os.utime(live / "page-0001.pdf", (now - 60, now - 60))  # written a minute before "now"
    removed = sweep_scratch(work, 3600, now=now)
    assert sorted(p.name for p in removed) == ["0123456789abcdef.searchable.pdf", "doc-abc", "outside-link"]
    assert sorted(p.name for p in work.iterdir()) == ["doc-live"] and tmp_path.is_dir()
    assert sweep_scratch(tmp_path / "no-such-folder") == []


def test_the_log_filter_keeps_every_event_on_one_line() -> None:
    import io
    import logging

    from pipeline.ingest.names import EscapeControlCharacters

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(EscapeControlCharacters())
    logger = logging.getLogger("test.names.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("rejected %s: %s", "x.pdf\nERROR forged line", "CorruptFileError")
        logger.warning("plain %d", 3)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == ["rejected x.pdf\\x0aERROR forged line: CorruptFileError", "plain 3"]
