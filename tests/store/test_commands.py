"""The store's sub-commands, run through their argparse registration with the CLI's error contract
(a PipelineError becomes its exit code), on a real home folder with a SQLite manifest."""

from __future__ import annotations

import argparse
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fhir.resources.R4B.documentreference import DocumentReference
from sqlalchemy import text

from pipeline.errors import PipelineError
from pipeline.records import OcrPage, OcrResult
from pipeline.settings import Settings
from pipeline.commands.store import register
from pipeline.services.home import open_home
from pipeline.store.filing import file_document


def run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="pipeline")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    try:
        return int(args.handler(args, settings) or 0)
    except PipelineError as exc:
        print(f"pipeline: error: {exc}")
        return exc.exit_code


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


@pytest.fixture
def filed_home(home: Settings, make_filing):
    """A home with two documents for MRN0007, one for MRN0008, and one in the review queue."""
    manifest, store = open_home(home)
    entries = [file_document(store=store, manifest=manifest, **make_filing(**kw).kwargs()) for kw in (
        {"text": "Discharge summary after appendectomy"},
        {"text": "Consent for anesthesia", "doc_type": "consent", "loinc": "59284-0"},
        {"text": "Laboratory report potassium", "patient_id": 8, "mrn": "MRN0008", "doc_type": "laboratory_report",
         "loinc": "11502-2"},
        {"text": "Letter unclear patient", "filed": False},
    )]
    _add_patient(manifest.engine, 8, "MRN0008")
    return home, manifest, store, entries


def _add_patient(engine, patient_id: int, mrn: str, merged_into: int | None = None) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO patients (id, birth_date, sex, active, merged_into_id, source, created_at, "
                          "updated_at) VALUES (:id, NULL, 'F', :active, :m, 'csv', :now, :now)"),
                     {"id": patient_id, "active": merged_into is None, "m": merged_into, "now": now})
        conn.execute(text("INSERT INTO identifiers (patient_id, value, authority, type_code, status) "
                          "VALUES (:id, :mrn, 'LOCAL', 'MR', 'active')"), {"id": patient_id, "mrn": mrn})


def test_search_and_get_log_views(filed_home, capsys) -> None:
    home, manifest, _, entries = filed_home
    assert run(home, "search", "--patient", "MRN0007", "--json") == 0
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {f["document_id"] for f in found} == {entries[0].document_id, entries[1].document_id}
    assert run(home, "search", "--text", "potassium") == 0
    assert entries[2].document_id in capsys.readouterr().out
    chart_view = [e for e in manifest.access_log() if e["patient_mrn"] == "MRN0007"]
    assert [(e["action"], e["document_id"], e["reason"]) for e in chart_view] == \
        [("viewed", None, "search: 2 documents listed")]
    assert run(home, "get", entries[0].document_id, "--user", "clerk.ann", "--reason", "QA") == 0
    assert "MRN0007" in capsys.readouterr().out
    [entry] = manifest.access_log(entries[0].document_id)
    assert (entry["actor"], entry["action"], entry["reason"]) == ("clerk.ann", "viewed", "QA")
    assert run(home, "get", entries[0].document_id, "--fhir") == 0
    resource = DocumentReference.model_validate_json(capsys.readouterr().out)
    assert resource.id == entries[0].document_id and resource.subject.reference == "Patient/7"


def test_get_out_writes_the_verified_pdf_and_logs_a_download(filed_home, tmp_path: Path, make_filing) -> None:
    home, manifest, store, entries = filed_home
    out = tmp_path / "copy.pdf"
    assert run(home, "get", entries[0].document_id, "--out", str(out), "--user", "u1") == 0
    assert out.read_bytes() == store.get(entries[0].searchable.key)
    assert manifest.access_log(entries[0].document_id)[-1]["action"] == "downloaded"
    assert run(home, "get", "no-such-id") == 9


