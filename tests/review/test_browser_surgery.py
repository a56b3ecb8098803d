"""Page surgery and the dashboard in a real browser (Debian's Chromium driven by Playwright against
`pipeline review serve`), screenshots kept as test artifacts in `var/test-artifacts/browser/`
(`PIPELINE_TEST_ARTIFACTS` moves them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from .conftest import GLUED_NAME
from .test_browser import START_DEADLINE, browser, free_port, item_ids, signed_in_page  # noqa: F401 - a fixture

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARTIFACTS = Path(os.environ.get("PIPELINE_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "var" /
                                "test-artifacts")) / "browser"


def keep(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000  # a real picture of the page, kept for a person to look at
    return path


@pytest.fixture(scope="module")
def surgery_server(surgery_template, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("browser-surgery") / "home"
    shutil.copytree(surgery_template, home)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(home), "review", "serve",
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_DEADLINE
    try:
        while not _answers(base):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, f"no answer on {base} within {START_DEADLINE:.0f} s"
            time.sleep(0.1)  # polling the port, bounded by the deadline
        yield base, home
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/login", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def page_size(page: Page, number: int = 1) -> tuple[int, int]:
    image = page.locator("section.pages img").nth(number - 1)
    page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=image.element_handle())
    return tuple(image.evaluate("img => [img.naturalWidth, img.naturalHeight]"))


def test_clerk_turns_a_page_then_splits_the_batch(surgery_server, browser):  # noqa: F811
    base, home = surgery_server
    glued = item_ids(home)[GLUED_NAME]
    page = signed_in_page(browser, base)
    page.goto(f"{base}/items/{glued}")
    width, height = page_size(page, 2)
    page.locator("#surgery summary").click()
    keep(page, "surgery-1-item-before")
    rotate = page.locator("#rotate-form")
    rotate.locator("input[name=page]").fill("2")
    rotate.locator("select[name=degrees]").select_option("90")
    rotate.locator("input[name=reason]").fill("page 2 lies on its side")
    rotate.get_by_role("button", name="Turn").click()
    expect(page.locator(".notice")).to_contain_text(f"review item {glued} is superseded")
    assert page_size(page, 2) == (height, width)  # the new version shows page 2 turned a quarter
    keep(page, "surgery-2-after-rotation")

    page.locator("#surgery summary").click()
    split = page.locator("#split-form")
    split.locator("input[name=at]").fill("2")
    split.locator("input[name=reason]").fill("two documents scanned as one")
    split.get_by_role("button", name="Split into two").click()
    # page 1 (the referral) filed itself; page 2 (patient not in the index) is the one item left
    expect(page.locator(".notice")).to_contain_text("a document filed automatically (1 p.)")
    expect(page.get_by_role("heading", name="Review item #")).to_be_visible()
    expect(page.locator(".reasons")).to_contain_text("not in index")
    assert page.locator("section.pages img").count() == 1
    keep(page, "surgery-3-after-split")
    page.close()


def test_supervisor_reads_the_dashboard(surgery_server, browser):  # noqa: F811
    base, _ = surgery_server
    page = signed_in_page(browser, base, "super1")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("#tile-queue .figure")).to_have_text(str(len(item_ids(surgery_server[1]))))
    expect(page.locator("#chart-hourly svg rect").first).to_be_attached()
    assert page.locator("figure.chart").count() >= 3
    keep(page, "dashboard")
    page.close()
