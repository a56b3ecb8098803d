"""What `pipeline watch` does with an inbox file after processing it (`dispose_of_inbox_file`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.ingest.batchfile import whole_file
from pipeline.orchestrator import dispose_of_inbox_file
from pipeline.records import BatchPart, BatchResult, Outcome, ProcessResult
from pipeline.settings import load_settings


def test_two_rejects_of_one_name_in_the_same_second_are_both_kept_with_their_reasons(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "home")
    for folder, reason in (("a", "a/scan.pdf: not a PDF (text)"), ("b", "b/scan.pdf: the PDF is encrypted")):
        source = tmp_path / "inbox" / folder / "scan.pdf"
        source.parent.mkdir(parents=True)
        source.write_bytes(reason.encode())
        dispose_of_inbox_file(source, whole_file(ProcessResult(str(source), "key", Outcome.REJECTED, reasons=(reason,))),
                              settings)
        assert not source.exists()
    kept = sorted(p for p in settings.quarantine.iterdir() if not p.name.endswith(".reason.txt"))
    assert len(kept) == 2
    for path in kept:  # each file with its own reason beside it
        reason = path.with_name(path.name + ".reason.txt").read_text().strip()
        assert reason.encode() == path.read_bytes()


def test_an_undone_file_stays_and_a_filed_one_goes(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "home")
    undone, filed = tmp_path / "undone.pdf", tmp_path / "filed.pdf"
    undone.write_bytes(b"u")
    filed.write_bytes(b"f")
    dispose_of_inbox_file(undone, whole_file(ProcessResult(str(undone), None, Outcome.UNDONE, reasons=("db locked",))),
                          settings)
    dispose_of_inbox_file(filed, whole_file(ProcessResult(str(filed), "doc-1", Outcome.FILED)), settings)
    assert undone.read_bytes() == b"u" and not filed.exists()
    assert not settings.quarantine.exists() or not any(settings.quarantine.iterdir())


def _batch(path: Path, *statuses: Outcome) -> BatchResult:
    results = tuple(ProcessResult(str(path), None if s is Outcome.UNDONE else f"doc-{n}", s)
                    for n, s in enumerate(statuses, 1))
    parts = tuple(BatchPart("ab" * 32, n, (n,), n, n) for n in range(1, len(statuses) + 1))
    return BatchResult(str(path), "ab" * 32, len(statuses), results, parts)


def test_a_split_batch_goes_once_every_part_has_its_row_and_stays_while_one_is_undone(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "home")
    half, whole = tmp_path / "half.pdf", tmp_path / "whole.pdf"
    half.write_bytes(b"h")
    whole.write_bytes(b"w")
    dispose_of_inbox_file(half, _batch(half, Outcome.FILED, Outcome.UNDONE), settings)
    dispose_of_inbox_file(whole, _batch(whole, Outcome.FILED, Outcome.NEEDS_REVIEW, Outcome.DUPLICATE), settings)
    assert half.read_bytes() == b"h" and not whole.exists()
    assert not settings.quarantine.exists() or not any(settings.quarantine.iterdir())
