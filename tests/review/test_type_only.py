"""A type-only item (a document filed to a certain patient whose type awaits confirmation), from
every door: the queue lists it as such and filters by it, the item page offers the type alone, one
action settles it, and the command line refuses and accepts the same decisions."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.errors import ReviewDecisionError
from pipeline.records import Outcome, ReviewKind, ReviewResolution
from pipeline.services.home import open_home
from pipeline.settings import load_settings

from .conftest import TYPE_ONLY_MRN, TYPE_ONLY_SAMPLE, csrf_of, make_client, sign_in
from .test_app import queue_ids, resolve
from .test_closed import cli

pytestmark = [pytest.mark.integration]


@pytest.fixture
def manifest(type_only_home):
    return open_home(load_settings(type_only_home)).manifest


@pytest.fixture
def type_item(manifest) -> int:
    [item] = manifest.open_review_items(kind=ReviewKind.TYPE)
    assert manifest.get(item.document_id).original_name == TYPE_ONLY_SAMPLE
    return item.id


@pytest.fixture
def clerk(type_only_home):
    with make_client(type_only_home) as client:
        sign_in(client)
        yield client


def test_the_sample_is_filed_to_its_patient_with_the_type_unconfirmed(manifest, type_item):
    doc = manifest.get(manifest.review_item(type_item).document_id)
    assert (doc.outcome, doc.patient_mrn, doc.doc_type, doc.type_confirmed) == (
        Outcome.FILED, TYPE_ONLY_MRN, "referral", False)
    assert any("awaits confirmation" in r for r in doc.reasons)


def test_the_queue_shows_the_kind_and_filters_by_it(clerk, manifest, type_item):
    everything = queue_ids(clerk)
    assert type_item in everything and len(everything) == 5
    assert queue_ids(clerk, "?item=type") == [type_item]
    assert type_item not in queue_ids(clerk, "?item=patient") and len(queue_ids(clerk, "?item=patient")) == 4
    page = clerk.get("/queue").text
    row = re.search(rf'<tr id="item-{type_item}">.*?</tr>', page, re.S).group(0)
    assert "type only" in row
    assert 'id="item-kind-type"' in page and "type only (filed) (1)" in page


def test_the_item_page_offers_the_type_alone_and_lists_the_keys(clerk, type_item):
    page = clerk.get(f"/items/{type_item}").text
    assert 'id="confirm-type-form"' in page and f"Filed to MRN {TYPE_ONLY_MRN}" in page
    assert 'id="resolve-form"' not in page and 'id="reject-form"' not in page and 'id="candidates"' not in page
    assert re.search(r'<option value="referral"\s+selected>', page)
    shortcuts = re.search(r'<section class="shortcuts".*?</section>', page, re.S).group(0)
    assert "confirm the type (one key)" in shortcuts and "choose candidate" not in shortcuts


def test_one_action_confirms_or_corrects_the_type_and_nothing_else(clerk, manifest, type_item):
    document_id = manifest.review_item(type_item).document_id
    before = manifest.get(document_id)
    token = csrf_of(clerk.get(f"/items/{type_item}").text)
    response = clerk.post(f"/items/{type_item}/confirm-type", data={"csrf": token, "doc_type": "letter"},
                          follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    assert f"Review item {type_item}: type confirmed as Letter" in clerk.get("/queue").text
    doc = manifest.get(document_id)
    assert (doc.doc_type, doc.loinc, doc.type_confirmed) == ("letter", "51852-2", True)
    assert (doc.patient_id, doc.patient_mrn, doc.original_key) == (before.patient_id, before.patient_mrn,
                                                                   before.original_key)
    item = manifest.review_item(type_item)
    assert (item.resolution, item.resolved_by, item.resolved_doc_type) == (
        ReviewResolution.TYPE_CONFIRMED, "clerk1", "letter")
    assert ("letter" in [t for _, t in manifest.reviewed_types()])
    assert type_item not in queue_ids(clerk)


def test_the_browser_refuses_a_patient_decision_on_a_type_only_item(clerk, manifest, type_item):
    refused = resolve(clerk, type_item, doc_type="referral", patient_mrn="97490116")
    assert refused.status_code == 409 and "type-only" in refused.text
    token = csrf_of(clerk.get(f"/items/{type_item}").text)
    closed = clerk.post(f"/items/{type_item}/reject", data={"csrf": token, "reject_reason": "no"},
                        follow_redirects=False)
    assert closed.status_code == 409
    assert manifest.review_item(type_item).status == "open"
    assert manifest.get(manifest.review_item(type_item).document_id).patient_mrn == TYPE_ONLY_MRN


def test_the_cli_lists_by_kind_refuses_a_patient_and_confirms_with_one_command(
        type_only_home, manifest, type_item, capsys):
    home = str(type_only_home)
    code, out, _ = cli(capsys, "--home", home, "review", "list", "--kind", "type", "--json")
    assert code == 0 and [(r["id"], r["kind"]) for r in map(json.loads, out.splitlines())] == [(type_item, "type")]
    code, out, _ = cli(capsys, "--home", home, "review", "list")
    assert code == 0 and re.search(rf"^\s*{type_item}\s+type\s", out, re.M)
    code, out, err = cli(capsys, "--home", home, "review", "resolve", str(type_item), "--patient", "97490116")
    assert code == ReviewDecisionError.exit_code and out == "" and "type-only" in err and "refile" in err
    patient_item = manifest.open_review_items(kind=ReviewKind.PATIENT)[0].id
    code, _, err = cli(capsys, "--home", home, "review", "confirm-type", str(patient_item))
    assert code == ReviewDecisionError.exit_code and "not type-only" in err
    code, out, _ = cli(capsys, "--home", home, "review", "confirm-type", str(type_item), "--user", "clerk2", "--json")
    assert code == 0
    assert json.loads(out) == {"id": type_item, "document_id": manifest.review_item(type_item).document_id,
                               "patient_mrn": TYPE_ONLY_MRN, "doc_type": "referral", "loinc": "57133-1",
                               "type_confirmed": True}
    code, out, _ = cli(capsys, "--home", home, "review", "list", "--kind", "type", "--json")
    assert code == 0 and out == ""


def test_the_keyboard_script_is_served_from_the_app_under_its_security_policy(clerk):
    script = clerk.get("/static/review.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "addEventListener(\"keydown\"" in script.text
    assert "script-src 'self'" in script.headers["content-security-policy"]


def test_search_says_which_filed_documents_have_their_type_unconfirmed(type_only_home, manifest, type_item, capsys):
    home = str(type_only_home)
    code, out, _ = cli(capsys, "--home", home, "search", "--patient", TYPE_ONLY_MRN, "--json")
    assert code == 0 and [(d["patient_mrn"], d["type_confirmed"]) for d in map(json.loads, out.splitlines())] == [
        (TYPE_ONLY_MRN, False)]
    code, out, _ = cli(capsys, "--home", home, "search", "--patient", TYPE_ONLY_MRN)
    assert code == 0 and out.splitlines()[-1].endswith("current, type unconfirmed")
    cli(capsys, "--home", home, "review", "confirm-type", str(type_item))
    code, out, _ = cli(capsys, "--home", home, "search", "--patient", TYPE_ONLY_MRN)
    assert out.splitlines()[-1].endswith("current")
