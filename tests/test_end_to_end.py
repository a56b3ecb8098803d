"""The whole flow with real Tesseract on the committed samples, through the command line.

`samples/expected.csv` says what each sample must come out as; `samples/README.md` says how each
was made. One module-scoped home is shared so the samples are OCR'd once.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.store.database import make_engine
from pipeline.store.manifest import Manifest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def expected_outcomes() -> dict[str, dict[str, str]]:
    with (SAMPLES / "expected.csv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def run_json(capsys, *argv: str) -> tuple[int, list[dict]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """Import the sample patients, then process every sample once."""
    home = tmp_path_factory.mktemp("home")
    out = io.StringIO()  # capsys is function-scoped; this fixture is not
    with contextlib.redirect_stdout(out):
        assert main(["--home", str(home), "patients", "import", "--json", str(SAMPLES / "patients.csv")]) == 0
        imported = json.loads(out.getvalue().splitlines()[-1])
        out.truncate(0), out.seek(0)
        code = main(["--home", str(home), "process", "--json", str(SAMPLES / "scans"), str(SAMPLES / "bad")])
    results = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return home, imported, code, results


def test_samples_patients_import(first_run):
    _, imported, _, _ = first_run
    assert imported["imported"] > 0 and imported["rejected"] == 0


def test_every_sample_gets_its_expected_outcome(first_run):
    _, _, code, results = first_run
    expected = expected_outcomes()
    assert code == 0
    by_file = {str(Path(r["source"]).relative_to(SAMPLES)): r for r in results}
    assert set(by_file) == set(expected)
    for name, want in expected.items():
        got = by_file[name]
        assert got["status"] == want["expected"], (name, got["reasons"])
        assert got["reasons"] or got["status"] == "filed", name
        if want["expected"] == "filed":
            assert got["patient_mrn"] == want["mrn"], name
            assert got["doc_type"] == want["doc_type"], name
            assert got["type_confirmed"] is True, name  # no sample's patient is certain with its type not
            assert got["pages"] == int(want["pages"]), name
        else:
            assert got["patient_mrn"] is None, name  # never filed to anyone while in doubt


def test_nothing_is_ever_filed_to_the_wrong_patient(first_run):
    _, _, _, results = first_run
    expected = expected_outcomes()
    for result in results:
        truth = expected[str(Path(result["source"]).relative_to(SAMPLES))]["truth_mrn"]
        if result["patient_mrn"] is not None:
            assert result["patient_mrn"] == truth


def test_rejected_inputs_name_the_file_and_are_kept_in_quarantine(first_run):
    home, _, _, results = first_run
    rejected = [r for r in results if r["status"] == "rejected"]
    assert len(rejected) == 3
    kept = {p.name for p in (home / "objects").rglob("*") if p.is_file()}
    for result in rejected:
        name = Path(result["source"]).name
        assert name in result["reasons"][0]
        if Path(result["source"]).stat().st_size:
            assert any(k.endswith(name) for k in kept), name


def test_second_run_reports_duplicates_and_files_nothing_twice(first_run, capsys):
    home, _, _, results = first_run
    engine = make_engine(f"sqlite:///{home / 'manifest.db'}")
    before = Manifest(engine).count()
    code, again = run_json(capsys, "--home", str(home), "process", "--json", str(SAMPLES / "scans"))
    assert code == 0
    assert {r["status"] for r in again} == {"duplicate"}
    first_ids = {r["source"]: r["document_id"] for r in results}
    assert all(r["document_id"] == first_ids[r["source"]] for r in again)
    assert Manifest(engine).count() == before


def test_review_resolution_files_the_document_and_teaches_the_classifier(first_run, capsys):
    home, _, _, _ = first_run
    code, items = run_json(capsys, "--home", str(home), "review", "list", "--json")
    assert code == 0 and items
    unknown = expected_outcomes()["scans/lab_report_mrn_only.png"]
    item = next(i for i in items if i["candidates"] and i["candidates"][0]["mrn"] == unknown["truth_mrn"])
    code, resolved = run_json(capsys, "--home", str(home), "review", "resolve", str(item["id"]),
                              "--patient", unknown["truth_mrn"], "--type", "laboratory_report",
                              "--user", "clerk1", "--json")
    assert code == 0
    assert resolved[0]["patient_mrn"] == unknown["truth_mrn"]
    manifest = Manifest(make_engine(f"sqlite:///{home / 'manifest.db'}"))
    assert ("laboratory_report" in {t for _, t in manifest.reviewed_types()})
    assert any(e["actor"] == "clerk1" for e in manifest.access_log(resolved[0]["document_id"]))
