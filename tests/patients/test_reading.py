"""Identifiers read without labels and verified against the index: each header layout family of
the grammar, and each trap (twin, namesake, absent look-alike, an MRN that belongs to someone
else, a guarantor's name), on text. The small index is conftest.PATIENTS."""

from __future__ import annotations

import random
from datetime import date

import pytest

from pipeline.patients.matcher import Matcher
from pipeline.patients.reading import find_name, read_header
from pipeline.records import MatchOutcome, OcrPage, OcrResult, Word
from pipeline.synth import headers
from pipeline.synth.render import ground_truth

from .conftest import CSV_HEADER, PATIENTS

TODAY = date(2026, 6, 1)
JANE = dict(zip(CSV_HEADER, PATIENTS[0], strict=True))  # DOE, JANE 1980-01-02, MRN 10000001


@pytest.fixture
def matcher(index) -> Matcher:
    return Matcher(index)


def _ocr(*pages: str) -> OcrResult:
    return OcrResult(tuple(OcrPage(i + 1, text, -1.0) for i, text in enumerate(pages)), None, "text")


def _identify(matcher: Matcher, *pages: str):
    return matcher.identify(_ocr(*pages), today=TODAY)


def _clean(person: dict, **changes) -> headers.PrintedHeader:
    """The header of `person` as registered, no noise; `changes` override fields."""
    values = {"family": person["family_name"], "given": person["given_name"],
              "birth_date": date.fromisoformat(person["birth_date"]).strftime("%m/%d/%Y"),
              "mrn": person["mrn"], "sex": person["sex"]}
    return headers.PrintedHeader(**{**values, **changes})


# every part but the newest, which is kept for the report (docs/matching.md)
_SEEN = (headers.TUNED, headers.HELD_OUT, headers.UNSEEN)


@pytest.mark.parametrize("family", [f for part in _SEEN for f in part.families])
def test_each_layout_family_files_to_the_right_patient(matcher: Matcher, family: str) -> None:
    part = next(p for p in _SEEN if family in p.families)
    for seed in range(3):  # vocabularies, separators and name forms vary with the seed
        doc = headers.header_document(JANE, random.Random(seed), part, printed=_clean(JANE, mrn=""),
                                      family=family)
        ids, match = _identify(matcher, *(ground_truth([page]) for page in doc.pages))
        assert match.outcome is MatchOutcome.AUTO_FILE, (family, seed, match.reasons)
        assert match.patient.mrn == "10000001"
        assert (ids.family_name, ids.given_name, ids.birth_date) == ("DOE", "JANE", date(1980, 1, 2))


def test_a_garbled_label_no_longer_hides_a_plain_name(matcher: Matcher) -> None:
    # 'Name ........ DOE, JANE' as Tesseract read it: the label is lost, the name is not
    ids, match = _identify(matcher, "Riverside Clinic\nhanes DOE, JANE »\nBorn .... 01/02/1980")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000001"
    found = {e.field: e for e in ids.evidence}
    assert found["family_name"].label == "" and found["family_name"].page == 1


def test_names_in_any_order_split_across_lines_and_ocr_slips(matcher: Matcher) -> None:
    for header in ("JANE\nD0E\n01/02/1980", "Okafor Wi11iam\n09/23/1948", "BILL OKAFOR 9/23/1948",
                   "W. OKAFOR  23-SEP-1948  10000006"):
        _, match = _identify(matcher, f"Lakeview\n{header}")
        assert match.outcome is MatchOutcome.AUTO_FILE, (header, match.reasons)


def test_an_initial_for_the_given_name_files_only_beside_the_mrn(matcher: Matcher) -> None:
    # "S. MARTINEZ", born the day and at the address of STEPHANIE MARTINEZ: her twin SAMUEL, absent
    # from the index, prints the same; and the "(s)" of a label ("Apellido(s)") is no initial at all
    _, match = _identify(matcher, "Lakeview\nW. OKAFOR  23-SEP-1948\n5 Cedar Ct, Ashland OH 44805")
    assert match.outcome is MatchOutcome.REVIEW and any("only an initial" in r for r in match.reasons)
    reading = read_header(_ocr("Apellido(s) / Last name OKAFOR  Forename(s) WILLIAM"), today=TODAY)
    assert "S" not in {w.value for w in reading.words}