def test_refile_by_mrn(filed_home, capsys) -> None:
    home, manifest, _, entries = filed_home
    assert run(home, "refile", entries[0].document_id, "--patient", "MRN0008", "--reason", "wrong label",
               "--json", "--user", "sup") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["replaces"] == entries[0].document_id and result["patient_mrn"] == "MRN0008"
    assert manifest.get(result["document_id"]).patient_id == 8
    assert run(home, "refile", result["document_id"], "--patient", "NOPE", "--reason", "x") == 9
    assert "no patient with MRN NOPE" in capsys.readouterr().out


def test_refile_follows_a_merge_to_the_survivor(filed_home) -> None:
    home, manifest, _, entries = filed_home
    _add_patient(manifest.engine, 30, "MRN0030", merged_into=8)
    assert run(home, "refile", entries[0].document_id, "--patient", "MRN0030", "--reason", "merge") == 0
    assert manifest.search(patient_mrn="MRN0030")[0].patient_id == 8


def test_refile_to_the_patient_it_is_filed_to_is_refused(filed_home, capsys) -> None:
    home, manifest, _, entries = filed_home
    _add_patient(manifest.engine, 30, "MRN0030", merged_into=8)
    before = len(manifest.access_log())
    for mrn in ("MRN0008", "MRN0030"):  # its own MRN, and one merged into its patient
        assert run(home, "refile", entries[2].document_id, "--patient", mrn, "--reason", "double-check") == 11
        assert f"is filed to MRN MRN0008 already (the patient MRN {mrn} names); nothing was changed" in \
            capsys.readouterr().out
    assert manifest.get(entries[2].document_id).status == "current"
    assert [d.document_id for d in manifest.search(patient_mrn="MRN0008")] == [entries[2].document_id]
    assert len(manifest.access_log()) == before


def test_export_fhir_writes_valid_document_references(filed_home, tmp_path: Path) -> None:
    home, manifest, _, entries = filed_home
    _add_patient(manifest.engine, 7, "MRN0007")
    with manifest.engine.begin() as conn:  # the documents' date of service, 2025-12-30, is in V-9
        conn.execute(text("INSERT INTO encounters (id, patient_id, visit_number, admitted_at, discharged_at) VALUES "
                          "(91, 7, 'V-9', '2025-12-28 08:00:00', '2025-12-31 12:00:00'), "
                          "(92, 7, 'V-8', '2025-06-01 08:00:00', '2025-06-03 12:00:00')"))
    out = tmp_path / "refs.ndjson"
    assert run(home, "export", "fhir", str(out)) == 0
    resources = [DocumentReference.model_validate_json(line) for line in out.read_text().splitlines()]
    assert sorted(r.id for r in resources) == sorted(e.document_id for e in entries)
    by_id = {r.id: r for r in resources}
    encounter = by_id[entries[0].document_id].context.encounter[0]
    assert encounter.reference == "Encounter/91" and encounter.identifier.value == "V-9"
    assert by_id[entries[2].document_id].context.encounter is None  # patient 8 has no encounter
    assert run(home, "export", "fhir", str(out)) == 7  # never replaces a file
    assert manifest.access_log()[0]["action"] == "exported"


def test_export_then_import_into_an_empty_home_is_bit_for_bit(filed_home, tmp_path: Path) -> None:
    home, manifest, store, entries = filed_home
    manifest.refile(entries[0].document_id, 8, "MRN0008", "wrong label", "sup")
    backup = tmp_path / "backup"
    assert run(home, "export", str(backup)) == 0
    target = Settings(home=tmp_path / "restored")
    assert run(target, "import", str(backup)) == 0
    restored, restored_store = open_home(target)
    again = tmp_path / "again"
    assert run(target, "export", str(again)) == 0
    sums = lambda d: {line.split("  ")[1]: line.split("  ")[0]  # noqa: E731
                      for line in (d / "SHA256SUMS").read_text().splitlines()}
    first, second = sums(backup), sums(again)
    # everything restored is identical; the import and the second export only add their own
    # access-log entries (in the table and as one new journal object each); export.json has the counts
    assert {k: v for k, v in first.items() if "access_log" not in k and k != "export.json"} == \
        {k: v for k, v in second.items() if "access_log" not in k and k in first and k != "export.json"}
    added = set(second) - set(first)
    assert len(added) == 2 and all(k.startswith("objects/manifest/") for k in added)
    log_before = (backup / "tables/access_log.ndjson").read_text().splitlines()
    assert (again / "tables/access_log.ndjson").read_text().splitlines()[:len(log_before)] == log_before
    assert [d.document_id for d in restored.search(text="appendectomy", status=None)] == \
        [d.document_id for d in manifest.search(text="appendectomy", status=None)]
    assert restored_store.get(entries[1].original.key) == store.get(entries[1].original.key)
    assert run(target, "import", str(backup)) == 7  # not an empty home any more


