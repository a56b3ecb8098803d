"""Documents closed without filing (cannot identify) stay in view: the "Closed without filing" page and
`pipeline review list --closed` show them, and Reopen / `pipeline review reopen` put one back in the
queue, to be filed like a new item. Real home, real app, real CLI."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.cli import main
from pipeline.records import ReviewResolution
from .conftest import csrf_of, run_cli
from .test_app import MRN_ONLY, PETER_GONZALES, TWIN, UNKNOWN, queue_ids, resolve

pytestmark = [pytest.mark.integration]


def close(client, item_id: int, reason: str):
    token = csrf_of(client.get(f"/items/{item_id}").text)
    return client.post(f"/items/{item_id}/reject", data={"csrf": token, "reject_reason": reason},
                       follow_redirects=False)


def reopen(client, item_id: int, reason: str, token: str | None = None):
    token = token if token is not None else csrf_of(client.get(f"/items/{item_id}").text)
    return client.post(f"/items/{item_id}/reopen", data={"csrf": token, "reopen_reason": reason},
                       follow_redirects=False)


def closed_ids(client) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="closed-(\d+)">', client.get("/closed").text)]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------- browser


def test_a_closed_item_is_listed_shown_read_only_reopened_and_then_filed(supervisor, items, manifest):
    item_id = items[MRN_ONLY]
    assert 'id="closed-link">Closed without filing (0)</a>' in supervisor.get("/queue").text
    assert close(supervisor, item_id, "label torn off, no name").status_code == 303

    queue = supervisor.get("/queue")
    assert 'id="closed-link">Closed without filing (1)</a>' in queue.text and item_id not in queue_ids(supervisor)
    listing = supervisor.get("/closed")
    assert listing.status_code == 200 and closed_ids(supervisor) == [item_id]
    assert '<strong id="closed-count">1</strong>' in listing.text
    row = listing.text.split(f'<tr id="closed-{item_id}">')[1].split("</tr>")[0]
    document_id = manifest.review_item(item_id).document_id
    for shown in ("super1", "label torn off, no name", document_id[:8], MRN_ONLY, " min</td>"):
        assert shown in row

    page = supervisor.get(f"/items/{item_id}")  # read-only: the pages, no filing forms, a Reopen form
    assert page.status_code == 200 and f'src="/items/{item_id}/pages/1.png"' in page.text
    assert "Closed without filing (cannot identify) by\n  <strong>super1</strong>" in page.text
    assert "label torn off, no name" in page.text
    assert 'id="resolve-form"' not in page.text and 'id="reject-form"' not in page.text
    assert 'id="reopen-form"' in page.text
    assert supervisor.get(f"/items/{item_id}/pages/1.png").status_code == 200

    no_reason = reopen(supervisor, item_id, "")
    assert no_reason.status_code == 400 and "Say why the item is reopened" in no_reason.text
    forged = reopen(supervisor, item_id, "patient registered", token="forged")
    assert forged.status_code == 403 and manifest.review_item(item_id).status == "resolved"

    reopened = reopen(supervisor, item_id, "patient registered by ADT")
    assert reopened.status_code == 303 and reopened.headers["location"] == f"/items/{item_id}"
    shown = supervisor.get(f"/items/{item_id}")
    assert f"Review item {item_id} reopened" in shown.text and 'id="resolve-form"' in shown.text
    assert item_id in queue_ids(supervisor) and closed_ids(supervisor) == []
    assert 'Closed without filing (0)' in supervisor.get("/queue").text
    item = manifest.review_item(item_id)
    assert (item.status, item.resolution, item.resolved_by, item.resolved_at) == ("open", None, None, None)

    filed = resolve(supervisor, item_id, doc_type="laboratory_report", patient_mrn=PETER_GONZALES)
    assert filed.status_code == 303
    item = manifest.review_item(item_id)
    assert (item.status, item.resolution, item.resolved_doc_type) == ("resolved", "filed", "laboratory_report")
    assert manifest.get(document_id).patient_mrn == PETER_GONZALES
    assert "laboratory_report" in [t for _, t in manifest.reviewed_types()]

    log = manifest.access_log(document_id)
    assert all(e["actor"] == "super1" for e in log)
    assert [e["reason"] for e in log if e["action"] == "resolved"] == [
        "review: closed_unfiled; label torn off, no name", "review: reopened; patient registered by ADT", "review: filed"]
    viewed = [e["reason"] for e in log if e["action"] == "viewed"]
    assert f"review item {item_id}: shown (closed without filing)" in viewed
    assert f"review item {item_id}: not reopened (no reason)" in viewed
    listed = [(e["actor"], e["reason"]) for e in manifest.access_log() if e["document_id"] is None]
    assert ("super1", "closed without filing: 1 items listed") in listed


def test_only_an_item_closed_without_filing_reopens(supervisor, items, manifest):
    filed_id = items[TWIN]
    assert resolve(supervisor, filed_id, doc_type="progress_note", patient_mrn="83254022").status_code == 303
    token = csrf_of(supervisor.get("/queue").text)
    refused = reopen(supervisor, filed_id, "wrong patient?", token=token)
    assert refused.status_code == 409
    assert "was filed to a patient by super1" in refused.text and "pipeline refile" in refused.text
    assert manifest.review_item(filed_id).resolution == "filed"
    assert manifest.get(manifest.review_item(filed_id).document_id).patient_mrn == "83254022"
    still_open = reopen(supervisor, items[UNKNOWN], "why not", token=token)
    assert still_open.status_code == 409 and "is open already" in still_open.text
    assert reopen(supervisor, 999, "no such", token=token).status_code == 404

    closed_id = items[UNKNOWN]  # two clerks: the second Reopen finds the item open again
    assert close(supervisor, closed_id, "not our patient").status_code == 303
    assert reopen(supervisor, closed_id, "patient registered", token=token).status_code == 303
    late = reopen(supervisor, closed_id, "patient registered", token=token)
    assert late.status_code == 409 and manifest.review_item(closed_id).status == "open"
    posted = supervisor.post(f"/items/{closed_id}/reject", data={"csrf": token, "reject_reason": "again"},
                         follow_redirects=False)
    assert posted.status_code == 303 and manifest.review_item(closed_id).resolution == "closed_unfiled"


def test_a_closed_document_refiled_since_leaves_the_list_and_does_not_reopen(supervisor, home, items, manifest):
    item_id = items[UNKNOWN]
    close(supervisor, item_id, "not our patient")
    document_id = manifest.review_item(item_id).document_id
    run_cli("--home", str(home), "refile", document_id, "--patient", PETER_GONZALES,
            "--reason", "found the patient", "--user", "sup1")
    assert closed_ids(supervisor) == [] and manifest.count_closed_review_items() == 0
    refused = reopen(supervisor, item_id, "patient registered", token=csrf_of(supervisor.get("/queue").text))
    assert refused.status_code == 409 and "has been filed since the item was closed" in refused.text


# ------------------------------------------------------------------------------------- CLI


def test_cli_lists_closed_items_and_reopens_one(home, items, manifest, capsys):
    item_id = items[UNKNOWN]
    manifest.resolve_review_item(item_id, actor="clerk2", resolution=ReviewResolution.CLOSED_UNFILED,
                                 note="no identifiers on page")
    code, out, _ = cli(capsys, "--home", str(home), "review", "list", "--closed", "--user", "sup1")
    assert code == 0
    assert re.match(rf"\s*{item_id}  closed \d{{4}}-\d\d-\d\d \d\d:\d\d by clerk2 ", out)
    assert "no identifiers on page" in out and manifest.review_item(item_id).document_id in out
    code, out, _ = cli(capsys, "--home", str(home), "review", "list", "--closed", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(listed) == 1
    assert {k: listed[0][k] for k in ("id", "status", "closed_by", "reason")} == {
        "id": item_id, "status": "resolved", "closed_by": "clerk2", "reason": "no identifiers on page"}
    assert listed[0]["closed_at"] and listed[0]["pages"] == 1
    code, out, _ = cli(capsys, "--home", str(home), "review", "list", "--json")
    assert item_id not in [json.loads(line)["id"] for line in out.splitlines()]  # not in the open queue

    code, out, _ = cli(capsys, "--home", str(home), "review", "reopen", str(item_id), "--reason",
                       "patient registered", "--user", "sup1", "--json")
    assert code == 0 and json.loads(out)["status"] == "open"
    code, out, _ = cli(capsys, "--home", str(home), "review", "list", "--closed")
    assert code == 0 and out == ""
    code, out, _ = cli(capsys, "--home", str(home), "review", "list", "--json")
    assert item_id in [json.loads(line)["id"] for line in out.splitlines()]
    log = manifest.access_log(manifest.review_item(item_id).document_id)
    assert [(e["actor"], e["reason"]) for e in log] == [
        ("clerk2", "review: closed_unfiled; no identifiers on page"), ("sup1", "review: reopened; patient registered")]
    listings = [(e["actor"], e["reason"]) for e in manifest.access_log() if e["document_id"] is None]
    assert ("sup1", "closed without filing: 1 items listed") in listings


def test_cli_reopen_refuses_a_filed_item_an_open_one_an_unknown_one_and_no_reason(home, items, manifest, capsys):
    filed = items[MRN_ONLY]
    run_cli("--home", str(home), "review", "resolve", str(filed), "--patient", PETER_GONZALES, "--user", "super1")
    code, out, err = cli(capsys, "--home", str(home), "review", "reopen", str(filed), "--reason", "x")
    assert code == 7 and out == ""
    assert f"review item {filed} is resolved (filed); only an item closed without filing reopens" in err
    assert "pipeline refile" in err
    code, _, err = cli(capsys, "--home", str(home), "review", "reopen", str(items[TWIN]), "--reason", "x")
    assert code == 7 and f"review item {items[TWIN]} is open;" in err
    code, _, err = cli(capsys, "--home", str(home), "review", "reopen", "999", "--reason", "x")
    assert code == 9 and "no review item 999" in err
    code, _, err = cli(capsys, "--home", str(home), "review", "reopen", str(filed), "--reason", "  ")
    assert code == 2 and "--reason: say why the item is reopened" in err
    with pytest.raises(SystemExit) as missing:
        main(["--home", str(home), "review", "reopen", str(filed)])
    assert missing.value.code == 2 and "--reason" in capsys.readouterr().err
    assert manifest.review_item(filed).resolution == "filed"


def test_the_closing_reason_survives_a_reindex_from_the_store(home, items, manifest, capsys):
    """The database is lost, the store's journal is not: the closed item comes back with its reason."""
    item_id = items[UNKNOWN]
    document_id = manifest.review_item(item_id).document_id
    manifest.resolve_review_item(item_id, actor="clerk2", resolution=ReviewResolution.CLOSED_UNFILED,
                                 note="label torn off")
    manifest.engine.dispose()
    for path in home.glob("manifest.db*"):
        path.unlink()

    code, _, _ = cli(capsys, "--home", str(home), "reindex")

    assert code == 0
    code, out, _ = cli(capsys, "--home", str(home), "review", "list", "--closed", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(e["document_id"], e["closed_by"], e["reason"]) for e in listed] == [
        (document_id, "clerk2", "label torn off")]
