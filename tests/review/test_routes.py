"""Each router of the review app stands on its own: mounted alone on a bare app with its context,
and the signed-in user given by overriding the `current_user` dependency."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from fastapi.testclient import TestClient
from starlette.middleware.sessions import SessionMiddleware

from pipeline.classify.types import load_types
from pipeline.patients.matcher import Matcher
from pipeline.review.identity import ReviewConfig
from pipeline.review.routes import items as item_routes
from pipeline.review.routes import lists
from pipeline.review.web import HERE, ReviewContext, current_user
from pipeline.services.home import open_home
from pipeline.settings import load_settings
from .test_app import TWIN

pytestmark = [pytest.mark.integration]


def bare_app(home, *routers) -> FastAPI:
    settings = load_settings(home)
    opened = open_home(settings)
    app = FastAPI()
    app.state.review = ReviewContext(opened.manifest, opened.store, load_types(), Matcher.from_settings(
        settings, opened.manifest.engine), ReviewConfig(secret="x" * 32), Jinja2Templates(directory=HERE / "templates"))
    app.add_middleware(SessionMiddleware, secret_key="x" * 32)
    for router in routers:
        app.include_router(router)
    app.dependency_overrides[current_user] = lambda: "clerk7"
    return app


def test_the_lists_router_alone_lists_the_queue_and_logs_the_view(home, items: dict[str, int], manifest):
    with TestClient(bare_app(home, lists.router)) as client:
        page = client.get("/queue")
        assert page.status_code == 200 and f'id="item-{items[TWIN]}"' in page.text
        assert client.get("/items/1").status_code == 404  # the items router is not mounted
    assert ("clerk7", f"review queue: {len(items)} items listed") in [
        (e["actor"], e["reason"]) for e in manifest.access_log()]


def test_the_items_router_alone_shows_an_item(home, items: dict[str, int], manifest):
    with TestClient(bare_app(home, item_routes.router)) as client:
        page = client.get(f"/items/{items[TWIN]}")
    assert page.status_code == 200 and "progress_note_twin.pdf" in page.text
    document_id = manifest.review_item(items[TWIN]).document_id
    assert [e["actor"] for e in manifest.access_log(document_id) if e["action"] == "viewed"] == ["clerk7"]
