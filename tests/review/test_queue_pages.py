"""The queue page shows one page of items, oldest first; its reason filter counts the whole queue."""

from __future__ import annotations

import re

import pytest

from pipeline.review.routes import lists

pytestmark = [pytest.mark.integration]


def shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="item-(\d+)">', html)]


def test_the_queue_pages_through_every_open_item(clerk, items, monkeypatch):
    monkeypatch.setattr(lists, "PAGE_SIZE", 3)
    first, second = clerk.get("/queue"), clerk.get("/queue?page=2")
    assert shown(first.text) == sorted(items.values())[:3] and 'id="next-page"' in first.text
    assert shown(second.text) == sorted(items.values())[3:] and 'id="previous-page"' in second.text
    assert "all (4)" in first.text and "page 1 of 2" in first.text
    assert shown(clerk.get("/queue?page=99").text) == shown(second.text)  # past the end: the last page
    assert shown(clerk.get("/queue?page=-3").text) == shown(first.text)
