"""The supervisor's dashboard over real processed scans, on SQLite and PostgreSQL: the figures are
counted by the database and must agree with the review items and documents themselves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pipeline.services.dashboard import OUTCOMES, dashboard
from pipeline.services.home import open_home
from pipeline.settings import load_settings
from pipeline.store.manifest import Manifest

from .conftest import make_client, run_cli, sign_in

pytestmark = [pytest.mark.integration]


def test_the_figures_follow_the_days_work(surgery_home):
    manifest = open_home(load_settings(surgery_home)).manifest
    items = {manifest.get(i.document_id).original_name: i for i in manifest.open_review_items()}
    twin = items["progress_note_twin.pdf"]
    run_cli("--home", str(surgery_home), "review", "resolve", str(twin.id), "--patient", "83254022",
            "--user", "clerk1")
    run_cli("--home", str(surgery_home), "review", "split", str(items["glued_batch.pdf"].id), "--at", "2",
            "--user", "clerk2", "--reason", "two documents")

    board = dashboard(manifest)
    for period in (board.today, board.week):
        assert period.outcomes == {"auto-filed": 1, "filed after review": 1, "waiting": 4, "closed unfiled": 0,
                                   "superseded": 1, "corrections": 0}
        assert period.cleared_by_clerk == {"clerk1": 1, "clerk2": 1}
        assert period.auto_file_rate == pytest.approx(1 / 7)
    assert (board.queue.open_items, board.queue.over_24h) == (4, 0)
    assert board.queue.oldest == min(i.created_at for i in manifest.open_review_items())
    assert sum(h.indexed for h in board.hours) == 7 and sum(h.cleared for h in board.hours) == 2

    later = Manifest(manifest.engine, clock=lambda: board.now + timedelta(days=8))
    aged = dashboard(later)
    assert (aged.queue.open_items, aged.queue.over_24h) == (4, 4)
    assert aged.today.indexed == aged.week.indexed == 0 and aged.today.auto_file_rate is None


def test_the_dashboard_page_draws_its_charts(surgery_home):
    with make_client(surgery_home) as client:
        sign_in(client, "super1")
        page = client.get("/dashboard")
    assert page.status_code == 200
    assert re.search(r'id="tile-queue"><span class="figure">5</span>', page.text)
    assert page.text.count('<figure class="chart"') >= 3 and "<svg" in page.text
    for name in OUTCOMES:
        assert f"<th>{name}</th>" in page.text


def test_the_dashboard_needs_a_signed_in_supervisor(surgery_home):
    with make_client(surgery_home) as client:
        response = client.get("/dashboard", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login?next=/dashboard"
        sign_in(client, "clerk1")
        assert client.get("/dashboard", follow_redirects=False).status_code == 403


def test_the_figures_on_postgresql(home, tmp_path, postgres_url, monkeypatch):
    from .test_postgres import item_of, restored_on_postgresql

    pg_home, manifest = restored_on_postgresql(home, tmp_path, postgres_url, monkeypatch)
    twin = item_of(manifest, "progress_note_twin.pdf")
    manifest.resolve_review_item(twin, actor="clerk-pg", patient_id=manifest.review_item(twin).candidates[0].patient_id,
                                 patient_mrn="83254022")
    board = dashboard(manifest)
    assert board.today.outcomes["waiting"] == 3 and board.today.outcomes["filed after review"] == 1
    assert board.today.cleared_by_clerk == {"clerk-pg": 1}
    assert sum(h.cleared for h in board.hours) == 1 and sum(h.indexed for h in board.hours) == 4
    assert board.queue.open_items == 3
    with make_client(pg_home) as client:
        sign_in(client, "super-pg")
        assert client.get("/dashboard").status_code == 200
