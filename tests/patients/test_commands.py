"""The command line: `patients import`, `match`, `adt apply` through `pipeline.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main

from .conftest import PATIENTS, write_csv


def run(capsys, home: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_then_match_json(tmp_path: Path, capsys) -> None:
    home = tmp_path / "home"
    csv_path = write_csv(tmp_path / "p.csv", PATIENTS + [["", "X", "Y", "1980-01-01", "", "", "", "", "", ""]])
    code, out, err = run(capsys, home, "patients", "import", str(csv_path), "--json")
    assert code == 0 and json.loads(out) == {"imported": len(PATIENTS), "updated": 0, "rejected": 1}
    assert "p.csv: row 11: mrn is empty" in err

    code, out, _ = run(capsys, home, "match", "--json", "--family", "doe", "--given", "jane", "--dob", "01/02/1980")
    data = json.loads(out)
    assert code == 0 and data["outcome"] == "auto_file" and data["patient_mrn"] == "10000001"
    best = data["candidates"][0]
    assert best["fields"]["name"] == "agree" and best["fields"]["birth_date"] == "agree"
    assert best["probability"] >= 0.99 and data["identifiers"]["birth_date"] == "1980-01-02"

    code, out, _ = run(capsys, home, "match", "--json", "--mrn", "10000002")
    data = json.loads(out)
    assert data["outcome"] == "review" and "no legible birth date on the document" in data["reasons"]


def test_match_a_document_file(tmp_path: Path, capsys) -> None:
    home = tmp_path / "home"
    run(capsys, home, "patients", "import", str(write_csv(tmp_path / "p.csv", PATIENTS)))
    doc = tmp_path / "note.txt"
    doc.write_text("CONSULT NOTE\nPatient: NGUYEN, MARY   D0B: March 8, 1990\nMR#: 1OO0O005\n")
    code, out, _ = run(capsys, home, "match", "--json", "--document", str(doc))
    data = json.loads(out)
    assert code == 0 and data["outcome"] == "auto_file" and data["patient_mrn"] == "10000005"
    assert data["candidates"][0]["fields"]["mrn"] == "agree"


def test_adt_apply_reports_each_message_and_fails_on_nak(tmp_path: Path, capsys) -> None:
    home = tmp_path / "home"
    feed = tmp_path / "feed.hl7"
    feed.write_text("MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301||ADT^A28|K1|P|2.5\rPID|1||7^^^H^MR||ROE^RITA||19700707|F\r"
                    "MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301||ADT^A40|K2|P|2.5\rPID|1||7^^^H^MR||ROE^RITA||19700707|F\r"
                    "MRG|404^^^H^MR\r")
    code, out, err = run(capsys, home, "adt", "apply", "--json", str(feed))
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["ack"] for line in lines] == ["AA", "AE"]
    assert lines[1]["reason"] == "MRG-1 identifier not in the index"
    assert code == 6 and "1 message(s) could not be applied" in err


def test_bad_input_exit_codes_and_messages(tmp_path: Path, capsys) -> None:
    home = tmp_path / "home"
    code, _, err = run(capsys, home, "patients", "import", str(tmp_path / "missing.csv"))
    assert code == 6 and "missing.csv: no such file" in err
    code, _, err = run(capsys, home, "match", "--json")
    assert code == 4 and "match: no identifiers given" in err
    code, _, err = run(capsys, home, "match", "--dob", "someday")
    assert code == 4 and "--dob 'someday': not a date" in err


def test_match_ocr_json_with_a_barcode(tmp_path: Path, capsys) -> None:
    home = tmp_path / "home"
    run(capsys, home, "patients", "import", str(write_csv(tmp_path / "p.csv", PATIENTS)))
    ocr = tmp_path / "ocr.json"
    ocr.write_text(json.dumps({"pages": [{"number": 1, "text": "Patient: DOE, JANE", "confidence": 91.0,
                                          "barcodes": [{"format": "QRCode", "text": "MRN:10000001|DOB:1980-01-02"}]}]}))
    code, out, _ = run(capsys, home, "match", "--json", "--document", str(ocr))
    data = json.loads(out)
    assert code == 0 and data["outcome"] == "auto_file" and data["patient_mrn"] == "10000001"
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    code, _, err = run(capsys, home, "match", "--document", str(bad))
    assert code == 4 and "bad.json: not OCR JSON" in err


@pytest.mark.integration
def test_match_a_scanned_page_through_real_ocr(tmp_path: Path, capsys) -> None:
    from PIL import Image, ImageDraw, ImageFont

    home = tmp_path / "home"
    run(capsys, home, "patients", "import", str(write_csv(tmp_path / "p.csv", PATIENTS)))
    page = Image.new("L", (1700, 700), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=40)
    for i, line in enumerate(["CONSULT NOTE", "Patient: OKAFOR, WILLIAM", "DOB: 09/23/1948    MRN: 10000006"]):
        draw.text((100, 100 + 120 * i), line, fill=0, font=font)
    scan = tmp_path / "scan.png"
    page.save(scan, dpi=(300, 300))
    code, out, err = run(capsys, home, "match", "--json", "--document", str(scan))
    data = json.loads(out)
    assert code == 0, err
    assert data["outcome"] == "auto_file" and data["patient_mrn"] == "10000006"
    assert data["identifiers"]["birth_date"] == "1948-09-23"