def test_import_refuses_a_damaged_export(filed_home, tmp_path: Path, capsys) -> None:
    home, _, _, entries = filed_home
    backup = tmp_path / "backup"
    assert run(home, "export", str(backup)) == 0
    victim = backup / "objects" / entries[1].original.key
    victim.write_bytes(victim.read_bytes() + b"\x00")
    target = Settings(home=tmp_path / "restored")
    assert run(target, "import", str(backup)) == 8
    assert f"objects/{entries[1].original.key}: its SHA-256 does not match SHA256SUMS" in capsys.readouterr().out
    manifest, store = open_home(target)
    assert manifest.is_empty() and not list(store.iter_keys())


def test_release_bundles_the_patients_documents_and_logs_the_disclosure(filed_home, tmp_path: Path) -> None:
    home, manifest, store, entries = filed_home
    out = tmp_path / "roi.zip"
    assert run(home, "release", "--patient", "MRN0007", "--to", "Dr. Example, Springfield Clinic",
               "--purpose", "continuity of care", str(out), "--user", "roi.clerk") == 0
    with zipfile.ZipFile(out) as bundle:
        names = bundle.namelist()
        index = json.loads(bundle.read("index.json"))
        assert len(names) == 4
        for item in index["documents"]:
            assert bundle.read(item["file"]) == store.get(manifest.get(item["document_id"]).searchable_key)
        references = [DocumentReference.model_validate_json(line)
                      for line in bundle.read("DocumentReference.ndjson").decode().splitlines()]
        assert [[c.attachment.url for c in r.content] for r in references] == \
            [[i["file"]] for i in index["documents"]]
    assert {d["document_id"] for d in index["documents"]} == {entries[0].document_id, entries[1].document_id}
    released = [e for e in manifest.access_log() if e["action"] == "released"]
    assert len(released) == 2 and released[0]["recipient"].startswith("Dr. Example")
    assert released[0]["reason"] == "continuity of care" and released[0]["actor"] == "roi.clerk"
    assert run(home, "release", "--patient", "NOBODY", "--to", "x", "--purpose", "y", str(tmp_path / "n.zip")) == 9


