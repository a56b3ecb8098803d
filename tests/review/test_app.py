"""The review web app against a real home (samples really processed): what a clerk sees and does."""

from __future__ import annotations

import logging
import re

import pytest

from pipeline.records import Outcome
from pipeline.services.review import DOB_OVERRIDE_NOTE
from .conftest import csrf_of, make_client, sign_in

pytestmark = [pytest.mark.integration]

TWIN = "progress_note_twin.pdf"  # the paper: ESTES, born 1944-01-19; twins 83254022 and 48092398
MRN_ONLY = "lab_report_mrn_only.png"
UNKNOWN = "consult_note_unknown_patient.pdf"
KIMBERLY_ESTES = "83254022"  # born 1944-01-19, the twin the document belongs to
PETER_GONZALES = "97490116"  # born 1953-04-05


def resolve(client, item_id: int, **fields):
    page = client.get(f"/items/{item_id}")
    data = {"csrf": csrf_of(page.text), **fields}
    return client.post(f"/items/{item_id}/resolve", data=data, follow_redirects=False)


def queue_ids(client, query: str = "") -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="item-(\d+)">', client.get(f"/queue{query}").text)]


# ------------------------------------------------------------------------------ sign-in


def test_every_page_needs_a_signed_in_user(client, items):
    for path in ("/queue", f"/items/{items[TWIN]}", f"/items/{items[TWIN]}/pages/1.png"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_sign_in_refuses_a_malformed_user_name(client):
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "user": "<script>x</script>", "password": "whatever it is"})
    assert response.status_code == 400
    assert "Enter your user name" in response.text and "<script>x" not in response.text


def test_remote_user_header_names_a_known_user_when_trusted(home, manifest, items):
    with make_client(home, trust_remote_user=True) as proxied:
        refused = proxied.get("/queue")
        assert refused.status_code == 401 and "X-Remote-User" in refused.text
        stranger = proxied.get("/queue", headers={"X-Remote-User": "hsmith"})  # not a user: no role, no entry
        assert stranger.status_code == 401
        shown = proxied.get(f"/items/{items[TWIN]}", headers={"X-Remote-User": "clerk2"})
        assert shown.status_code == 200 and "signed in as <strong>clerk2</strong> (clerk)" in shown.text
    assert manifest.access_log()[-1]["actor"] == "clerk2"


# -------------------------------------------------------------------------------- queue


def test_queue_lists_open_items_oldest_first_with_reasons_type_candidate_and_age(clerk, items, manifest):
    page = clerk.get("/queue")
    assert page.status_code == 200
    assert queue_ids(clerk) == sorted(items.values())
    assert '<strong id="shown-count">4</strong> open items' in page.text
    assert "possible twin" in page.text and "Progress note" in page.text
    assert f"MRN {PETER_GONZALES}" in page.text and " min</td>" in page.text
    entry = manifest.access_log()[-1]
    assert (entry["actor"], entry["action"], entry["reason"]) == ("clerk1", "viewed", "review queue: 4 items listed")


def test_queue_filters_by_reason_kind(clerk, items):
    assert queue_ids(clerk, "?kind=not_in_index") == [items[UNKNOWN]]
    assert set(queue_ids(clerk, "?kind=close_runner_up")) == {items[TWIN], items["letter_namesake.jpg"]}
    assert queue_ids(clerk, "?kind=nonsense") == sorted(items.values())  # an unknown kind shows everything


# --------------------------------------------------------------------------------- item


def test_item_page_shows_the_page_identifiers_and_candidates_with_verdicts(clerk, items, manifest):
    item_id = items[TWIN]
    page = clerk.get(f"/items/{item_id}")
    assert page.status_code == 200
    assert f'src="/items/{item_id}/pages/1.png"' in page.text
    assert "ESTES" in page.text and "1944-01-19" in page.text and "DOB:" in page.text  # what the paper says
    for mrn in (KIMBERLY_ESTES, "48092398"):
        assert f'value="{mrn}"' in page.text
    assert '<span class="verdict agree">agree</span>' in page.text
    assert '<option value="progress_note" selected>' in page.text  # prefilled with the prediction
    image = clerk.get(f"/items/{item_id}/pages/1.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n") and len(image.content) > 10_000
    assert clerk.get(f"/items/{item_id}/pages/2.png").status_code == 404
    document_id = manifest.review_item(item_id).document_id
    views = [(e["actor"], e["action"], e["reason"]) for e in manifest.access_log(document_id)]
    assert views == [("clerk1", "viewed", f"review item {item_id}: shown"),
                     ("clerk1", "viewed", f"review item {item_id}: page 1 image")]


