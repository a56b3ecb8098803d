"""A clerk in a real browser: Debian's Chromium driven by Playwright against `pipeline review serve`
(a real uvicorn server in its own process, on a free port) over a real processed home.

Chromium comes from apt (`make system-deps` installs it); it is never downloaded by Playwright.
A missing Chromium fails these tests: it does not skip them.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipeline.services.home import open_home
from pipeline.settings import load_settings

from .conftest import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
START_DEADLINE = 60.0  # seconds for the server to answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(template_home, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("browser") / "home"
    shutil.copytree(template_home, home)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--home", str(home), "review", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_DEADLINE
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"`pipeline review serve` exited with {process.returncode}: {process.stdout.read()}")
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`pipeline review serve` did not answer on {base} within {START_DEADLINE:.0f} s")
            time.sleep(0.1)  # polling the port, bounded by the deadline above
        yield base, home
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install it with `apt-get install chromium` (`make system-deps`)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


def item_ids(home: Path) -> dict[str, int]:
    manifest = open_home(load_settings(home)).manifest
    return {manifest.get(i.document_id).original_name: i.id for i in manifest.open_review_items()}


def signed_in_page(browser: Browser, base: str, user: str = "clerk1") -> Page:
    page = browser.new_page()
    page.goto(f"{base}/queue")
    expect(page).to_have_url(f"{base}/login?next=/queue")
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/queue")
    return page


def expect_page_image_shown(page: Page) -> None:
    image = page.locator("section.pages img").first
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 500", arg=image.element_handle())


def expect_highlight_over_the_image(page: Page, field: str) -> None:
    """The field's highlight is drawn over the page image where the server put it, and its row links to it."""
    link = page.locator(f"#id-{field} a.mark")
    expect(link).to_be_visible()
    target = link.get_attribute("href")
    box = page.locator(f"{target} rect.box")
    expect(box).to_be_visible()
    image = page.locator("section.pages img").first.bounding_box()
    drawn = box.bounding_box()
    view_width = float(page.locator("svg.highlights").first.get_attribute("viewBox").split()[2])
    shown = image["width"] / view_width  # CSS pixels of the shown image per page image pixel
    for key, attribute in (("x", "x"), ("y", "y"), ("width", "width")):
        expected = float(box.get_attribute(attribute)) * shown + (image[key] if key in ("x", "y") else 0)
        assert abs(drawn[key] - expected) < 3, (key, drawn, image)
    link.click()
    expect(page).to_have_url(re.compile(f"{target}$"))
    page.uncheck("#show-highlights")  # the clerk can look at the bare page
    expect(box).to_be_hidden()
    page.check("#show-highlights")
    expect(box).to_be_visible()


def test_clerk_picks_type_and_candidate_and_the_item_leaves_the_queue(server, browser):
    base, home = server
    twin = item_ids(home)["progress_note_twin.pdf"]
    page = signed_in_page(browser, base)
    expect(page.locator(f"#item-{twin}")).to_be_visible()
    page.locator(f"#item-{twin} a").click()
    expect(page.get_by_role("heading", name=f"Review item #{twin}")).to_be_visible()
    expect_page_image_shown(page)
    expect_highlight_over_the_image(page, "birth_date")
    page.select_option("#doc_type", "consult_note")
    page.check("#candidate-83254022")
    page.click("#resolve")
    expect(page).to_have_url(f"{base}/queue")
    expect(page.locator(".notice")).to_contain_text(f"Review item {twin} filed")
    expect(page.locator(f"#item-{twin}")).to_have_count(0)
    page.close()


def test_clerk_searches_by_mrn_and_confirms_a_differing_birth_date(server, browser):
    base, home = server
    item = item_ids(home)["consult_note_unknown_patient.pdf"]
    page = signed_in_page(browser, base)
    page.locator(f"#item-{item} a").click()
    expect_page_image_shown(page)
    page.fill("input[name=search_mrn]", "97490116")
    page.get_by_role("button", name="Search patients").click()
    page.check("#result-97490116")
    page.click("#resolve")
    confirm = page.locator("#confirm-dob")
    expect(confirm).to_contain_text("Birth date differs")
    page.check("input[name=confirm_dob]")
    page.click("#resolve")
    expect(page.locator(".notice")).to_contain_text(f"Review item {item} filed")
    expect(page.locator(f"#item-{item}")).to_have_count(0)
    page.close()