def test_audit_clean_then_damaged(filed_home, capsys) -> None:
    home, manifest, store, entries = filed_home
    assert run(home, "audit", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["damaged"] is False and report["documents"] == 4 and report["objects_checked"] == 8
    (store.root / entries[2].searchable.key).write_bytes(b"%PDF-1.4 tampered")
    (store.root / entries[1].original.key).unlink()
    store.put("patients/99/consent/2025/stray.pdf", b"%PDF stray", "application/pdf")
    assert run(home, "audit") == 10
    out = capsys.readouterr().out
    assert "hash-mismatch" in out and "missing" in out and "orphan" in out
    assert "audit found 2 damaged or missing objects" in out
    # --quick trusts the recorded checksums: it still sees the missing object, not the changed bytes
    assert run(home, "audit", "--quick", "--json") == 10
    quick = json.loads(capsys.readouterr().out.splitlines()[0])
    assert quick["counts"] == {"missing": 1, "orphan": 1}


def test_audit_reports_documents_without_text_and_missing_discharge_summaries(filed_home, capsys, make_filing):
    home, manifest, store, entries = filed_home
    blank = make_filing(patient_id=8, mrn="MRN0008")
    blank.ocr = OcrResult(pages=(OcrPage(number=1, text="", confidence=-1.0),), searchable_pdf=None, engine="t")
    file_document(store=store, manifest=manifest, **blank.kwargs())
    _add_patient(manifest.engine, 50, "MRN0050")
    with manifest.engine.begin() as conn:
        conn.execute(text("INSERT INTO encounters (patient_id, visit_number, admitted_at, discharged_at) VALUES "
                          "(50, 'V-1', '2025-11-01 08:00:00', '2025-11-04 12:00:00'), "
                          "(8, 'V-2', '2025-12-20 08:00:00', '2025-12-29 12:00:00')"))
    assert run(home, "audit", "--json") == 0  # findings, but no damage
    report = json.loads(capsys.readouterr().out)
    kinds = [(f["kind"], f["detail"]) for f in report["findings"]]
    [deficiency] = [d for k, d in kinds if k == "no-discharge-summary"]  # patient 8 has one dated 2025-12-30
    assert "patient 50: encounter V-1 discharged 2025-11-04" in deficiency
    assert report["counts"]["no-text"] == 1


def test_reindex_rebuilds_the_manifest_from_the_store(filed_home, tmp_path: Path, capsys) -> None:
    home, manifest, store, entries = filed_home
    new = manifest.refile(entries[0].document_id, 8, "MRN0008", "wrong label", "sup")
    [item] = manifest.open_review_items()
    manifest.resolve_review_item(item.id, actor="clerk", patient_id=7, patient_mrn="MRN0007", doc_type="letter",
                                 loinc="51852-2")
    # a new home with an empty database but the same object store
    fresh = Settings(home=tmp_path / "fresh")
    fresh_manifest, _ = open_home(fresh)
    from pipeline.services.backup import reindex
    result = reindex(fresh_manifest, store)
    assert result.documents == 5 and result.added == 5 and result.review_items == 1
    for doc in manifest.iter_documents():
        assert fresh_manifest.get(doc.document_id) == doc
    assert [d.document_id for d in fresh_manifest.search(text="appendectomy")] == [new.document_id]
    assert fresh_manifest.reviewed_types()[0][1] == "letter"
    assert run(home, "reindex", "--json") == 0  # in place: nothing new
    assert json.loads(capsys.readouterr().out)["added"] == 0


def test_get_out_never_replaces_a_file(filed_home, tmp_path: Path, capsys) -> None:
    home, _, _, entries = filed_home
    out = tmp_path / "exists.pdf"
    out.write_bytes(b"mine")
    assert run(home, "get", entries[0].document_id, "--out", str(out)) == 7
    assert "already exists" in capsys.readouterr().out and out.read_bytes() == b"mine"


@pytest.mark.integration
def test_a_sqlite_backup_restores_into_postgresql_bit_for_bit(filed_home, tmp_path: Path, postgres_url: str,
                                                              capsys) -> None:
    home, manifest, store, entries = filed_home
    backup, again = tmp_path / "backup", tmp_path / "again"
    assert run(home, "export", str(backup)) == 0
    target = Settings(home=tmp_path / "pg-home", database_url=postgres_url)
    assert run(target, "import", str(backup)) == 0
    restored, _ = open_home(target)
    restored.record_access("clerk", "viewed", document_id=entries[0].document_id)  # ids continue after the import
    assert run(target, "export", str(again)) == 0
    sums = lambda d: dict(reversed(line.split("  ")) for line in (d / "SHA256SUMS").read_text().splitlines())  # noqa: E731
    first, second = sums(backup), sums(again)
    assert {k: v for k, v in first.items() if "access_log" not in k and k != "export.json"} == \
        {k: v for k, v in second.items() if "access_log" not in k and k in first and k != "export.json"}
    assert all(k.startswith("objects/manifest/") for k in set(second) - set(first))
    assert [d.document_id for d in restored.search(text="potassium")] == [entries[2].document_id]
    assert run(target, "audit") == 0


def test_reindex_starts_from_the_newest_snapshot(filed_home, tmp_path: Path, capsys, make_filing) -> None:
    home, manifest, store, entries = filed_home
    assert run(home, "reindex", "--snapshot", "--json") == 0
    snapshot = json.loads(capsys.readouterr().out)
    assert snapshot["documents"] == 4 and snapshot["snapshot"].endswith("-snapshot.ndjson")
    later = file_document(store=store, manifest=manifest, **make_filing(text="Pathology report margins").kwargs())
    moved = manifest.refile(entries[2].document_id, 7, "MRN0007", "wrong label", "sup")
    # the four filing events before the snapshot are not replayed any more
    from pipeline.store import journal
    keys = sorted(store.iter_keys("manifest/"))
    assert keys.index(snapshot["snapshot"]) == 4
    replayed = [line["document"]["document_id"] for line in journal.replay(store) if line["kind"] == "document"]
    assert len(replayed) == 4 + 1 + 2
    fresh = Settings(home=tmp_path / "fresh")
    fresh_manifest, _ = open_home(fresh)
    from pipeline.services.backup import reindex
    assert reindex(fresh_manifest, store).documents == 6
    for doc in manifest.iter_documents():
        assert fresh_manifest.get(doc.document_id) == doc
    assert [d.document_id for d in fresh_manifest.search(text="margins")] == [later.document_id]
    assert [d.document_id for d in fresh_manifest.search(text="potassium")] == [moved.document_id]
    assert len(fresh_manifest.open_review_items()) == 1


def test_changes_made_without_a_store_reach_the_journal_through_the_outbox(filed_home, tmp_path: Path,
                                                                            capsys) -> None:
    """An ADT merge runs with the database only: its journal event waits in the outbox until a
    process holding the store copies it, so a reindex still sees the merge."""
    from pipeline.services.backup import reindex
    from pipeline.store.manifest import Manifest

    home, manifest, store, entries = filed_home
    adt_side = Manifest(manifest.engine)  # no store
    assert adt_side.repoint_patient(7, 70, "MRN0070", "ADT A40 merge", "adt") == 2
    assert adt_side.pending_journal_events() == 1
    assert run(home, "audit", "--json") == 0  # opening the store flushes the outbox first
    report = json.loads(capsys.readouterr().out)
    assert "journal-pending" not in report["counts"]
    assert manifest.pending_journal_events() == 0
    fresh, _ = open_home(Settings(home=tmp_path / "fresh"))
    reindex(fresh, store)
    assert {d.document_id for d in fresh.search(patient_mrn="MRN0070")} == {entries[0].document_id,
                                                                           entries[1].document_id}
    assert fresh.get(entries[0].document_id).revision == 2


def test_replay_keeps_the_highest_revision_whatever_the_key_order(store) -> None:
    from datetime import UTC, datetime

    from pipeline.store import journal

    base = {"document_id": "d1", "sha256": "a" * 64}
    later, earlier = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    journal.write_event(store, [{"kind": "document", "document": {**base, "revision": 3, "patient_mrn": "NEW"}}],
                        earlier, "d1")
    journal.write_event(store, [{"kind": "document", "document": {**base, "revision": 2, "patient_mrn": "OLD"}}],
                        later, "d1")  # a slow flusher wrote an older state later
    assert journal.collect(store).documents["d1"]["patient_mrn"] == "NEW"


def test_the_real_cli_dispatches_store_commands_and_exit_codes(filed_home, capsys) -> None:
    from pipeline.cli import main

    home, _, store, entries = filed_home
    assert main(["--home", str(home.home), "search", "--type", "consent", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["document_id"] == entries[1].document_id
    assert main(["--home", str(home.home), "get", "no-such-document"]) == 9
    (store.root / entries[0].original.key).write_bytes(b"damaged")
    assert main(["--home", str(home.home), "audit"]) == 10
    assert "audit found 1 damaged" in capsys.readouterr().err


def test_the_access_log_is_journaled_and_a_reindex_puts_it_back(filed_home, tmp_path: Path) -> None:
    from pipeline.services.backup import reindex

    home, manifest, store, entries = filed_home
    assert run(home, "get", entries[0].document_id, "--user", "clerk.ann", "--reason", "QA") == 0
    manifest.refile(entries[1].document_id, 8, "MRN0008", "wrong label", "sup")
    original_log = manifest.access_log()
    assert [e["action"] for e in original_log] == ["viewed", "refiled", "refiled"]
    fresh, _ = open_home(Settings(home=tmp_path / "fresh"))
    assert reindex(fresh, store).access_entries_restored == 3
    assert fresh.access_log() == original_log
    assert reindex(fresh, store).access_entries_restored == 0  # nothing twice


def test_bad_command_line_input_gets_its_exit_code_and_advice(filed_home, tmp_path: Path, capsys) -> None:
    home, manifest, _, entries = filed_home
    not_a_backup = tmp_path / "random-folder"
    not_a_backup.mkdir()
    with manifest.engine.begin() as conn:  # one MRN under two assigning authorities
        conn.execute(text("INSERT INTO patients (id, birth_date, sex, active, merged_into_id, source, created_at, "
                          "updated_at) VALUES (60, NULL, 'M', 1, NULL, 'csv', '2026-01-01', '2026-01-01')"))
        conn.execute(text("INSERT INTO identifiers (patient_id, value, authority, type_code, status) "
                          "VALUES (60, 'MRN0008', 'OTHER-HOSPITAL', 'MR', 'active')"))
    cases = [
        (("export", "fhirr", str(tmp_path / "x.ndjson")), 9, "unknown export 'fhirr'"),
        (("export", "fhir"), 9, "needs the output file"),
        (("import", str(tmp_path / "nowhere")), 9, "no such folder"),
        (("import", str(not_a_backup)), 9, "no SHA256SUMS file"),
        (("release", "--patient", "MRN0007", "--to", " ", "--purpose", "care", str(tmp_path / "r.zip")), 7,
         "needs the requester"),
        (("refile", entries[0].document_id, "--patient", "MRN0008", "--reason", "x"), 6,
         "MRN MRN0008 belongs to 2 patients"),
        (("export", str(tmp_path / "random-folder")), 7, "not empty"),
    ]
    (not_a_backup / "something.txt").write_text("x")
    for argv, code, message in cases:
        assert run(home, *argv) == code, argv
        assert message in capsys.readouterr().out, argv


def test_audit_journal_finds_rows_the_journal_lacks(filed_home, capsys) -> None:
    home, manifest, store, entries = filed_home
    assert run(home, "audit", "--journal", "--json") == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []
    with manifest.engine.begin() as conn:  # a change made behind the manifest's back: no journal event
        conn.execute(text("UPDATE documents SET revision = revision + 1, patient_mrn = 'X' "
                          "WHERE document_id = :d"), {"d": entries[0].document_id})
    assert run(home, "audit", "--journal", "--json") == 0
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert finding["kind"] == "journal-stale" and finding["document_id"] == entries[0].document_id
    assert run(home, "reindex", "--snapshot") == 0
    capsys.readouterr()
    assert run(home, "audit", "--journal", "--json") == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_audit_checks_quarantined_inputs_too(filed_home, tmp_path: Path, capsys) -> None:
    from pipeline.records import Rejection
    from pipeline.store.filing import quarantine

    home, manifest, store, _ = filed_home
    bad = tmp_path / "fax.pdf"
    bad.write_bytes(b"not a pdf")
    key = quarantine(store=store, manifest=manifest, source=bad, rejection=Rejection(bad, "fax.pdf: not a PDF", "X"),
                     sha256=None, received_at=datetime(2026, 2, 1, tzinfo=UTC))
    assert run(home, "audit", "--json") == 0
    assert json.loads(capsys.readouterr().out)["objects_checked"] == 9
    (store.root / key).unlink()
    assert run(home, "audit", "--json") == 10
    report = json.loads(capsys.readouterr().out.splitlines()[0])
    assert [(f["kind"], f["key"]) for f in report["findings"]] == [("missing", key)]
