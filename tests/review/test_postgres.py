"""The same review app on PostgreSQL: the queue of the sample home restored into a PostgreSQL
database (`pipeline export` / `pipeline import`, both real), then reviewed through the browser routes."""

from __future__ import annotations

import re

import pytest

from pipeline.settings import load_settings
from pipeline.store.commands import open_manifest

from .conftest import SAMPLES, csrf_of, make_client, run_cli, sign_in

pytestmark = [pytest.mark.integration]


def test_review_on_postgresql(home, tmp_path, postgres_url, monkeypatch):
    backup = tmp_path / "backup"
    run_cli("--home", str(home), "export", str(backup))
    monkeypatch.setenv("PIPELINE_DATABASE_URL", postgres_url)
    pg_home = tmp_path / "pg-home"
    run_cli("--home", str(pg_home), "patients", "import", str(SAMPLES / "patients.csv"))
    run_cli("--home", str(pg_home), "import", str(backup))
    manifest = open_manifest(load_settings(pg_home))[0]
    assert manifest.dialect == "postgresql"
    twin = next(i.id for i in manifest.open_review_items()
                if manifest.get(i.document_id).original_name == "progress_note_twin.pdf")

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
