"""`pipeline export DIR` / `pipeline import DIR`: a backup restores everything or nothing.

The round trip runs on SQLite and on a throwaway PostgreSQL database with a home that has seen a
patient import, a merge, encounters, filing, a refile, review items open, resolved and closed, a
rejected input and the access log; the restored home is compared table by table and object by
object, and audited. Each way of damaging a backup is refused with the file's name, and the target
home stays empty.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pipeline.classify.types import load_types
from pipeline.commands.store import register
from pipeline.errors import PipelineError
from pipeline.patients import index, lookup
from pipeline.patients.importer import import_file
from pipeline.records import Rejection
from pipeline.services import documents, review
from pipeline.services.home import open_home
from pipeline.settings import Settings
from pipeline.store.backup_folder import SUMS
from pipeline.store.filing import file_document, quarantine
from pipeline.store.restore import SKIPPED_TABLES, backup_tables
from .conftest import RECEIVED

PATIENTS = """mrn,family_name,given_name,birth_date,sex,address,city,state,postcode,phone
MRN0007,Doe,Jane,1961-04-02,F,1 Elm St,Springfield,IL,62701,217-555-0101
MRN0008,Roe,Rita,1970-05-06,F,2 Oak St,Springfield,IL,62702,217-555-0102
MRN0009,Poe,Paul,1980-07-08,M,3 Ash St,Springfield,IL,62703,217-555-0103
MRN0030,Doe,Janet,1961-04-02,F,1 Elm St,Springfield,IL,62701,217-555-0101
"""


def run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="pipeline")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([*argv[:1], "--user", "tester", *argv[1:]])
    try:
        return int(args.handler(args, settings) or 0)
    except PipelineError as exc:
        print(f"pipeline: error: {exc}")
        return exc.exit_code


def tables_of(manifest) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}

    def keep(name, rows):
        out[name] = list(rows)
        return len(out[name])
    manifest.dump_tables(keep)
    return out


def objects_of(store) -> dict[str, bytes]:
    return {key: store.get(key) for key in store.iter_keys()}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def two_homes(request, tmp_path: Path) -> tuple[Settings, Settings]:
    if request.param == "sqlite":
        return Settings(home=tmp_path / "home"), Settings(home=tmp_path / "restored")
    first, second = request.getfixturevalue("postgres_url"), request.getfixturevalue("migrated_postgres_url")
    return (Settings(home=tmp_path / "home", database_url=first),
            Settings(home=tmp_path / "restored", database_url=second))


def busy_home(settings: Settings, make_filing, tmp_path: Path):
    """Patients (one merged into another), encounters, documents filed and queued, a refile, review
    items open / resolved / closed without filing, a rejected input, access-log entries."""
    manifest, store = open_home(settings)
    csv = tmp_path / "patients.csv"
    csv.write_text(PATIENTS)
    import_file(csv, manifest.engine)
    ids = {mrn: lookup.patient_id_for_mrn(manifest.engine, mrn) for mrn in ("MRN0007", "MRN0008", "MRN0009", "MRN0030")}
    with manifest.engine.begin() as conn:
        index.merge(conn, ids["MRN0030"], ids["MRN0007"])  # a duplicate record merged into the survivor
        conn.execute(text("INSERT INTO encounters (patient_id, visit_number, patient_class, admitted_at, discharged_at) "
                          "VALUES (:p, 'V-1', 'I', '2025-12-28 08:00:00', '2025-12-31 12:00:00')"), {"p": ids["MRN0007"]})
    filed = [file_document(store=store, manifest=manifest, **make_filing(patient_id=ids[mrn], mrn=mrn, text=words)
                           .kwargs()) for mrn, words in (("MRN0007", "Discharge summary after appendectomy"),
                                                         ("MRN0008", "Laboratory report potassium"))]
    queued = [file_document(store=store, manifest=manifest, **make_filing(
        filed=False, patient_id=ids["MRN0008"], mrn="MRN0008", text=f"Letter unclear patient {n}").kwargs())
        for n in range(3)]
    documents.refile(manifest, filed[1].document_id, patient_mrn="MRN0009", reason="wrong label", actor="sup")
    items = {item.document_id: item.id for item in manifest.review_items()}
    review.resolve(manifest, items[queued[0].document_id], actor="clerk", patient_mrn="MRN0008",
                   doc_type="letter", types=load_types(), confirm_birth_date_mismatch=True)
    review.close_unfiled(manifest, items[queued[1].document_id], actor="clerk", reason="no patient named")
    documents.view(manifest, store, filed[0].document_id, actor="clerk", reason="QA", out=None, original=False)
    bad = tmp_path / "fax.pdf"
    bad.write_bytes(b"not a pdf")
    quarantine(store=store, manifest=manifest, source=bad, rejection=Rejection(bad, "fax.pdf: not a PDF", "X"),
               sha256=hashlib.sha256(b"not a pdf").hexdigest(), received_at=RECEIVED)
    return manifest, store


def test_a_busy_home_round_trips_table_by_table_and_object_by_object(two_homes, make_filing, tmp_path: Path,
                                                                      capsys) -> None:
    source, target = two_homes
    manifest, store = busy_home(source, make_filing, tmp_path)
    backup = tmp_path / "backup"
    assert run(source, "export", str(backup), "--json") == 0
    exported = json.loads(capsys.readouterr().out)
    before, before_objects = tables_of(manifest), objects_of(store)

    assert run(target, "import", str(backup), "--json") == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["rows"] == exported["rows"] and imported["audit"] == "clean"
    restored, restored_store = open_home(target)
    after, after_objects = tables_of(restored), objects_of(restored_store)

    # every table of the metadata is in the backup (but the deliberately skipped ones), with rows
    assert set(before) == {t.name for t in backup_tables()} and not SKIPPED_TABLES & set(before)
    for name in ("patients", "identifiers", "names", "addresses", "phones", "encounters", "documents",
                 "document_text", "review_items", "review_candidates", "intake_events", "access_log"):
        assert before[name], f"the busy home has no {name} rows: the round trip would prove nothing"
    assert [p["merged_into_id"] for p in before["patients"]].count(None) == 3  # the merge is there
    assert {i["status"] for i in before["review_items"]} == {"open", "resolved"}
    assert "closed_unfiled" in {i["resolution"] for i in before["review_items"]}
    for name in before:
        if name != "access_log":
            assert after[name] == before[name], name
    # the import adds its own access-log entry, after every restored one
    assert after["access_log"][:-1] == before["access_log"]
    assert (after["access_log"][-1]["action"], after["access_log"][-1]["actor"]) == ("imported", "tester")
    # every object, bit for bit; the only new one is the journal event of that entry
    assert {k: v for k, v in after_objects.items() if k in before_objects} == before_objects
    [added] = set(after_objects) - set(before_objects)
    assert added.startswith("manifest/") and b'"imported"' in after_objects[added]
    # the restored home works: merges are followed, search finds text, the audit is clean
    assert lookup.patient_id_for_mrn(restored.engine, "MRN0030") == lookup.patient_id_for_mrn(restored.engine, "MRN0007")
    assert [d.document_id for d in restored.search(text="appendectomy")] == \
        [d.document_id for d in manifest.search(text="appendectomy")]
    assert run(target, "audit") == 0
    restored.record_access("clerk", "viewed")  # ids continue after the restored ones
    assert restored.access_log()[-1]["id"] == after["access_log"][-1]["id"] + 1
    with pytest.raises(DBAPIError, match="append-only"), restored.engine.begin() as conn:  # still append-only
        conn.execute(text("UPDATE access_log SET actor = 'someone else'"))


# ----------------------------------------------------------------------------- refusals


@pytest.fixture
def small_backup(tmp_path: Path, make_filing) -> tuple[Path, Settings]:
    home = Settings(home=tmp_path / "home")
    manifest, store = open_home(home)
    for n in range(3):
        file_document(store=store, manifest=manifest, **make_filing(text=f"Consent form {n}").kwargs())
    backup = tmp_path / "backup"
    assert run(home, "export", str(backup)) == 0
    return backup, Settings(home=tmp_path / "restored")


def sums(backup: Path) -> list[str]:
    return (backup / SUMS).read_text().splitlines()


def set_sums(backup: Path, lines: list[str]) -> None:
    (backup / SUMS).write_text("".join(f"{line}\n" for line in lines))


def rehash(backup: Path, name: str) -> None:
    """Make SHA256SUMS agree with a file changed on purpose (what a careful forger would do)."""
    digest = hashlib.sha256((backup / name).read_bytes()).hexdigest()
    set_sums(backup, [f"{digest}  {name}" if line.endswith(f"  {name}") else line for line in sums(backup)])


def first_object(backup: Path) -> str:
    return next(line.split("  ", 1)[1] for line in sums(backup) if line.split("  ", 1)[1].startswith("objects/patients/"))


def edit_documents_drop_its_line(backup: Path) -> None:  # the first case
    path = backup / "tables/documents.ndjson"
    path.write_text(path.read_text().replace("MRN0007", "MRN0666"))
    set_sums(backup, [line for line in sums(backup) if not line.endswith("tables/documents.ndjson")])


def cut_sums_short(backup: Path) -> None:  # the second case
    set_sums(backup, sums(backup)[:-4])


def symlink_an_object(backup: Path) -> None:  # the third case, with a checksum that fits
    name = first_object(backup)
    (backup / name).unlink()
    (backup / name).symlink_to("/etc/passwd")
    rehash(backup, name)


def fifo_in_the_folder(backup: Path) -> None:
    os.mkfifo(backup / "objects" / "pipe")


def delete_a_listed_object(backup: Path) -> None:
    (backup / first_object(backup)).unlink()


def change_an_object(backup: Path) -> None:
    path = backup / first_object(backup)
    path.write_bytes(path.read_bytes() + b"\0")


def name_outside(relative: str):
    def mangle(backup: Path) -> None:
        set_sums(backup, [*sums(backup), f"{'0' * 64}  {relative}"])
    return mangle


def drop_an_object_everywhere(backup: Path) -> None:
    """The object, its line, and export.json's count all consistent: the rows still name it."""
    name = first_object(backup)
    (backup / name).unlink()
    set_sums(backup, [line for line in sums(backup) if not line.endswith(f"  {name}")])
    info = json.loads((backup / "export.json").read_text())
    (backup / "export.json").write_text(json.dumps({**info, "objects": info["objects"] - 1}))
    rehash(backup, "export.json")


