"""Identifier extraction from OCR text, words with boxes, and barcodes."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.patients.extract import extract_from_text, extract_identifiers, parse_barcode
from pipeline.records import Barcode, OcrPage, OcrResult, Word


@pytest.mark.parametrize("printed", [
    "01/02/1980", "1/2/1980", "1/2/80", "01-02-1980", "1980-01-02", "January 2, 1980", "Jan 2 1980",
    "Jan. 02, 1980", "2 January 1980", "02-JAN-1980", "2nd Jan 1980", "01.02.1980", "O1/O2/198O",
])
def test_birth_date_in_common_us_forms(printed: str) -> None:
    ids = extract_from_text(f"Patient: DOE, JANE\nDOB: {printed}")
    assert ids.birth_date == date(1980, 1, 2)


def test_labelled_fields_on_one_line_and_many() -> None:
    ids = extract_from_text(
        "Patient: DOE, JANE Q   DOB: 01/02/1980   MRN: 123456\n"
        "Sex: Female\nHome Phone: (555) 123-4567\nAddress: 12 Main St, Salem, MA 01970\n"
        "Acct #: 99887766\nAccession #: A2024-0042\nDate of Service: March 3, 2024\n"
        "The patient was seen today; name of the referring doctor on file.")
    assert (ids.family_name, ids.given_name) == ("DOE", "JANE")
    assert ids.birth_date == date(1980, 1, 2) and ids.mrn == "123456"
    assert ids.sex == "F" and ids.phone == "5551234567"
    assert ids.address == "12 Main St" and ids.postcode == "01970"
    assert ids.account == "99887766" and ids.accession == "A20240042"  # separators dropped
    assert ids.date_of_service == date(2024, 3, 3)
    labels = {e.field: e.label for e in ids.evidence}
    assert labels["mrn"] == "MRN:" and labels["birth_date"] == "DOB:"


@pytest.mark.parametrize(("line", "family", "given"), [
    ("Name: Jane Q. Doe", "DOE", "JANE"),
    ("Patient Name: O'Neil, Mary-Ann", "O'NEIL", "MARY-ANN"),
    ("PATIENT NAME: J0HN SM1TH", "SMITH", "JOHN"),
    ("Patient: GARCIA, ROSA (F) 45 y/o", "GARCIA", "ROSA"),
])
def test_name_forms_and_ocr_digits(line: str, family: str, given: str) -> None:
    ids = extract_from_text(line)
    assert (ids.family_name, ids.given_name) == (family, given)


def test_ocr_letter_confusions_in_mrn_are_mapped_to_digits() -> None:
    assert extract_from_text("MR#: 1O0S4l7").mrn == "1005417"


def test_body_text_is_not_mistaken_for_a_label() -> None:
    ids = extract_from_text("The patient was admitted on 03/04/2024 and the name was confirmed.")
    assert ids.family_name is None and ids.birth_date is None


def test_evidence_carries_page_and_word_boxes() -> None:
    words = (
        Word("Patient:", 95, (100, 50, 80, 20), 1), Word("DOE,", 94, (190, 50, 50, 20), 1),
        Word("JANE", 96, (245, 50, 60, 20), 1),
        Word("DOB:", 95, (100, 90, 50, 20), 2), Word("01/02/1980", 93, (160, 90, 120, 20), 2),
    )
    page2 = OcrPage(2, "Patient: DOE, JANE\nDOB: 01/02/1980", 94.0, words=words)
    ocr = OcrResult((OcrPage(1, "cover", 90.0), page2), None, "test")
    ids = extract_identifiers(ocr)
    evidence = {e.field: e for e in ids.evidence}
    assert evidence["birth_date"].page == 2 and evidence["birth_date"].box == (160, 90, 120, 20)
    assert evidence["family_name"].box == (190, 50, 115, 20)


def test_barcode_takes_precedence_over_text() -> None:
    page = OcrPage(1, "Patient: DOE, JANE\nDOB: 01/02/1980\nMRN: 555555", 90.0,
                   barcodes=(Barcode(1, "QRCode", "MRN:123456|DOB:1980-01-02|TYPE:11488-4", (5, 5, 90, 90)),))
    ids = extract_identifiers(OcrResult((page,), None, "test"))
    assert ids.mrn == "123456" and ids.doc_type_hint == "11488-4"
    mrn = next(e for e in ids.evidence if e.field == "mrn")
    assert mrn.source == "barcode" and mrn.label == "QRCode" and mrn.box == (5, 5, 90, 90)
    assert ids.family_name == "DOE"  # text still fills what the barcode lacks


@pytest.mark.parametrize(("payload", "expected"), [
    ("MRN:123456|DOB:1980-01-02|TYPE:11488-4", {"MRN": "123456", "DOB": "1980-01-02", "TYPE": "11488-4"}),
    ("mrn:77;name:DOE^JANE;sex:F", {"MRN": "77", "NAME": "DOE^JANE", "SEX": "F"}),
    ("10000042", {"MRN": "10000042"}),
    ("SEPARATOR", {}),
    ("https://example.org/x", {}),
])
def test_barcode_payload_format(payload: str, expected: dict) -> None:
    assert parse_barcode(payload) == expected


def test_label_after_a_rendered_marker_and_surname_alone() -> None:
    ids = extract_from_text("> Patient: HENSON\n| DOB: 04/19/2010\nD.O.B. 19 Apr 2010      Chart #: 92556791")
    assert ids.family_name == "HENSON" and ids.given_name is None
    assert ids.birth_date == date(2010, 4, 19) and ids.mrn == "92556791"


@pytest.mark.parametrize("text", [
    "PAT1ENT NAME: DOE, JANE\nD0B: 01/02/1980\nMRN: 10000001",
    "Patlent: DOE, JANE\nDate 0f 8irth: 01/02/1980\nMR#: 1OOOOOO1",
    "Pat!ent Name: Jane Doe\nB1rth Date: Jan 2, 1980\n5ex: F",
])
def test_labels_survive_ocr_slips(text: str) -> None:
    ids = extract_from_text(text)
    assert (ids.family_name, ids.given_name, ids.birth_date) == ("DOE", "JANE", date(1980, 1, 2))


def test_strong_labels_after_a_single_space() -> None:
    ids = extract_from_text("Patient: DOE, JANE DOB: 01/02/1980 MRN: 123456 Sex: F")
    assert (ids.family_name, ids.given_name, ids.birth_date, ids.mrn, ids.sex) == (
        "DOE", "JANE", date(1980, 1, 2), "123456", "F")
    narrative = extract_from_text("Seen today for the sex education class, name tag lost.")
    assert narrative.sex is None and narrative.family_name is None
