"""A supervisor in a real browser (Debian's Chromium, Playwright) against `pipeline review serve`:
a wrong password refused, sign-in, a filed document found by MRN, opened and refiled to the right
twin with a reason; a clerk sees no refile form. Screenshots of each step are kept as test
artifacts in `var/test-artifacts/screenshots/` (or `$PIPELINE_TEST_ARTIFACTS`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from pipeline.classify.types import load_types
from pipeline.services import review
from pipeline.services.home import open_home
from pipeline.settings import load_settings

from .conftest import PASSWORD
from .test_browser import browser, server, signed_in_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = Path(os.environ.get("PIPELINE_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "var" /
                                "test-artifacts")) / "screenshots"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def twin_doc(server) -> str:  # noqa: F811
    _, home = server
    manifest = open_home(load_settings(home)).manifest
    twin = next(i for i in manifest.open_review_items()
                if manifest.get(i.document_id).original_name == "progress_note_twin.pdf")
    return review.resolve(manifest, twin.id, actor="clerk2", patient_mrn="83254022", doc_type="progress_note",
                          types=load_types()).document_id


def test_a_clerk_sees_no_refile_form(server, browser, twin_doc):  # noqa: F811  (runs before the refile below)
    base, _ = server
    page = signed_in_page(browser, base, "clerk2")
    page.goto(f"{base}/records/{twin_doc}")
    expect(page.locator("#versions")).to_be_visible()
    expect(page.locator("#refile-form")).to_have_count(0)
    expect(page.locator("#access")).to_have_count(0)
    shot(page, "00-clerk-view")
    page.close()


def test_supervisor_signs_in_finds_a_document_and_refiles_it(server, browser, twin_doc):  # noqa: F811
    base, home = server
    page = browser.new_page()
    page.goto(f"{base}/records")
    expect(page).to_have_url(f"{base}/login?next=/records")
    page.fill("#user", "super1")
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".error")).to_contain_text("not right")
    shot(page, "01-sign-in-refused")
    page.fill("#user", "super1")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/records")
    page.fill("input[name=mrn]", "83254022")
    page.click("#search")
    expect(page.locator(f"#doc-{twin_doc}")).to_be_visible()
    shot(page, "02-search-by-mrn")
    page.locator(f"#doc-{twin_doc} a").click()
    expect(page.locator("#record-mrn")).to_have_text("83254022")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 500)")
    expect(page.locator("#access")).to_contain_text("viewed")
    shot(page, "03-filed-record")
    page.fill("#refile-mrn", "48092398")
    page.fill("#refile-reason", "wrong twin: birth order checked on the label")
    page.click("#refile")
    expect(page.locator(".notice")).to_contain_text("Refiled")
    expect(page.locator("#record-mrn")).to_have_text("48092398")
    expect(page.locator(f"#version-{twin_doc}")).to_contain_text("entered-in-error")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 500)")
    shot(page, "04-refiled")
    new_id = re.search(r"/records/([0-9a-f-]{36})$", page.url).group(1)
    manifest = open_home(load_settings(home)).manifest
    assert manifest.get(new_id).relates_to == twin_doc and manifest.get(twin_doc).status == "entered-in-error"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/login")
    page.goto(f"{base}/records/{new_id}")
    expect(page).to_have_url(re.compile(r"/login"))  # signed out on the server: the page is gone
    page.close()