def test_evidence_carries_the_page_and_box_of_unlabelled_words(matcher: Matcher) -> None:
    words = (Word("DOE", 95, (100, 50, 60, 20), 1), Word("JANE", 95, (170, 50, 70, 20), 1),
             Word("01/02/1980", 95, (100, 80, 150, 20), 2), Word("10000001", 95, (300, 80, 120, 20), 2))
    page = OcrPage(1, "DOE JANE\n01/02/1980 10000001", 95.0, words=words)
    ids, match = matcher.identify(OcrResult((page,), None, "test"), today=TODAY)
    assert match.outcome is MatchOutcome.AUTO_FILE
    boxes = {e.field: e.box for e in ids.evidence}
    assert boxes["family_name"] == (100, 50, 60, 20) and boxes["given_name"] == (170, 50, 70, 20)
    assert boxes["birth_date"] == (100, 80, 150, 20) and boxes["mrn"] == (300, 80, 120, 20)


def test_reading_keeps_both_readings_of_an_ambiguous_date_marked() -> None:
    reading = read_header(_ocr("born 03/04/1980 or 25/12/1970"), today=TODAY)
    values = {(s.value, s.transposed) for s in reading.dates}
    assert values == {("19800304", False), ("19800403", True), ("19701225", False)}


# ---------------------------------------------------------------------------------------- traps


def test_twin_goes_to_review(matcher: Matcher) -> None:
    # JOHN and JOAN HARTLEY: same surname, birth date, address, phone; one letter apart
    for header in ("HARTLEY JOHN\n06/15/1975\n40 Oak Ave, Salem, MA 01970", "| HARTLEY J | 06/15/1975 |",
                   "JOAN HARTLEY 06/15/1975 (555) 987-6543"):
        _, match = _identify(matcher, header)
        assert match.outcome is MatchOutcome.REVIEW, header
        assert any("twin" in r for r in match.reasons)


def test_namesake_without_birth_date_goes_to_review_and_with_it_is_told_apart(matcher: Matcher) -> None:
    _, match = _identify(matcher, "NGUYEN, MARY\nSeen 05/01/2024")
    assert match.outcome is not MatchOutcome.AUTO_FILE
    _, match = _identify(matcher, "NGUYEN, MARY   03/08/1990")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000005"


def test_absent_look_alikes_are_never_filed(matcher: Matcher) -> None:
    for header in ("HARTLEY JAMES 06/15/1975 40 Oak Ave",  # a sibling born the same day, same home
                   "DOE JANE 05/05/1991",  # a namesake born another day
                   "DOE MARGARET 01/02/1980 12 Main St"):  # another given name, same birth date and home
        _, match = _identify(matcher, f"Outside Records\n{header}")
        assert match.outcome is not MatchOutcome.AUTO_FILE, header


def test_a_sibling_absent_from_the_index_whose_name_is_one_letter_off_is_never_filed(matcher: Matcher) -> None:
    # JANET DOE, born the same day as JANE DOE (in the index), is not in the index: JANET is a
    # real name one letter from JANE, so it reads as possibly another person, never as a typo
    for header in ("DOE, JANET\n01/02/1980", "Patient: JANET DOE   DOB 01/02/1980   F"):
        _, match = _identify(matcher, header)
        assert match.outcome is MatchOutcome.REVIEW, header
        assert any("another real name" in r for r in match.reasons), match.reasons
    # a garbled letter that makes no real name is still the typo it looks like
    _, match = _identify(matcher, "DOE, JANW\n01/02/1980\nMRN 10000001")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000001"
    _, match = _identify(matcher, "DOE, JANW\n01/02/1980")
    assert not any("another real name" in r for r in match.reasons)


def test_an_mrn_that_belongs_to_another_patient_goes_to_review(matcher: Matcher) -> None:
    # DOE's name and birth date, with 10000002 (HARTLEY's, one digit from DOE's 10000001)
    _, match = _identify(matcher, "DOE, JANE\n01/02/1980\n10000002")
    assert match.outcome is MatchOutcome.REVIEW
    assert any("another patient" in r or "MRN" in r for r in match.reasons)


def test_an_mrn_one_digit_off_counts_against_never_for(matcher: Matcher) -> None:
    header = "PRZYBYLSKI KATHERINE\n12/04/2001"
    _, without = _identify(matcher, header)
    _, one_off = _identify(matcher, header + "\n10000077")  # hers is 10000007
    assert one_off.candidates[0].match_weight < without.candidates[0].match_weight
    _, typo = _identify(matcher, "PRZYBYLSKY KATHERINE\n12/04/2001\n10000077")
    assert typo.outcome is MatchOutcome.REVIEW  # with the name only close, it blocks
    _, alone = _identify(matcher, "Chart 10000001")
    assert alone.outcome is not MatchOutcome.AUTO_FILE  # an MRN alone is never enough


