"""The filed record in the browser: search, open (pages, text, versions, and the access log for a
supervisor), refile (supervisor; reason required; the old entry stays as entered-in-error) and release
to a requester (supervisor; the disclosure log), through the use cases `pipeline search / refile /
release` call. Real home (samples processed), real app."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from pipeline.classify.types import load_types
from pipeline.services import review

from .conftest import csrf_of, make_client, sign_in

pytestmark = [pytest.mark.integration]

KIMBERLY, TWIN_SISTER = "83254022", "48092398"


@pytest.fixture
def twin_doc(manifest, items) -> str:
    """The twin's progress note, filed to Kimberly Estes."""
    return review.resolve(manifest, items["progress_note_twin.pdf"], actor="clerk2", patient_mrn=KIMBERLY,
                          doc_type="progress_note", types=load_types()).document_id


def search(client, **fields):
    return client.post("/records", data={"csrf": csrf_of(client.get("/records").text), **fields})


def found(response) -> list[str]:
    return re.findall(r'<tr id="doc-([0-9a-f-]{36})">', response.text)


def test_search_by_patient_type_dates_and_words(clerk, manifest, twin_doc):
    doc = manifest.get(twin_doc)
    assert found(search(clerk, mrn=KIMBERLY)) == [twin_doc]
    assert found(search(clerk, mrn=TWIN_SISTER)) == []
    assert twin_doc in found(search(clerk, doc_type="progress_note"))
    assert twin_doc not in found(search(clerk, doc_type="laboratory_report"))
    word = max(re.findall(r"[A-Za-z]{6,}", manifest.text_of(doc.sha256)), key=len)
    assert twin_doc in found(search(clerk, words=word))
    assert found(search(clerk, words="zyxwvutsrq")) == []
    if doc.date_of_service:
        day = doc.date_of_service.isoformat()
        assert twin_doc in found(search(clerk, date_from=day, date_to=day))
        assert found(search(clerk, mrn=KIMBERLY, date_from="2999-01-01")) == []
        # words within a short range of dates: each document of the range checked against the text index
        assert twin_doc in found(search(clerk, words=word, date_from=day, date_to=day))
        assert found(search(clerk, words="zyxwvutsrq", date_from=day, date_to=day)) == []
    bad = search(clerk, date_from="yesterday")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
    assert ("clerk1", "viewed", KIMBERLY) in [(e["actor"], e["action"], e["patient_mrn"]) for e in manifest.access_log()]


def test_a_clerk_opens_a_filed_document_without_its_access_log(clerk, manifest, twin_doc):
    page = clerk.get(f"/records/{twin_doc}")
    assert page.status_code == 200
    assert f'<tr id="version-{twin_doc}">' in page.text and 'id="ocr-text"' in page.text
    assert f'src="/records/{twin_doc}/pages/1.png"' in page.text
    assert clerk.get(f"/records/{twin_doc}/pages/1.png").content.startswith(b"\x89PNG")
    assert 'id="access"' not in page.text  # the access log is a supervisor's
    assert 'id="refile-form"' not in page.text and 'id="release-form"' not in page.text
    reasons = [(e["actor"], e["reason"]) for e in manifest.access_log(twin_doc) if e["action"] == "viewed"]
    assert ("clerk1", "filed record opened") in reasons and ("clerk1", "filed record: page 1 image") in reasons


