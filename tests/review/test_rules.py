"""The review rules live once (`pipeline.services.review`) and hold the same from every door: the
command line and the browser refuse the same decisions and record the same confirmation."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from pipeline.classify.types import load_types
from pipeline.errors import BirthDateNotConfirmedError, DocumentTypeRequiredError, ReviewDecisionError
from pipeline.services import review
from pipeline.services.home import open_home
from pipeline.services.review import DOB_OVERRIDE_NOTE
from pipeline.settings import load_settings
from .test_app import KIMBERLY_ESTES, MRN_ONLY, PETER_GONZALES, TWIN, resolve
from .test_closed import cli

pytestmark = [pytest.mark.integration]


def resolved_reasons(manifest, item_id: int) -> list[tuple[str, str, str]]:
    document_id = manifest.review_item(item_id).document_id
    return [(e["actor"], e["patient_mrn"], e["reason"]) for e in manifest.access_log(document_id)
            if e["action"] == "resolved"]


def test_cli_refuses_a_birth_date_mismatch_until_confirmed_like_the_browser(home, items, manifest, capsys):
    item_id = items[TWIN]  # the paper says born 1944-01-19; Peter Gonzales was born 1953-04-05
    code, out, err = cli(capsys, "--home", str(home), "review", "resolve", str(item_id), "--patient", PETER_GONZALES,
                         "--type", "progress_note", "--user", "clerk1")
    assert code == ReviewDecisionError.exit_code == 11 and out == ""
    assert f"review item {item_id}: the birth date on the document is not the patient's" in err
    assert "--confirm-birth-date-mismatch" in err
    assert "1953" not in err and "1944" not in err  # the message names no birth date
    assert manifest.review_item(item_id).status == "open"
    code, out, _ = cli(capsys, "--home", str(home), "review", "resolve", str(item_id), "--patient", PETER_GONZALES,
                       "--type", "progress_note", "--user", "clerk1", "--confirm-birth-date-mismatch")
    assert code == 0 and PETER_GONZALES in out
    assert resolved_reasons(manifest, item_id) == [("clerk1", PETER_GONZALES, f"review: filed; {DOB_OVERRIDE_NOTE}")]


def test_browser_and_cli_record_the_same_confirmed_filing(home, template_home, clerk, items, manifest, capsys):
    browser_item = items[TWIN]
    assert resolve(clerk, browser_item, doc_type="progress_note", patient_mrn=PETER_GONZALES,
                   confirm_dob=PETER_GONZALES).status_code == 303
    browser = resolved_reasons(manifest, browser_item)
    # the same decision from the command line, on a fresh copy of the same queue
    other = home.parent / "other"
    shutil.copytree(template_home, other)
    code, _, _ = cli(capsys, "--home", str(other), "review", "resolve", str(browser_item), "--patient",
                     PETER_GONZALES, "--type", "progress_note", "--user", "clerk1", "--confirm-birth-date-mismatch")
    assert code == 0
    assert resolved_reasons(open_home(load_settings(other)).manifest, browser_item) == browser


def test_cli_refuses_a_type_not_in_the_list_as_a_review_decision_not_a_configuration_error(home, items, manifest,
                                                                                           capsys):
    item_id = items[TWIN]
    code, _, err = cli(capsys, "--home", str(home), "review", "resolve", str(item_id), "--patient", KIMBERLY_ESTES,
                       "--type", "no_such_type")
    assert code == 11 and "document type 'no_such_type' is not in the type list" in err
    assert manifest.review_item(item_id).status == "open"


def test_without_a_type_the_predicted_one_is_filed_and_confirmed(home, items, manifest, capsys):
    item = manifest.review_item(items[MRN_ONLY])
    assert item.predicted_doc_type  # the classifier's guess, shown prefilled in the browser too
    code, _, _ = cli(capsys, "--home", str(home), "review", "resolve", str(item.id), "--patient", PETER_GONZALES)
    assert code == 0
    doc = manifest.get(item.document_id)
    assert doc.doc_type == item.predicted_doc_type and doc.loinc == load_types()[item.predicted_doc_type].loinc
    assert manifest.review_item(item.id).resolved_doc_type == item.predicted_doc_type


def test_a_document_type_is_required_when_nothing_predicted_one(items, manifest):
    types = load_types()
    item = manifest.review_item(items[TWIN])
    doc = manifest.get(item.document_id)
    unknown_item, unknown_doc = replace(item, predicted_doc_type=None), replace(doc, doc_type=None)
    with pytest.raises(DocumentTypeRequiredError, match="could not tell the document type"):
        review.document_type(unknown_item, unknown_doc, None, types)
    with pytest.raises(DocumentTypeRequiredError):
        review.document_type(item, doc, "", types)  # an empty choice is no choice
    assert review.document_type(unknown_item, unknown_doc, "consult_note", types) == "consult_note"


def test_the_service_refuses_before_filing_and_files_once_confirmed(items, manifest):
    types = load_types()
    item_id = items[TWIN]
    with pytest.raises(BirthDateNotConfirmedError) as refused:
        review.resolve(manifest, item_id, actor="clerk9", patient_mrn=PETER_GONZALES, doc_type="progress_note",
                       types=types)
    assert refused.value.patient_mrn == PETER_GONZALES and manifest.review_item(item_id).status == "open"
    agreed = review.resolve(manifest, item_id, actor="clerk9", patient_mrn=KIMBERLY_ESTES, doc_type=None,
                            types=types)  # her birth date is the document's: no confirmation needed
    assert agreed.patient_mrn == KIMBERLY_ESTES
    assert resolved_reasons(manifest, item_id) == [("clerk9", KIMBERLY_ESTES, "review: filed")]
