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

from pipeline.review import queue
from pipeline.services.home import open_home
from pipeline.settings import load_settings

from .conftest import PASSWORD, TYPE_ONLY_MRN, add_type_only_item

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


# ------------------------------------------------------------------------------ keyboard


#: screenshots of the keyboard tests, kept for a person to look at (git-ignored)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "review"


class Keys:
    """Presses keys on a page and counts them."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0

    def press(self, key: str) -> None:
        keys_live(self.page)
        self.page.keyboard.press(key)
        self.count += 1


def keys_live(page: Page) -> None:
    """Wait until the page's shortcuts script has attached (a key pressed before that does nothing)."""
    expect(page.locator("html[data-keys=on]")).to_have_count(1)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_keys_wait_while_the_clerk_types_and_move_between_items(server, browser):
    base, home = server
    ids = sorted(item_ids(home).values())
    assert len(ids) >= 2
    page = signed_in_page(browser, base)
    page.goto(f"{base}/items/{ids[0]}")
    keys_live(page)
    page.locator("#note").focus()
    page.keyboard.type("r n 1")  # typed into the note: no key acts
    expect(page).to_have_url(f"{base}/items/{ids[0]}")
    expect(page.locator("#note")).to_have_value("r n 1")
    page.keyboard.press("Escape")  # leaves the field
    page.keyboard.press("n")
    expect(page).to_have_url(f"{base}/items/{ids[1]}")
    keys_live(page)
    page.keyboard.press("p")
    expect(page).to_have_url(f"{base}/items/{ids[0]}")
    keys_live(page)
    page.keyboard.press("q")
    expect(page).to_have_url(f"{base}/queue")
    page.close()


def test_a_clerk_clears_an_item_whose_patient_is_the_top_candidate_in_three_keys(server, browser):
    base, home = server
    item = item_ids(home)["lab_report_mrn_only.png"]  # top candidate 97490116 is the right patient
    manifest = open_home(load_settings(home)).manifest
    open_items = manifest.open_review_items()
    # a reason filter under which this item is listed first (the clerk's own way to a stack of one kind)
    kind = next(k for k in sorted(queue.kinds_of(manifest.review_item(item)))
                if next(i.id for i in open_items if k in queue.kinds_of(i)) == item)
    page = signed_in_page(browser, base)
    page.goto(f"{base}/queue?kind={kind}")
    expect(page.locator("table.queue a.open-item").first).to_have_attribute("href", f"/items/{item}")
    keys = Keys(page)
    keys.press("n")  # open the first item listed
    expect(page).to_have_url(f"{base}/items/{item}")
    expect(page.locator("#shortcuts")).to_contain_text("choose candidate 1")
    keys.press("1")  # the top candidate
    expect(page.locator("#candidate-97490116")).to_be_checked()
    screenshot(page, "keyboard-patient-item.png")
    keys.press("r")  # resolve with the predicted type
    expect(page).to_have_url(f"{base}/queue")
    expect(page.locator(".notice")).to_contain_text(f"Review item {item} filed")
    screenshot(page, "keyboard-patient-item-cleared.png")
    assert keys.count == 3
    doc = manifest.get(manifest.review_item(item).document_id)
    assert (doc.patient_mrn, doc.doc_type) == ("97490116", "laboratory_report")
    page.close()


def test_a_type_only_item_is_confirmed_with_one_key(server, browser):
    base, home = server
    add_type_only_item(home)
    manifest = open_home(load_settings(home)).manifest
    [item] = [i.id for i in manifest.open_review_items() if i.kind == "type"]
    page = signed_in_page(browser, base)
    page.goto(f"{base}/items/{item}")
    expect(page.locator("#filed-to")).to_contain_text(f"Filed to MRN {TYPE_ONLY_MRN}")
    screenshot(page, "keyboard-type-only-item.png")
    keys = Keys(page)
    keys.press("r")
    expect(page).to_have_url(f"{base}/queue")
    expect(page.locator(".notice")).to_contain_text(f"Review item {item}: type confirmed")
    assert keys.count == 1
    assert manifest.get(manifest.review_item(item).document_id).type_confirmed is True
    page.close()


def test_without_javascript_no_key_acts_and_every_action_is_still_a_form(server, browser):
    base, home = server
    item = item_ids(home)["letter_namesake.jpg"]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/login?next=/items/{item}")
    page.fill("#user", "clerk1")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/items/{item}")
    expect(page.locator("#shortcuts")).to_be_visible()  # listed on the page all the same
    page.keyboard.press("1")
    expect(page.locator("#candidate-75352102")).not_to_be_checked()
    page.check("#candidate-75352102")
    page.click("#resolve")
    expect(page).to_have_url(f"{base}/queue")
    expect(page.locator(".notice")).to_contain_text(f"Review item {item} filed")
    screenshot(page, "no-javascript-resolved.png")
    context.close()
