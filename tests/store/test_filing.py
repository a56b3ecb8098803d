"""file_document and quarantine: objects, manifest row, review item, journal."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.errors import CorruptFileError
from pipeline.records import DocumentStatus, Outcome, Rejection
from pipeline.store.filing import file_document, quarantine
from pipeline.store.manifest import Manifest
from pipeline.store.objects import LocalStore

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # as in conftest.make_filing


def test_filed_document_stores_original_and_searchable_copy(store: LocalStore, manifest: Manifest,
                                                            make_filing) -> None:
    filing = make_filing()
    entry = file_document(store=store, manifest=manifest, **filing.kwargs())
    assert entry.outcome is Outcome.FILED and entry.status is DocumentStatus.CURRENT
    assert entry.original.key == f"originals/patients/7/discharge_summary/2025/{entry.document_id}.pdf"
    assert entry.searchable.key == f"patients/7/discharge_summary/2025/{entry.document_id}.pdf"
    assert store.get(entry.original.key) == filing.incoming.source.read_bytes()  # untouched
    assert store.get(entry.searchable.key) == filing.ocr.searchable_pdf.read_bytes()
    doc = manifest.get(entry.document_id)
    assert doc.patient_mrn == "MRN0007" and doc.patient_id == 7 and doc.loinc == "18842-5"
    assert doc.sha1 == hashlib.sha1(filing.incoming.source.read_bytes()).hexdigest()
    assert doc.date_of_service.isoformat() == "2025-12-30" and doc.pages == 1
    assert doc.versions["ocr"] == "tesseract 5.3.0"
    assert doc.source_patient_info.family_name == "DOE"
    assert manifest.text_of(doc.sha256).startswith("DISCHARGE SUMMARY")
    lines = [json.loads(line) for key in store.iter_keys("manifest/") for line in store.get(key).splitlines()]
    assert [line["document"]["document_id"] for line in lines] == [entry.document_id]
    assert lines[0]["text"].startswith("DISCHARGE SUMMARY")


def test_doubtful_document_goes_under_the_review_prefix_with_a_review_item(store, manifest, make_filing) -> None:
    filing = make_filing(filed=False, service=None)
    entry = file_document(store=store, manifest=manifest, **filing.kwargs())
    assert entry.outcome is Outcome.NEEDS_REVIEW and entry.patient_mrn is None
    assert entry.original.key.startswith("originals/review/2026/03/")
    assert entry.searchable.key.startswith("review/2026/03/")
    [item] = manifest.open_review_items()
    assert item.document_id == entry.document_id
    assert item.match_reasons == ("two patients come close",)
    assert [c.patient_id for c in item.candidates] == [7, 8]
    assert item.identifiers.birth_date.isoformat() == "1961-04-02"
    assert manifest.get(entry.document_id).patient_id is None


def test_filed_decision_without_a_chosen_patient_is_queued_not_filed(store, manifest, make_filing) -> None:
    filing = make_filing()
    filing.match = type(filing.match)(filing.match.outcome, None, filing.match.candidates, ())
    entry = file_document(store=store, manifest=manifest, **filing.kwargs())
    assert entry.outcome is Outcome.NEEDS_REVIEW
    assert "no patient was chosen" in manifest.get(entry.document_id).reasons[-1]


def test_same_bytes_twice_are_linked_not_stored_twice(store, manifest, make_filing) -> None:
    filing = make_filing()
    first = file_document(store=store, manifest=manifest, **filing.kwargs())
    objects_before = sorted(store.iter_keys("patients/"))
    again = file_document(store=store, manifest=manifest, **filing.kwargs())
    assert again.outcome is Outcome.DUPLICATE and again.document_id == first.document_id
    assert sorted(store.iter_keys("patients/")) == objects_before
    assert manifest.find_duplicate(filing.incoming.sha256) == first.document_id
    [event] = manifest.intake_events("duplicate")
    assert event["document_id"] == first.document_id and event["sha256"] == filing.incoming.sha256


def test_without_a_searchable_copy_only_the_original_is_stored(store, manifest, make_filing) -> None:
    entry = file_document(store=store, manifest=manifest, **make_filing(searchable=False).kwargs())
    assert entry.searchable is None
    assert manifest.get(entry.document_id).searchable_key is None


def test_a_file_changed_since_intake_is_refused(store, manifest, make_filing) -> None:
    filing = make_filing()
    filing.incoming.source.write_bytes(b"%PDF-1.4 something else entirely")
    with pytest.raises(CorruptFileError, match="changed while it was being processed"):
        file_document(store=store, manifest=manifest, **filing.kwargs())
    assert manifest.count() == 0


def test_quarantine_keeps_the_bytes_and_the_reason(store: LocalStore, manifest: Manifest, tmp_path: Path) -> None:
    bad = tmp_path / "fax_0001.pdf"
    bad.write_bytes(b"this is not a PDF at all")
    rejection = Rejection(bad, "fax_0001.pdf: not a PDF (text); re-scan it", "UnsupportedFormatError")
    key = quarantine(store=store, manifest=manifest, source=bad, rejection=rejection, sha256=None,
                     received_at=RECEIVED)
    assert key.startswith("quarantine/2026/03/02/") and key.endswith("-fax_0001.pdf")
    assert store.get(key) == b"this is not a PDF at all"
    [reason_key] = [k for k in store.iter_keys("quarantine/") if k.endswith(".reason.txt")]
    assert reason_key.startswith(key) and b"UnsupportedFormatError" in store.get(reason_key)
    [event] = manifest.intake_events("rejected")
    assert event["quarantine_key"] == key and event["error"] == "UnsupportedFormatError"
    # the same file rejected again for another reason: bytes kept once, both reasons kept
    again = quarantine(store=store, manifest=manifest, source=bad, rejection=Rejection(bad, "other", "OSError"),
                       sha256=None, received_at=RECEIVED)
    assert again == key
    assert len([k for k in store.iter_keys("quarantine/") if k.endswith(".reason.txt")]) == 2
    assert len(manifest.intake_events("rejected")) == 2


def test_quarantine_of_an_unreadable_file_keeps_the_reason(store, manifest, tmp_path: Path) -> None:
    gone = tmp_path / "vanished.pdf"
    rejection = Rejection(gone, "vanished.pdf: cannot be read", "OSError")
    key = quarantine(store=store, manifest=manifest, source=gone, rejection=rejection, sha256=None,
                     received_at=datetime(2026, 1, 5, tzinfo=UTC))
    assert "unreadable-vanished.pdf." in key and key.endswith(".reason.txt")
    assert b"cannot be read" in store.get(key)
    assert list(store.iter_keys("quarantine/")) == [key]


def test_quarantine_never_reads_through_a_link_or_a_fifo(store, manifest, tmp_path: Path) -> None:
    import os

    secret = tmp_path / "someone_elses_scan.pdf"
    secret.write_bytes(b"%PDF-1.4 another patient's chart")
    link = tmp_path / "scan.pdf"
    link.symlink_to(secret)
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)  # opening it for reading the ordinary way would block for ever
    for source in (link, fifo):
        key = quarantine(store=store, manifest=manifest, source=source, sha256=None, received_at=RECEIVED,
                         rejection=Rejection(source, f"{source.name}: not a regular file", "NotRegularFileError"))
        assert key.endswith(".reason.txt")  # only the reason is kept
    kept = b"".join(store.get(k) for k in store.iter_keys("quarantine/"))
    assert b"another patient" not in kept and b"not a regular file" in kept
