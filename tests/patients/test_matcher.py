"""Matching against a small index that holds twins and namesakes (see conftest.PATIENTS)."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.patients.adt import AdtProcessor
from pipeline.patients.matcher import Matcher, Thresholds, mrn_variants
from pipeline.records import DocumentIdentifiers, FieldVerdict, MatchOutcome


def ids(**kw) -> DocumentIdentifiers:
    return DocumentIdentifiers(**kw)


@pytest.fixture
def matcher(index) -> Matcher:
    return Matcher(index)


def test_name_and_birth_date_auto_file(matcher) -> None:
    result = matcher.match(ids(family_name="DOE", given_name="JANE", birth_date=date(1980, 1, 2)))
    assert result.outcome is MatchOutcome.AUTO_FILE and result.patient.mrn == "10000001"
    assert result.patient.probability >= 0.99
    assert result.patient.fields["name"] is FieldVerdict.AGREE
    assert result.patient.fields["mrn"] is FieldVerdict.MISSING


def test_mrn_and_birth_date_auto_file_despite_name_typo(matcher) -> None:
    result = matcher.match(ids(family_name="OKAFRO", given_name="BILL", birth_date=date(1948, 9, 23),
                               mrn="10000006"))
    assert result.outcome is MatchOutcome.AUTO_FILE and result.patient.mrn == "10000006"
    assert result.patient.fields["name"] is FieldVerdict.CLOSE


def test_mrn_alone_is_never_enough(matcher) -> None:
    result = matcher.match(ids(mrn="10000004"))
    assert result.outcome is MatchOutcome.REVIEW
    assert result.candidates[0].mrn == "10000004"
    assert "no legible birth date on the document" in result.reasons


def test_twins_are_never_filed_to_each_other(matcher) -> None:
    # only surname, birth date, address and phone: fits both twins
    both = matcher.match(ids(family_name="HARTLEY", given_name="J", birth_date=date(1975, 6, 15),
                             phone="5559876543"))
    assert both.outcome is not MatchOutcome.AUTO_FILE
    surname_only = matcher.match(ids(family_name="HARTLEY", birth_date=date(1975, 6, 15),
                                     address="40 Oak Ave", postcode="01970"))
    assert surname_only.outcome is MatchOutcome.REVIEW
    assert "two candidates within margin: possible twin" in surname_only.reasons
    # the document names JOHN: JOAN is a close runner-up, never chosen
    john = matcher.match(ids(family_name="HARTLEY", given_name="JOHN", birth_date=date(1975, 6, 15)))
    assert {c.mrn for c in john.candidates[:2]} == {"10000002", "10000003"}
    if john.outcome is MatchOutcome.AUTO_FILE:
        assert john.patient.mrn == "10000002"
    else:
        assert any("possible twin" in r for r in john.reasons)


def test_namesakes_are_told_apart_by_birth_date(matcher) -> None:
    result = matcher.match(ids(family_name="NGUYEN", given_name="MARY", birth_date=date(1990, 3, 8)))
    assert result.outcome is MatchOutcome.AUTO_FILE and result.patient.mrn == "10000005"
    for namesake in (c for c in result.candidates if c.mrn == "10000004"):
        assert namesake.fields["birth_date"] is FieldVerdict.DISAGREE
    other = matcher.match(ids(family_name="NGUYEN", given_name="MARY", birth_date=date(1962, 11, 30)))
    assert other.outcome is MatchOutcome.AUTO_FILE and other.patient.mrn == "10000004"


def test_birth_date_one_digit_off_between_namesakes_goes_to_review(matcher) -> None:
    # 1955-02-04 is one digit from both ROBERT SMITHs' birth dates
    result = matcher.match(ids(family_name="SMITH", given_name="ROBERT", birth_date=date(1955, 2, 4)))
    assert result.outcome is MatchOutcome.REVIEW
    assert {c.mrn for c in result.candidates[:2]} == {"10000008", "10000009"}


def test_transposed_day_and_month_is_close_not_agree(matcher) -> None:
    result = matcher.match(ids(family_name="DOE", given_name="JANE", birth_date=date(1980, 2, 1)))
    assert result.outcome is MatchOutcome.REVIEW
    assert result.candidates[0].mrn == "10000001"
    assert result.candidates[0].fields["birth_date"] is FieldVerdict.CLOSE
    assert any("birth date" in r for r in result.reasons)


def test_wrong_digit_mrn_landing_on_another_patient_is_not_filed_there(matcher) -> None:
    # MRN of NGUYEN 1962 with one digit off is DOE's; name and DOB say NGUYEN 1962
    result = matcher.match(ids(family_name="NGUYEN", given_name="MARY", birth_date=date(1962, 11, 30),
                               mrn="10000001"))
    assert result.outcome is MatchOutcome.REVIEW
    assert result.candidates[0].mrn == "10000004"
    assert "the MRN as printed belongs to another patient" in result.reasons


def test_patient_not_in_index(matcher) -> None:
    result = matcher.match(ids(family_name="ZELLWEGER", given_name="OTTO", birth_date=date(1933, 7, 7)))
    assert result.outcome is MatchOutcome.NO_MATCH and result.patient is None
    assert result.reasons[0].startswith("patient not in index")


def test_namesake_outside_the_index_is_not_filed(matcher) -> None:
    result = matcher.match(ids(family_name="NGUYEN", given_name="MARY", birth_date=date(1971, 5, 19)))
    assert result.outcome is not MatchOutcome.AUTO_FILE


def test_swapped_given_and_family_and_nickname(matcher) -> None:
    swapped = matcher.match(ids(family_name="JANE", given_name="DOE", birth_date=date(1980, 1, 2)))
    assert swapped.candidates[0].mrn == "10000001"
    assert swapped.candidates[0].fields["name"] is FieldVerdict.CLOSE
    nick = matcher.match(ids(family_name="PRZYBYLSKI", given_name="KATE", birth_date=date(2001, 12, 4)))
    assert nick.outcome is MatchOutcome.AUTO_FILE and nick.patient.mrn == "10000007"


def test_thresholds_change_the_outcome(index) -> None:
    strict = Matcher(index, thresholds=Thresholds(auto_file=0.999999999, review=0.5, runner_up_margin=10))
    result = strict.match(ids(family_name="DOE", given_name="JNAE", birth_date=date(1980, 1, 2)))
    assert result.outcome is MatchOutcome.REVIEW
    assert any("below the auto-file threshold" in r for r in result.reasons)


def test_merged_mrn_still_resolves_to_the_survivor(index) -> None:
    msg = ("MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301120000||ADT^A40^ADT_A39|M-MERGE-1|P|2.5\r"
           "EVN|A40|20260301120000\rPID|1||10000006^^^LOCAL^MR||OKAFOR^WILLIAM||19480923|M\r"
           "MRG|10000001^^^LOCAL^MR")
    assert AdtProcessor(index).apply(msg).accepted
    result = Matcher(index).match(ids(family_name="OKAFOR", given_name="WILLIAM",
                                      birth_date=date(1948, 9, 23), mrn="10000001"))
    assert result.candidates[0].mrn == "10000006"
    assert result.candidates[0].fields["mrn"] is FieldVerdict.AGREE
    assert result.outcome is MatchOutcome.AUTO_FILE


def test_mrn_variants_cover_one_digit_and_transpositions() -> None:
    variants = mrn_variants("123")
    assert {"123", "923", "129", "213", "132"} <= variants and "321" not in variants


def test_a_duplicate_record_in_the_index_goes_to_review(index, tmp_path) -> None:
    from pipeline.patients.importer import import_file

    from .conftest import write_csv

    # the same person registered a second time under a new MRN (an MPI duplicate)
    write_csv(tmp_path / "dup.csv", [["10000099", "OKAFOR", "WILLIAM", "1948-09-23", "M", "", "", "", "", ""]])
    assert import_file(tmp_path / "dup.csv", index).imported == 1
    result = Matcher(index).match(ids(family_name="OKAFOR", given_name="WILLIAM", birth_date=date(1948, 9, 23)))
    assert result.outcome is MatchOutcome.REVIEW
    assert {c.mrn for c in result.candidates[:2]} == {"10000006", "10000099"}
    assert "two candidates within margin: possible duplicate record in the index" in result.reasons