def test_an_unknown_item_is_a_404_page_that_says_what_to_do(clerk):
    response = clerk.get("/items/999")
    assert response.status_code == 404
    assert "no review item 999" in response.text and 'href="/queue"' in response.text
    assert clerk.get("/no/such/page").status_code == 404


def test_pages_are_not_cached_and_not_framed(clerk, items):
    response = clerk.get(f"/items/{items[TWIN]}")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


# ------------------------------------------------------------------------- patient search


def test_patient_search_by_mrn_and_by_name_and_birth_date(clerk, items, manifest):
    item_id = items[UNKNOWN]
    token = csrf_of(clerk.get(f"/items/{item_id}").text)
    by_mrn = clerk.post(f"/items/{item_id}/patients", data={"csrf": token, "search_mrn": KIMBERLY_ESTES})
    assert by_mrn.status_code == 200
    assert 'id="result-83254022"' in by_mrn.text and "ESTES, KIMBERLY" in by_mrn.text
    by_name = clerk.post(f"/items/{item_id}/patients", data={
        "csrf": token, "search_family": "Estes", "search_birth_date": "1944-01-19", "doc_type": "letter"})
    assert 'id="result-83254022"' in by_name.text and 'id="result-48092398"' in by_name.text
    assert '<option value="letter" selected>' in by_name.text  # the chosen type survives a search
    missing = clerk.post(f"/items/{item_id}/patients", data={"csrf": token, "search_mrn": "00000000"})
    assert "no patient with MRN 00000000" in missing.text
    escaped = clerk.post(f"/items/{item_id}/patients", data={"csrf": token, "search_family": "<b>Estes</b>"})
    assert "&lt;b&gt;Estes&lt;/b&gt;" in escaped.text and "<b>Estes</b>" not in escaped.text
    reasons = [e["reason"] for e in manifest.access_log(manifest.review_item(item_id).document_id)]
    assert f"review item {item_id}: patient search, 1 found" in reasons


# ------------------------------------------------------------------------------- resolve


def test_resolve_files_the_document_with_the_confirmed_type_and_logs_it(clerk, items, manifest):
    item_id = items[TWIN]
    response = resolve(clerk, item_id, doc_type="consult_note", patient_mrn=KIMBERLY_ESTES, note="checked")
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    queue = clerk.get("/queue")
    assert f"Review item {item_id} filed" in queue.text
    assert item_id not in queue_ids(clerk)
    item = manifest.review_item(item_id)
    assert (item.status, item.resolution, item.resolved_by, item.resolved_doc_type) == (
        "resolved", "filed", "clerk1", "consult_note")
    doc = manifest.get(item.document_id)
    assert (doc.patient_mrn, doc.outcome, doc.doc_type, doc.loinc) == (
        KIMBERLY_ESTES, Outcome.FILED, "consult_note", "11488-4")
    assert "consult_note" in [doc_type for _, doc_type in manifest.reviewed_types()]  # teaches `train --from-reviews`
    resolved = [e for e in manifest.access_log(item.document_id) if e["action"] == "resolved"]
    assert [(e["actor"], e["patient_mrn"], e["reason"]) for e in resolved] == [
        ("clerk1", KIMBERLY_ESTES, "review: filed; checked")]


def test_resolve_needs_a_type_and_a_patient(clerk, items, manifest):
    item_id = items[TWIN]
    no_type = resolve(clerk, item_id, doc_type="no_such_type", patient_mrn=KIMBERLY_ESTES)
    assert no_type.status_code == 400 and "Choose the document type" in no_type.text
    no_patient = resolve(clerk, item_id, doc_type="progress_note")
    assert no_patient.status_code == 400 and "Choose the patient" in no_patient.text
    unknown = resolve(clerk, item_id, doc_type="progress_note", patient_mrn="00000000")
    assert unknown.status_code == 400 and "no patient with MRN 00000000" in unknown.text
    assert manifest.review_item(item_id).status == "open"


def test_a_patient_whose_birth_date_differs_needs_an_explicit_confirmation(clerk, items, manifest):
    item_id = items[TWIN]  # the paper says born 1944-01-19; Peter Gonzales was born 1953-04-05
    asked = resolve(clerk, item_id, doc_type="progress_note", patient_mrn=PETER_GONZALES)
    assert asked.status_code == 409
    assert 'id="confirm-dob"' in asked.text and "1953-04-05" in asked.text
    assert f'name="confirm_dob" value="{PETER_GONZALES}"' in asked.text
    assert manifest.review_item(item_id).status == "open"
    # a confirmation given for another patient does not count
    other = resolve(clerk, item_id, doc_type="progress_note", patient_mrn=PETER_GONZALES, confirm_dob=KIMBERLY_ESTES)
    assert other.status_code == 409 and manifest.review_item(item_id).status == "open"
    confirmed = resolve(clerk, item_id, doc_type="progress_note", patient_mrn=PETER_GONZALES,
                        confirm_dob=PETER_GONZALES)
    assert confirmed.status_code == 303
    document_id = manifest.review_item(item_id).document_id
    assert manifest.get(document_id).patient_mrn == PETER_GONZALES
    log = manifest.access_log(document_id)
    assert [e["reason"] for e in log if e["action"] == "resolved"] == [f"review: filed; {DOB_OVERRIDE_NOTE}"]
    assert f"review item {item_id}: not filed yet (birth date differs; confirmation asked)" in [
        e["reason"] for e in log]


