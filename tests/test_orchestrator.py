"""The orchestrator's decisions and its handling of duplicates, bad input and failures.

The OCR engine is a fake (text chosen per file); the classifier, matcher, manifest and the local
object store are the real ones on a temporary SQLite home.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import CorruptFileError
from pipeline.orchestrator import TYPE_AWAITS_CONFIRMATION, Pipeline, decide
from pipeline.patients.importer import import_file
from pipeline.records import (
    Candidate,
    Classification,
    MatchOutcome,
    OcrPage,
    OcrResult,
    Outcome,
    PatientMatch,
    ReviewKind,
)
from pipeline.settings import load_settings

PATIENTS_CSV = """mrn,family_name,given_name,birth_date,sex,address,city,state,postcode,phone
00012345,Okafor,Adaeze,1961-04-17,F,12 Birch Lane,Springfield,IL,62704,217-555-0142
00067890,Lindqvist,Marten,1979-11-02,M,88 Harbor Road,Portland,ME,04101,207-555-0199
"""

DISCHARGE = """DISCHARGE SUMMARY
Patient: OKAFOR, ADAEZE   DOB: 04/17/1961   MRN: 00012345
Admission date: 03/02/2024   Discharge date: 03/06/2024
HOSPITAL COURSE: The patient was admitted with community-acquired pneumonia and treated with
intravenous ceftriaxone and azithromycin. She improved steadily, oxygen was weaned to room air.
DISCHARGE DIAGNOSES: 1. Community-acquired pneumonia, resolved. 2. Hypertension.
DISCHARGE MEDICATIONS: Amoxicillin-clavulanate 875 mg twice daily for 5 days. Lisinopril 10 mg daily.
FOLLOW-UP: Primary care in one week. Return for fever, shortness of breath or chest pain.
CONDITION AT DISCHARGE: Stable. Discharged home with family.
"""

NOBODY = DISCHARGE.replace("OKAFOR, ADAEZE", "QUINTERO, BEATRIZ").replace("04/17/1961", "09/30/1950").replace(
    "00012345", "00099999")


def ocr_result(text: str, confidence: float = 92.0, reasons: tuple[str, ...] = ()) -> OcrResult:
    return OcrResult(pages=(OcrPage(number=1, text=text, confidence=confidence),), searchable_pdf=None,
                     engine="fake-ocr 1", reasons=reasons)


class FakeOcr:
    """Returns the text registered for a file name; raises what is registered as an exception."""

    def __init__(self) -> None:
        self.by_name: dict[str, OcrResult | Exception] = {}
        self.calls = 0
        self.lock = threading.Lock()

    def recognize(self, doc, workdir):
        with self.lock:
            self.calls += 1
        outcome = self.by_name[doc.original_name]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def close(self) -> None:
        pass


def scan(path: Path, shade: int = 200) -> Path:
    Image.new("L", (60, 40), shade).save(path)
    return path


@pytest.fixture
def pipeline(tmp_path: Path):
    settings = load_settings(tmp_path / "home", workers=2)
    csv = tmp_path / "patients.csv"
    csv.write_text(PATIENTS_CSV)
    fake = FakeOcr()
    real = Pipeline.open(settings, ocr=fake)  # no OCR pool started: the fake answers
    import_file(csv, real.manifest.engine)
    yield real, fake
    real.close()


def test_clean_document_is_filed_to_its_patient(pipeline, tmp_path):
    pipe, ocr = pipeline
    path = scan(tmp_path / "a.png")
    ocr.by_name["a.png"] = ocr_result(DISCHARGE)

    result = pipe.process(path)

    assert result.status is Outcome.FILED, result.reasons
    assert result.patient_mrn == "00012345"
    assert result.doc_type == "discharge_summary"
    assert result.loinc == "18842-5"


def test_same_bytes_twice_is_a_duplicate_and_ocr_runs_once(pipeline, tmp_path):
    pipe, ocr = pipeline
    (tmp_path / "copy").mkdir()
    first, second = scan(tmp_path / "a.png"), scan(tmp_path / "copy" / "a.png")
    ocr.by_name["a.png"] = ocr_result(DISCHARGE)

    results = list(pipe.process_many([first, second]))

    assert sorted(r.status for r in results) == [Outcome.DUPLICATE, Outcome.FILED]
    assert results[0].document_id == results[1].document_id
    assert ocr.calls == 1


def test_patient_not_in_index_goes_to_review(pipeline, tmp_path):
    pipe, ocr = pipeline
    ocr.by_name["b.png"] = ocr_result(NOBODY)

    result = pipe.process(scan(tmp_path / "b.png"))

    assert result.status is Outcome.NEEDS_REVIEW
    assert result.patient_mrn is None
    assert result.reasons


def test_unreadable_text_goes_to_review_without_classification(pipeline, tmp_path):
    pipe, ocr = pipeline
    ocr.by_name["c.png"] = ocr_result("~~ ,. ;", confidence=12.0,
                                      reasons=("unreadable text: mean word confidence 12 < 45",))

    result = pipe.process(scan(tmp_path / "c.png"))

    assert result.status is Outcome.NEEDS_REVIEW
    assert result.doc_type is None
    assert any("unreadable" in r for r in result.reasons)


def test_input_error_from_ocr_is_a_rejection_and_the_run_goes_on(pipeline, tmp_path):
    pipe, ocr = pipeline
    ocr.by_name["bad.png"] = CorruptFileError("bad.png: the image is truncated; scan it again")
    ocr.by_name["good.png"] = ocr_result(DISCHARGE)

    results = {Path(r.source).name: r for r in pipe.process_many([scan(tmp_path / "bad.png", 10),
                                                                   scan(tmp_path / "good.png", 90)])}

    assert results["bad.png"].status is Outcome.REJECTED
    assert "truncated" in results["bad.png"].reasons[0]
    assert results["good.png"].status is Outcome.FILED


def test_unexpected_failure_is_quarantined_with_the_error_class(pipeline, tmp_path):
    pipe, ocr = pipeline
    ocr.by_name["x.png"] = ZeroDivisionError("boom")

    result = pipe.process(scan(tmp_path / "x.png"))

    assert result.status is Outcome.REJECTED
    assert "ZeroDivisionError" in result.reasons[0]
    assert "x.png" in result.reasons[0]
    assert (tmp_path / "x.png").exists()  # the source is never touched by `process`


# ------------------------------------------------------------------------------------- decide


SURE_TYPE = Classification("discharge_summary", "18842-5", "Discharge summary", 0.97, False)
UNSURE_TYPE = Classification("consult_note", "11488-4", "Consult note", 0.41, True,
                             ("type confidence 0.41 below 0.60",))
SURE_PATIENT = PatientMatch(MatchOutcome.AUTO_FILE, Candidate(1, "00012345", 0.999))


def test_decide_files_only_when_text_type_and_patient_are_all_sure():
    assert decide(ocr_result("text"), SURE_TYPE, SURE_PATIENT).outcome is Outcome.FILED


@pytest.mark.parametrize(
    ("ocr", "classification", "match", "expected_reason"),
    [
        (ocr_result("t", reasons=("unreadable text",)), None, SURE_PATIENT, "unreadable text"),
        (ocr_result("t"), SURE_TYPE, PatientMatch(MatchOutcome.REVIEW, None, (), ("two candidates",)),
         "two candidates"),
        (ocr_result("t"), UNSURE_TYPE, PatientMatch(MatchOutcome.REVIEW, None, (), ("two candidates",)),
         "type confidence 0.41 below 0.60"),
        (ocr_result("t"), SURE_TYPE, PatientMatch(MatchOutcome.NO_MATCH, None, (), ()), "patient match: no_match"),
    ],
)
def test_decide_sends_any_doubt_about_the_patient_or_the_text_to_review(ocr, classification, match, expected_reason):
    decision = decide(ocr, classification, match)
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert expected_reason in decision.reasons


def test_decide_files_a_sure_patient_with_an_unsure_type_marked_unconfirmed():
    decision = decide(ocr_result("t"), UNSURE_TYPE, SURE_PATIENT)
    assert (decision.outcome, decision.type_confirmed) == (Outcome.FILED, False)
    assert decision.reasons == ("type confidence 0.41 below 0.60", TYPE_AWAITS_CONFIRMATION)
    assert decide(ocr_result("t"), SURE_TYPE, SURE_PATIENT).type_confirmed is True


def test_decide_queues_an_unsure_type_when_filing_it_unconfirmed_is_off():
    decision = decide(ocr_result("t"), UNSURE_TYPE, SURE_PATIENT, file_unconfirmed_type=False)
    assert decision.outcome is Outcome.NEEDS_REVIEW and decision.type_confirmed
    assert decision.reasons == ("type confidence 0.41 below 0.60",)


def test_decide_never_files_an_unreadable_document_even_with_a_sure_patient():
    unreadable = ocr_result("t", confidence=20.0, reasons=("unreadable: OCR confidence 20 below 45",))
    decision = decide(unreadable, None, SURE_PATIENT)
    assert decision.outcome is Outcome.NEEDS_REVIEW



class FixedClassifier:
    """Says every text is a consult note, sure of it."""

    def classify(self, text: str) -> Classification:
        return Classification(doc_type="consult_note", loinc="11488-4", display="Consult note", confidence=0.97,
                              needs_review=False, model_version="fixed-1")


def test_open_uses_the_ocr_engine_classifier_store_and_clock_it_is_given(tmp_path):
    from datetime import UTC, datetime

    from pipeline.store.objects import LocalStore

    settings = load_settings(tmp_path / "home", workers=1)
    csv = tmp_path / "patients.csv"
    csv.write_text(PATIENTS_CSV)
    ocr, store = FakeOcr(), LocalStore(tmp_path / "elsewhere")
    stamp = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    with Pipeline.open(settings, ocr=ocr, classifier=FixedClassifier(), store=store, clock=lambda: stamp) as pipe:
        import_file(csv, pipe.manifest.engine)
        ocr.by_name["a.png"] = ocr_result(DISCHARGE)
        result = pipe.process(scan(tmp_path / "a.png"))
    assert (result.status, result.doc_type) == (Outcome.FILED, "consult_note")
    doc = pipe.manifest.get(result.document_id)
    assert doc.filed_at == stamp and doc.received_at == stamp  # the one clock reaches file_document
    assert store.head(doc.original_key) is not None  # filed into the store given, not the home's
    assert not (settings.home / "objects").exists() or next((settings.home / "objects").rglob("*.png"), None) is None


class UnsureClassifier:
    """Says every text is a consult note, below its threshold."""

    def classify(self, text: str) -> Classification:
        return Classification(doc_type="consult_note", loinc="11488-4", display="Consult note", confidence=0.41,
                              needs_review=True, reasons=("type confidence 0.41 below 0.60 for consult_note",),
                              model_version="unsure-1")


@pytest.mark.parametrize("setting", [True, False])
def test_a_sure_patient_with_an_unsure_type_is_filed_unconfirmed_unless_the_setting_is_off(tmp_path, setting):
    settings = load_settings(tmp_path / "home", workers=1, file_with_unconfirmed_type=setting)
    csv = tmp_path / "patients.csv"
    csv.write_text(PATIENTS_CSV)
    ocr = FakeOcr()
    with Pipeline.open(settings, ocr=ocr, classifier=UnsureClassifier()) as pipe:
        import_file(csv, pipe.manifest.engine)
        ocr.by_name["a.png"] = ocr_result(DISCHARGE)
        ocr.by_name["b.png"] = ocr_result(NOBODY)
        filed, nobody = pipe.process(scan(tmp_path / "a.png")), pipe.process(scan(tmp_path / "b.png", 120))
        items = pipe.manifest.open_review_items()
    line = filed.to_json()
    if setting:
        assert (line["status"], line["patient_mrn"], line["type_confirmed"]) == ("filed", "00012345", False)
        assert any("awaits confirmation" in r for r in line["reasons"])
        assert [i.kind for i in items] == [ReviewKind.TYPE, ReviewKind.PATIENT]
    else:
        assert (line["status"], line["patient_mrn"], line["type_confirmed"]) == ("needs_review", None, False)
        assert [i.kind for i in items] == [ReviewKind.PATIENT, ReviewKind.PATIENT]
    assert (nobody.status, nobody.patient_mrn) == (Outcome.NEEDS_REVIEW, None)  # an unsure patient is never filed