def test_a_supervisor_refiles_with_a_reason_and_the_old_entry_stays(supervisor, manifest, twin_doc):
    page = supervisor.get(f"/records/{twin_doc}")
    assert 'id="access"' in page.text and 'id="refile-form"' in page.text
    token = csrf_of(page.text)

    def refile(**fields):
        return supervisor.post(f"/records/{twin_doc}/refile", data={"csrf": token, **fields}, follow_redirects=False)

    assert refile(refile_mrn=TWIN_SISTER, refile_reason="").status_code == 400
    assert refile(refile_mrn="00000000", refile_reason="wrong twin").status_code == 400
    assert manifest.get(twin_doc).status == "current"  # nothing changed
    moved = refile(refile_mrn=TWIN_SISTER, refile_reason="wrong twin: birth order checked")
    assert moved.status_code == 303
    new_id = moved.headers["location"].rsplit("/", 1)[1]
    old, new = manifest.get(twin_doc), manifest.get(new_id)
    assert (old.status, old.patient_mrn) == ("entered-in-error", KIMBERLY)
    assert (new.status, new.patient_mrn, new.relates_to, new.filed_by) == ("current", TWIN_SISTER, twin_doc, "super1")
    shown = supervisor.get(moved.headers["location"])
    assert "Refiled" in shown.text and f'<tr id="version-{twin_doc}">' in shown.text
    assert "wrong twin: birth order checked" in shown.text
    for document_id in (twin_doc, new_id):  # as `pipeline refile` logs it
        assert ("super1", "refiled", "wrong twin: birth order checked") in [
            (e["actor"], e["action"], e["reason"]) for e in manifest.access_log(document_id)]
    again = refile(refile_mrn=KIMBERLY, refile_reason="back again")  # the old entry is not current any more
    assert again.status_code == 409 and "entered-in-error" in again.text


def test_a_refile_to_the_same_patient_is_refused_by_the_use_case(supervisor, manifest, twin_doc):
    token = csrf_of(supervisor.get(f"/records/{twin_doc}").text)
    same = supervisor.post(f"/records/{twin_doc}/refile", follow_redirects=False,
                           data={"csrf": token, "refile_mrn": KIMBERLY, "refile_reason": "double-check"})
    assert same.status_code == 400 and f"is filed to MRN {KIMBERLY} already" in same.text
    assert manifest.get(twin_doc).status == "current"
    assert "refiled" not in [e["action"] for e in manifest.access_log(twin_doc)]


def test_a_supervisor_releases_the_chart_and_the_disclosure_is_logged(supervisor, manifest, twin_doc):
    token = csrf_of(supervisor.get(f"/records/{twin_doc}").text)
    refused = supervisor.post(f"/records/{twin_doc}/release", data={"csrf": token, "recipient": "Dr Synthetic"})
    assert refused.status_code == 400 and not [e for e in manifest.access_log() if e["action"] == "released"]
    sent = supervisor.post(f"/records/{twin_doc}/release",
                           data={"csrf": token, "recipient": "Dr Synthetic", "purpose": "continuing care"})
    assert sent.status_code == 200 and sent.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(sent.content)) as bundle:
        index = json.loads(bundle.read("index.json"))
        assert [d["document_id"] for d in index["documents"]] == [twin_doc]
        assert (index["recipient"], index["purpose"], index["released_by"]) == ("Dr Synthetic", "continuing care",
                                                                               "super1")
    released = [e for e in manifest.access_log(twin_doc) if e["action"] == "released"]
    assert [(e["actor"], e["recipient"], e["reason"]) for e in released] == [("super1", "Dr Synthetic",
                                                                             "continuing care")]
    log_page = supervisor.get("/access-log")
    assert log_page.status_code == 200 and "Dr Synthetic" in log_page.text


def test_an_admin_adds_a_user_who_can_then_sign_in(home, client):
    sign_in(client, "admin1")
    token = csrf_of(client.get("/users").text)
    weak = client.post("/users", data={"csrf": token, "name": "newclerk", "role": "clerk", "password": "short"})
    assert weak.status_code == 400 and "too short" in weak.text
    added = client.post("/users", data={"csrf": token, "name": "newclerk", "role": "clerk",
                                        "password": "first passphrase here"}, follow_redirects=False)
    assert added.status_code == 303
    assert '<tr id="user-newclerk">' in client.get("/users").text
    itself = client.post("/users/enabled", data={"csrf": token, "name": "admin1", "enabled": "0"})
    assert itself.status_code == 400
    with make_client(home) as newcomer:
        sign_in(newcomer, "newclerk", "first passphrase here")
        assert newcomer.get("/users").status_code == 403