def test_a_document_without_a_birth_date_needs_no_confirmation(clerk, items, manifest):
    response = resolve(clerk, items[MRN_ONLY], doc_type="laboratory_report", patient_mrn=PETER_GONZALES)
    assert response.status_code == 303
    assert manifest.get(manifest.review_item(items[MRN_ONLY]).document_id).patient_mrn == PETER_GONZALES


def test_forms_without_the_session_csrf_token_are_refused(clerk, client, home, items, manifest):
    item_id = items[TWIN]
    fields = {"doc_type": "progress_note", "patient_mrn": KIMBERLY_ESTES}
    missing = clerk.post(f"/items/{item_id}/resolve", data=fields)
    wrong = clerk.post(f"/items/{item_id}/resolve", data={**fields, "csrf": "forged"})
    with make_client(home) as other:  # a token valid in another session is no good here
        sign_in(other, "clerk2")
        foreign = csrf_of(other.get("/queue").text)
    stolen = clerk.post(f"/items/{item_id}/resolve", data={**fields, "csrf": foreign})
    for response in (missing, wrong, stolen):
        assert response.status_code == 403 and "Form expired" in response.text
    assert manifest.review_item(item_id).status == "open"


def test_an_item_resolved_by_someone_else_is_a_409_that_says_so(clerk, items, manifest):
    item_id = items[TWIN]
    token = csrf_of(clerk.get(f"/items/{item_id}").text)  # clerk1 opens the item ...
    patient_id = manifest.review_item(item_id).candidates[0].patient_id
    manifest.resolve_review_item(item_id, actor="clerk2", patient_id=patient_id,  # ... clerk2 files it first
                                 patient_mrn=KIMBERLY_ESTES)
    late = clerk.post(f"/items/{item_id}/resolve", data={
        "csrf": token, "doc_type": "progress_note", "patient_mrn": "48092398"})
    assert late.status_code == 409
    assert "already filed to a patient by clerk2" in late.text and "Nothing was changed" in late.text
    assert manifest.get(manifest.review_item(item_id).document_id).patient_mrn == KIMBERLY_ESTES
    shown = clerk.get(f"/items/{item_id}")  # still viewable, read-only
    assert shown.status_code == 200 and 'id="resolved"' in shown.text and 'id="resolve-form"' not in shown.text


def test_cannot_identify_closes_the_item_without_filing(clerk, items, manifest):
    item_id = items[UNKNOWN]
    token = csrf_of(clerk.get(f"/items/{item_id}").text)
    no_reason = clerk.post(f"/items/{item_id}/reject", data={"csrf": token, "reject_reason": ""})
    assert no_reason.status_code == 400 and manifest.review_item(item_id).status == "open"
    closed = clerk.post(f"/items/{item_id}/reject", data={"csrf": token, "reject_reason": "not our patient"},
                        follow_redirects=False)
    assert closed.status_code == 303
    item = manifest.review_item(item_id)
    assert (item.status, item.resolution, item.resolved_by) == ("resolved", "closed_unfiled", "clerk1")
    assert manifest.get(item.document_id).patient_mrn is None
    assert item_id not in queue_ids(clerk)


def test_logs_above_debug_carry_no_patient_data(clerk, items, caplog):
    caplog.set_level(logging.INFO)
    resolve(clerk, items[TWIN], doc_type="progress_note", patient_mrn=PETER_GONZALES)  # confirmation asked
    resolve(clerk, items[TWIN], doc_type="progress_note", patient_mrn=PETER_GONZALES, confirm_dob=PETER_GONZALES)
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "filed by clerk1" in text
    for phi in ("ESTES", "Estes", "GONZALES", "1944", "1953", PETER_GONZALES, KIMBERLY_ESTES):
        assert phi not in text


def test_serve_refuses_a_session_time_of_zero(home, capsys):
    from pipeline.cli import main

    assert main(["--home", str(home), "review", "serve", "--session-minutes", "0"]) == 2
    assert "--session-minutes 0: give 1 or more" in capsys.readouterr().err