def drop_a_row_and_rehash(backup: Path) -> None:
    path = backup / "tables/access_log.ndjson"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    rehash(backup, "tables/access_log.ndjson")


def bad_value_and_rehash(backup: Path) -> None:
    path = backup / "tables/documents.ndjson"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[1]["filed_at"] = "yesterday"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rehash(backup, "tables/documents.ndjson")


def info_edit(**changes):
    def mangle(backup: Path) -> None:
        info = json.loads((backup / "export.json").read_text())
        (backup / "export.json").write_text(json.dumps({**info, **changes}))
        rehash(backup, "export.json")
    return mangle


@pytest.mark.parametrize("mangle, code, message", [
    (edit_documents_drop_its_line, 8, "tables/documents.ndjson: in the backup folder but not in SHA256SUMS"),
    (cut_sums_short, 8, "in the backup folder but not in SHA256SUMS (4 unlisted files)"),
    (lambda b: (b / SUMS).write_bytes((b / SUMS).read_bytes()[:-30]), 8, "SHA256SUMS: the last line is cut short"),
    (symlink_an_object, 8, "not a regular file (a symbolic link)"),
    (fifo_in_the_folder, 8, "objects/pipe: not a regular file (a named pipe)"),
    (delete_a_listed_object, 8, "listed in SHA256SUMS but missing"),
    (change_an_object, 8, "its SHA-256 does not match SHA256SUMS"),
    (name_outside("../outside.pdf"), 8, "'../outside.pdf' is not a file inside the backup folder"),
    (name_outside("/etc/passwd"), 8, "'/etc/passwd' is not a file inside the backup folder"),
    (lambda b: set_sums(b, [*sums(b), "not a checksum line"]), 8, "not `<sha256>  <file>`"),
    (drop_an_object_everywhere, 8, "which the backup does not hold"),
    (drop_a_row_and_rehash, 8, "export.json: its counts are not what the backup holds"),
    (bad_value_and_rehash, 8, "tables/documents.ndjson line 2: column filed_at: str is not an ISO date"),
    (info_edit(schema_revision="0001"), 7, "the backup is at database schema revision 0001"),
    (info_edit(schema_revision="9999"), 7, "revision 9999, which this pipeline does not know"),
    (info_edit(format=1), 8, "format 1, written before backups held the patient index"),
], ids=["edited-unlisted", "sums-cut", "sums-cut-mid-line", "symlink", "fifo", "missing", "changed", "dotdot",
        "absolute", "bad-line", "object-gone", "row-gone", "bad-value", "older-schema", "newer-schema", "format-1"])
def test_a_damaged_backup_is_refused_by_name_and_nothing_is_written(small_backup, mangle, code, message,
                                                                     capsys) -> None:
    backup, target = small_backup
    mangle(backup)
    assert run(target, "import", str(backup)) == code
    assert message in capsys.readouterr().out
    manifest, store = open_home(target)
    assert manifest.nonempty_tables() == [] and list(store.iter_keys()) == []


def test_import_refuses_a_home_that_is_not_empty_but_resumes_a_half_done_import(small_backup, tmp_path,
                                                                               capsys) -> None:
    backup, target = small_backup
    _, store = open_home(target)
    key = first_object(backup).removeprefix("objects/")
    store.put(key, (backup / "objects" / key).read_bytes(), "application/pdf")  # put by an import that died
    assert run(target, "import", str(backup)) == 0
    capsys.readouterr()
    assert run(target, "import", str(backup)) == 7
    assert "the home is not empty (table" in capsys.readouterr().out
    other = Settings(home=tmp_path / "other")
    open_home(other).store.put("patients/1/x.pdf", b"%PDF- something else", "application/pdf")
    assert run(other, "import", str(backup)) == 7
    assert "its store holds patients/1/x.pdf, which the backup does not" in capsys.readouterr().out
