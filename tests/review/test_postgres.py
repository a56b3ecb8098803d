"""The same review app on PostgreSQL: the queue of the sample home restored into a PostgreSQL
database (`pipeline export` / `pipeline import`, both real), then reviewed through the browser routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.services.home import open_home
from pipeline.settings import load_settings
from pipeline.store.manifest import Manifest

from .conftest import csrf_of, make_client, run_cli, sign_in

pytestmark = [pytest.mark.integration]


def restored_on_postgresql(home, tmp_path, postgres_url, monkeypatch) -> tuple[Path, Manifest]:
    """The sample home exported and imported into a new PostgreSQL database (the patient index and
    the review app's users too)."""
    backup = tmp_path / "backup"
    run_cli("--home", str(home), "export", str(backup))
    monkeypatch.setenv("PIPELINE_DATABASE_URL", postgres_url)
    pg_home = tmp_path / "pg-home"
    run_cli("--home", str(pg_home), "import", str(backup))
    manifest = open_home(load_settings(pg_home)).manifest
    assert manifest.dialect == "postgresql"
    return pg_home, manifest


def item_of(manifest: Manifest, original_name: str) -> int:
    return next(i.id for i in manifest.open_review_items()
                if manifest.get(i.document_id).original_name == original_name)


def test_review_on_postgresql(home, tmp_path, postgres_url, monkeypatch):
    pg_home, manifest = restored_on_postgresql(home, tmp_path, postgres_url, monkeypatch)
    twin = item_of(manifest, "progress_note_twin.pdf")

    with make_client(pg_home) as client:
        sign_in(client, "clerk-pg")
        assert len(re.findall(r'<tr id="item-\d+">', client.get("/queue").text)) == 4
        page = client.get(f"/items/{twin}")
        assert client.get(f"/items/{twin}/pages/1.png").content.startswith(b"\x89PNG")
        response = client.post(f"/items/{twin}/resolve", follow_redirects=False, data={
            "csrf": csrf_of(page.text), "doc_type": "progress_note", "patient_mrn": "83254022"})
        assert response.status_code == 303
    document_id = manifest.review_item(twin).document_id
    assert manifest.get(document_id).patient_mrn == "83254022"
    assert [e["actor"] for e in manifest.access_log(document_id)] == ["clerk-pg"] * 3


def test_closed_without_filing_on_postgresql(home, tmp_path, postgres_url, monkeypatch):
    """Close, list, reopen (refusing a filed item) and file again, all on PostgreSQL."""
    pg_home, manifest = restored_on_postgresql(home, tmp_path, postgres_url, monkeypatch)
    lab, twin = item_of(manifest, "lab_report_mrn_only.png"), item_of(manifest, "progress_note_twin.pdf")
    manifest.resolve_review_item(twin, actor="clerk-pg", patient_id=manifest.review_item(twin).candidates[0].patient_id,
                                 patient_mrn="83254022")

    with make_client(pg_home) as client:
        sign_in(client, "super-pg")  # a supervisor reopens
        token = csrf_of(client.get("/queue").text)
        client.post(f"/items/{lab}/reject", data={"csrf": token, "reject_reason": "no name on the page"})
        assert 'Closed without filing (1)' in client.get("/queue").text
        assert re.findall(r'<tr id="closed-(\d+)">', client.get("/closed").text) == [str(lab)]
        refused = client.post(f"/items/{twin}/reopen", data={"csrf": token, "reopen_reason": "check"})
        assert refused.status_code == 409
        reopened = client.post(f"/items/{lab}/reopen", follow_redirects=False,
                               data={"csrf": token, "reopen_reason": "patient registered"})
        assert reopened.status_code == 303
        assert manifest.count_closed_review_items() == 0 and manifest.closed_review_items() == []
        filed = client.post(f"/items/{lab}/resolve", follow_redirects=False, data={
            "csrf": token, "doc_type": "laboratory_report", "patient_mrn": "97490116"})
        assert filed.status_code == 303
    document_id = manifest.review_item(lab).document_id
    assert manifest.get(document_id).patient_mrn == "97490116"
    assert [e["reason"] for e in manifest.access_log(document_id) if e["action"] == "resolved"] == [
        "review: closed_unfiled; no name on the page", "review: reopened; patient registered", "review: filed"]