def test_a_day_first_reading_is_never_evidence_for(matcher: Matcher) -> None:
    # DOE was born 2 Jan 1980; 02/01/1980 on US paper is 1 Feb
    _, match = _identify(matcher, "DOE JANE 02/01/1980")
    assert match.outcome is MatchOutcome.REVIEW


def test_names_on_lines_about_someone_else_are_not_read(matcher: Matcher) -> None:
    # a child absent from the index; the guarantor is in it
    _, match = _identify(matcher, "Patient: BABY BOY\nGuarantor: DOE, JANE  01/02/1980  10000001")
    assert match.outcome is not MatchOutcome.AUTO_FILE
    _, match = _identify(matcher, "Referring physician: Dr. Jane Doe, MD\n01/02/1980")
    assert match.outcome is not MatchOutcome.AUTO_FILE


def test_a_document_without_pages_or_text_is_no_match_not_a_crash(matcher: Matcher) -> None:
    for ocr in (OcrResult((), None, "text"), _ocr(""), _ocr("\f\n  \n")):
        ids, match = matcher.identify(ocr, today=TODAY)
        assert match.outcome is MatchOutcome.NO_MATCH and ids.family_name is None


@pytest.mark.parametrize("printed", ["GARCIA-LOPEZ, JUAN", "Juan Garcia Lopez", "GARCIALOPEZ JUAN", "Juan Garcia"])
def test_a_double_surname_is_found_joined_apart_or_in_part(printed: str) -> None:
    seen = find_name(read_header(_ocr(f"Clinic\n{printed}\n03/03/1970"), today=TODAY), "GARCIA-LOPEZ", "JUAN")
    assert seen is not None and (seen.family, seen.given) == ("GARCIALOPEZ", "JUAN")


def test_a_twins_document_printed_with_the_other_twins_mrn_is_never_filed(matcher: Matcher) -> None:
    # JOAN HARTLEY's paper carrying JOHN's MRN (born the same day): birth date and MRN agree with
    # JOHN, but the name as printed is exactly JOAN's
    for header in ("HARTLEY, JOAN\n06/15/1975\n10000002", "Patient: HARTLEY, JOAN  DOB: 06/15/1975  MRN: 10000002"):
        _, match = _identify(matcher, header)
        assert match.outcome is MatchOutcome.REVIEW, header
        assert any("exactly another patient's" in r for r in match.reasons), match.reasons


def test_a_sex_marker_or_a_word_further_off_is_not_read_as_the_given_names_initial(matcher: Matcher) -> None:
    # THOMAS NGUYEN, born the same day as MARY NGUYEN (in the index), is not in the index: the M
    # after his name is his sex, not MARY's initial
    for header in ("THOMAS NGUYEN M\n11/30/1962", "NGUYEN, THOMAS M\nNov 30 1962"):
        _, match = _identify(matcher, header)
        assert match.outcome is not MatchOutcome.AUTO_FILE, header
    # an initial beside the surname still reads as one
    name = find_name(read_header(_ocr("NGUYEN, M\n11/30/1962"), today=TODAY), "NGUYEN", "MARY")
    assert name is not None and name.given == "M"


def test_the_month_of_a_written_date_is_not_a_name() -> None:
    reading = read_header(_ocr("ORTIZ, SLNDRA   May 25 1959   June 3 1960"), today=TODAY)
    assert {w.value for w in reading.words} == {"ORTIZ", "SLNDRA"}


def test_a_given_name_two_slips_off_counts_only_beside_an_exact_birth_date_and_mrn(matcher: Matcher) -> None:
    # WTLLIAN for WILLIAM: a registration typo garbled again by OCR, a name no one holds
    _, match = _identify(matcher, "OKAFOR, WTLLIAN\n09/23/1948\n10000006")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
    _, match = _identify(matcher, "OKAFOR, WTLLIAN\n09/23/1948")  # no MRN: the name must agree
    assert match.outcome is MatchOutcome.REVIEW
    # a real name two letters off is another person's, MRN or not (JOAN for JOHN is one: see above)
    _, match = _identify(matcher, "HARTLEY, JOHN\n06/15/1975\n10000003")
    assert match.outcome is MatchOutcome.REVIEW


