"""The sample generator: the committed set is what it makes, and each file is what the table says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from pipeline.synth.patients import read_patient_csv, twin_pairs
from pipeline.synth.samples import DEFAULT_SEED, make_samples, read_expected

COMMITTED = Path(__file__).resolve().parents[2] / "samples"
MAGIC = {
    ".pdf": (b"%PDF-",),
    ".tif": (b"II*\x00", b"MM\x00*"),
    ".tiff": (b"II*\x00", b"MM\x00*"),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    make_samples(out, DEFAULT_SEED)
    return out


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_committed_samples_are_what_the_generator_makes(generated: Path) -> None:
    assert _files(generated) == _files(COMMITTED)
    assert (generated / "patients.csv").read_text() == (COMMITTED / "patients.csv").read_text()
    # who each file is about and what must come of it; page counts and pixels follow the body
    # text of pipeline.synth.documents, which may be reworded without invalidating the samples
    stable = ("file", "expected", "mrn", "truth_mrn", "doc_type")
    fresh = [tuple(r[k] for k in stable) for r in read_expected(generated / "expected.csv")]
    assert fresh == [tuple(r[k] for k in stable) for r in read_expected(COMMITTED / "expected.csv")]


def test_the_set_is_small_and_varied(generated: Path) -> None:
    rows = read_expected(generated / "expected.csv")
    scans = [r for r in rows if r["file"].startswith("scans/")]
    assert 10 <= len(scans) <= 16
    assert sum(p.stat().st_size for p in generated.rglob("*") if p.is_file()) < 4_000_000
    assert {Path(r["file"]).suffix for r in scans} >= {".pdf", ".tif", ".tiff", ".png", ".jpg"}
    assert len({r["doc_type"] for r in scans}) >= 6
    assert any(int(r["pages"]) >= 2 for r in scans if r["file"].endswith(".pdf"))
    assert any(int(r["pages"]) >= 2 for r in scans if r["file"].endswith((".tif", ".tiff")))
    assert Counter(r["expected"] for r in rows) == {"filed": 8, "needs_review": 5, "rejected": 3}


@pytest.mark.parametrize("which", ["committed", "generated"])
def test_each_scan_has_the_format_and_pages_the_table_says(generated: Path, which: str) -> None:
    root = COMMITTED if which == "committed" else generated
    for row in read_expected(root / "expected.csv"):
        if not row["file"].startswith("scans/"):
            continue
        path = root / row["file"]
        head = path.read_bytes()[:8]
        assert head.startswith(MAGIC[path.suffix]), row["file"]
        if path.suffix == ".pdf":
            with pikepdf.open(path) as pdf:
                pages = len(pdf.pages)
                assert float(pdf.pages[0].mediabox[3]) == pytest.approx(792, abs=1)  # letter
        else:
            with Image.open(path) as image:
                pages = getattr(image, "n_frames", 1)
        assert pages == int(row["pages"]), row["file"]


def test_filed_samples_name_a_patient_of_the_index_and_doubtful_ones_are_doubtful(generated: Path) -> None:
    patients = read_patient_csv(generated / "patients.csv")
    by_mrn = {p.mrn: p for p in patients}
    rows = {Path(r["file"]).name: r for r in read_expected(generated / "expected.csv")}
    filed = [r for r in rows.values() if r["expected"] == "filed"]
    assert all(r["mrn"] in by_mrn and r["mrn"] == r["truth_mrn"] for r in filed)
    assert len({r["mrn"] for r in filed}) == len(filed)  # one patient per clean sample

    assert rows["consult_note_unknown_patient.pdf"]["truth_mrn"] == ""
    twin = by_mrn[rows["progress_note_twin.pdf"]["truth_mrn"]]
    assert any(twin in pair for pair in twin_pairs(patients))
    namesake = by_mrn[rows["letter_namesake.jpg"]["truth_mrn"]]
    same_name = [p for p in patients if (p.family_name, p.given_name) == (namesake.family_name, namesake.given_name)]
    assert len(same_name) >= 2
    assert rows["lab_report_mrn_only.png"]["truth_mrn"] in by_mrn
    assert all(r["mrn"] == "" for r in rows.values() if r["expected"] != "filed")


def test_bad_inputs_are_bad_in_the_way_they_say(generated: Path) -> None:
    assert (generated / "bad" / "empty_scan.pdf").stat().st_size == 0
    text = (generated / "bad" / "notes_not_a_pdf.pdf").read_bytes()
    assert not text.startswith(b"%PDF") and text.decode("utf-8").isprintable() is False  # has newlines
    truncated = (generated / "bad" / "truncated_scan.pdf").read_bytes()
    assert truncated.startswith(b"%PDF-") and b"%%EOF" not in truncated[-1024:]
    whole = (generated / "scans" / "referral_fax.pdf").read_bytes()
    assert len(truncated) < len(whole) // 2 and whole.startswith(truncated)
