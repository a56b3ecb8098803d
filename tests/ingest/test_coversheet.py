"""Cover sheets: the payload, and `pipeline coversheet` printing sheets whose barcode reads back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from pipeline.cli import main
from pipeline.ingest.coversheet import cover_payload, read_cover
from pipeline.ocr.barcodes import read_barcodes
from pipeline.patients.extract import parse_barcode
from pipeline.records import CoverSheet

PATIENTS = "mrn,family_name,given_name,birth_date,sex\n58162164,MILLER,Barbara,1942-01-04,F\n70001234,OKAFOR,Chidi,1988-07-30,M\n"


def test_the_payload_is_the_format_extract_reads_plus_the_date_of_service() -> None:
    payload = cover_payload("58162164", "18842-5", date(2024, 3, 1))
    assert payload == "MRN:58162164|TYPE:18842-5|DOS:2024-03-01"
    assert parse_barcode(payload) == {"MRN": "58162164", "TYPE": "18842-5"}
    assert read_cover(payload) == CoverSheet("58162164", "18842-5", date(2024, 3, 1))
    assert read_cover(cover_payload("58162164")) == CoverSheet("58162164")
    with pytest.raises(ValueError):
        cover_payload("123|456")


@pytest.mark.parametrize("text", ["58162164", "PIPELINE-SEPARATOR", "TYPE:18842-5", "DOB:1942-01-04", ""])
def test_barcodes_without_a_keyed_mrn_are_not_cover_sheets(text) -> None:
    assert read_cover(text) is None


def test_a_bad_date_of_service_is_left_out_not_guessed() -> None:
    assert read_cover("MRN:123456|DOS:2024-02-31") == CoverSheet("123456")


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    csv = tmp_path / "patients.csv"
    csv.write_text(PATIENTS)
    assert main(["--home", str(home), "patients", "import", str(csv)]) == 0
    return home


def _pages(pdf: Path) -> list:
    document = pdfium.PdfDocument(pdf)
    try:
        images = []
        for page in document:
            image = page.render(scale=300 / 72, grayscale=True).to_pil()
            image.info["dpi"] = (300, 300)
            images.append(image)
        return images
    finally:
        document.close()


@pytest.mark.integration
def test_coversheet_prints_a_sheet_whose_barcode_reads_back(tmp_path, capsys) -> None:
    home = _home(tmp_path)
    out = tmp_path / "cover.pdf"
    code = main(["--home", str(home), "coversheet", "--patient", "58162164", "--type", "discharge_summary",
                 "--date-of-service", "2024-03-01", str(out)])
    assert code == 0
    (page,) = _pages(out)
    (barcode,) = read_barcodes(page, 1)
    assert read_cover(barcode.text) == CoverSheet("58162164", "18842-5", date(2024, 3, 1))
    assert "DOB" not in barcode.text and "MILLER" not in barcode.text  # the MRN only: see coversheet.py
    assert "1 cover sheet" in capsys.readouterr().out


@pytest.mark.integration
def test_coversheet_batch_prints_one_page_per_row(tmp_path) -> None:
    home = _home(tmp_path)
    sheets = tmp_path / "sheets.csv"
    sheets.write_text("mrn,type,date_of_service\n58162164,,\n70001234,11488-4,2025-12-01\n")
    out = tmp_path / "covers.pdf"
    assert main(["--home", str(home), "coversheet", "--batch", str(sheets), str(out)]) == 0
    covers = [read_cover(read_barcodes(page, n)[0].text) for n, page in enumerate(_pages(out), 1)]
    assert covers == [CoverSheet("58162164"), CoverSheet("70001234", "11488-4", date(2025, 12, 1))]


@pytest.mark.parametrize(("args", "exit_code", "message"), [
    (["--patient", "99999999"], 9, "no patient with MRN 99999999"),
    (["--patient", "58162164", "--type", "no_such_type"], 4, "unknown document type 'no_such_type'"),
    (["--batch", "missing.csv"], 9, "no such file"),
    (["--batch", "bad_date.csv"], 4, "line 2: date_of_service '01/02/2024' is not YYYY-MM-DD"),
    (["--batch", "no_mrn.csv"], 4, "line 3 has no mrn"),
])
def test_coversheet_errors_name_what_is_wrong(tmp_path, capsys, args, exit_code, message) -> None:
    home = _home(tmp_path)
    (tmp_path / "bad_date.csv").write_text("mrn,type,date_of_service\n58162164,,01/02/2024\n")
    (tmp_path / "no_mrn.csv").write_text("mrn,type,date_of_service\n58162164,,\n,,\n")
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    out = tmp_path / "out.pdf"
    assert main(["--home", str(home), "coversheet", *args, str(out)]) == exit_code
    assert message in capsys.readouterr().err
    assert not out.exists()