def test_a_surname_and_a_given_name_in_fields_of_their_own_are_read_together(matcher: Matcher) -> None:
    # a registration form: the given name in another field, even in another column read later
    for header in ("Last Name: OKAFOR\nBirth Dt: 09/23/1948\nSex: M\nFirst Name: WILLIAM",
                   "LAST [Okafor]\nBirth [09/23/1948]\nSEX [M]\nFIRST [William]"):
        _, match = _identify(matcher, header)
        assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006", header
    # a twin's given name in its field points at that twin, never at the other
    _, match = _identify(matcher, "Surname: HARTLEY\nFirst Name: JOHN\nDOB: 06/15/1975")
    assert match.candidates[0].mrn == "10000002" and match.outcome is not MatchOutcome.AUTO_FILE  # JOAN is one slip off
    _, match = _identify(matcher, "Surname: HARTLEY\nFirst Name: JIM\nDOB: 06/15/1975")
    assert match.outcome is not MatchOutcome.AUTO_FILE
    # a given name on a line with other name words is not taken from there
    _, match = _identify(matcher, "Surname: OKAFOR\nBirth: 09/23/1948\nReviewed by WILLIAM CHEN")
    assert match.outcome is not MatchOutcome.AUTO_FILE


def test_identifiers_printed_only_in_the_foot_line_of_each_page_are_read(matcher: Matcher) -> None:
    body = "\n".join(f"Line {n} of the consult note: stable, no new complaints." for n in range(40))
    foot = "OKAFOR, WILLIAM   DOB 09/23/1948   Printed 12/01/2026 09:14   Page 1 of 1"
    _, match = _identify(matcher, f"Lakeview Clinic\n{body}\n{foot}")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"


def _with_barcode(text: str, payload: str) -> OcrResult:
    from pipeline.records import Barcode

    page = OcrPage(1, text, -1.0, barcodes=(Barcode(1, "Code128", payload, (40, 40, 300, 80)),))
    return OcrResult((page,), None, "text")


def test_a_bare_number_in_a_barcode_counts_only_where_the_index_confirms_it(matcher: Matcher) -> None:
    header = "OKAFOR, WILLIAM   M\nDOB 09/23/1948   Unit Number 10000006"
    # a wristband whose barcode carries the admission number: no one's MRN, so not held against
    _, match = matcher.identify(_with_barcode(header, "7731904426"), today=TODAY)
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
    # a label whose barcode is the patient's own MRN: evidence for, shown as the barcode
    ids, match = matcher.identify(_with_barcode("OKAFOR, WILLIAM\n09/23/1948", "10000006"), today=TODAY)
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
    assert next(e for e in ids.evidence if e.field == "mrn").source == "barcode"
    # another patient's MRN in the barcode: review
    _, match = matcher.identify(_with_barcode(header, "10000008"), today=TODAY)
    assert match.outcome is MatchOutcome.REVIEW


def test_a_clinicians_column_does_not_hide_the_patients_beside_it(matcher: Matcher) -> None:
    # a requisition: the ordering provider's box and the patient's side by side, read as one line
    header = "ORDERING PROVIDER                 PATIENT (LAST, FIRST)  OKAFOR, WILLIAM\n" \
             "Dr. Wei Zhang                     Date Born  09/23/1948"
    _, match = _identify(matcher, header)
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
    # in the clinician's own column a name is still someone else's
    _, match = _identify(matcher, "Ordering provider: Dr. OKAFOR, WILLIAM\nDate Born 09/23/1948")
    assert match.outcome is not MatchOutcome.AUTO_FILE


def test_on_a_tick_box_form_the_sex_is_the_box_ticked(matcher: Matcher) -> None:
    header = "LNAME OKAFOR   FNAME WILLIAM   MI\n{ticks}\nBIRTH 09/23/1948\nPID 10000006"
    _, match = _identify(matcher, header.format(ticks="[X] Male   [ ] Female"))
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
    _, match = _identify(matcher, header.format(ticks="[ ] Male   [X] Female"))  # ticked against him
    assert match.outcome is MatchOutcome.REVIEW and any("sex" in r for r in match.reasons)
    for unticked in ("[ ] Male   [ ] Female", "Male / Female"):  # says nothing either way
        assert read_header(_ocr(unticked), today=TODAY).sex is None


def test_a_guarantors_block_below_the_patients_is_read_by_neither_reader(matcher: Matcher) -> None:
    # the patient's labels are ones no reader knows; the guarantor's (a relative in the index) are
    # the plainest there are: before, name + birth date + phone filed this face sheet to JANE
    face_sheet = ("PATIENT INFORMATION\nPaciente / Patient -> DOE, JOHNNY Q.\nF. nacimiento / DOB -> 19790505\n\n"
                  "RESPONSIBLE PARTY / GUARANTOR\nName: DOE, JANE\nRelationship to patient: Mother\n"
                  "Birth date: 01/02/1980\nPhone: (555) 123-4567")
    ids, match = _identify(matcher, face_sheet)
    assert match.outcome is not MatchOutcome.AUTO_FILE
    assert (ids.given_name, ids.birth_date, ids.phone) == (None, None, None)  # nothing of the guarantor's
    # the patient's own heading (or a line labelled as the patient's) ends the block
    _, match = _identify(matcher, "Emergency contact\nSMITH, ROBERT 555-563-0111\nPATIENT\nName: OKAFOR, WILLIAM\n"
                                  "DOB: 09/23/1948")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
    _, match = _identify(matcher, "ORDERING PROVIDER\nDr. Ines Marchetti\nPt Full Name: OKAFOR, WILLIAM\n09/23/1948")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"


def test_two_patients_of_the_index_named_in_full_on_one_page_go_to_review(matcher: Matcher) -> None:
    # no heading says who the second person is: both whole names and birth dates are on the page
    _, match = _identify(matcher, "OKAFOR, WILLIAM  09/23/1948  10000006\nDOE, JANE  01/02/1980")
    assert match.outcome is MatchOutcome.REVIEW
    assert any("another patient's full name and birth date" in r for r in match.reasons)
    # a name alone (a clinician who shares a patient's name) is not a second person
    _, match = _identify(matcher, "OKAFOR, WILLIAM  09/23/1948  10000006\nseen with JANE DOE")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"


def test_labels_naming_the_patient_as_the_insured_and_spanish_labels_do_not_hide_the_name(matcher: Matcher) -> None:
    for header in ("Patient/Insured -> OKAFOR, WILLIAM   Admitted -> 11/05/2026\nPt DOB -> 09/23/1948",
                   "Subscriber Pt\nOKAFOR, WILLIAM\nBirth date (pt) 09/23/1948",
                   "Apellido(s) / Last name OKAFOR  Nombre(s) / First name WILLIAM\nF. nacimiento / DOB 19480923"):
        _, match = _identify(matcher, f"Lakeview\n{header}")
        assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006", (header, match.reasons)


def test_an_eight_digit_year_first_date_is_read_and_still_tried_as_an_mrn() -> None:
    reading = read_header(_ocr("DOE JANE 19800102\nChart 19750615"), today=TODAY)
    assert {s.value for s in reading.dates} >= {"19800102", "19750615"}
    assert {s.value for s in reading.numbers} >= {"19800102", "19750615"}


def test_a_clinicians_title_hides_only_the_name_beside_it(matcher: Matcher) -> None:
    # a pharmacy label's one dense line: the patient, the birth date, then the prescriber
    label = "Rx# 4236217 OKAFOR, WILLIAM Pt birthdate; 09/23/1948 J. PETROV MD"
    _, match = _identify(matcher, f"Harbor Pharmacy\n{label}")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
    # the clinician's own name is still no patient's: JANE DOE, MD is not JANE DOE the patient
    _, match = _identify(matcher, "Rx# 4236217 Jane Doe, MD 01/02/1980")
    assert match.outcome is not MatchOutcome.AUTO_FILE
    _, match = _identify(matcher, "Seen 01/02/1980 by Dr. Jane Doe")
    assert match.outcome is not MatchOutcome.AUTO_FILE


def test_another_hospitals_record_number_is_not_our_mrn(matcher: Matcher) -> None:
    sheet = ("INTERFACILITY TRANSFER\nSending facility: St. Brendan Regional   Their MRN: C5685013\n"
             "Name: OKAFOR III, WILLIAM\nDOB: 09/23/1948\nMRN: 10000006")
    ids, match = _identify(matcher, sheet)
    assert ids.mrn == "10000006" and match.outcome is MatchOutcome.AUTO_FILE
    _, match = _identify(matcher, "Outside MRN 55555555\nOKAFOR, WILLIAM Jr\n09/23/1948")
    assert match.outcome is MatchOutcome.AUTO_FILE and match.patient.mrn == "10000006"
