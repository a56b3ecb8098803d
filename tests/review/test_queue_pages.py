"""The queue page shows one page of items, oldest first; its reason filter counts the whole queue."""

from __future__ import annotations

import logging
import re

import pytest

from pipeline.review.routes import lists
from pipeline.services.home import open_home
from pipeline.settings import load_settings
from pipeline.store import journal
from pipeline.store.keys import MANIFEST_PREFIX

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


def queue_views(manifest) -> list[int]:
    return [e["id"] for e in manifest.access_log() if (e["reason"] or "").startswith("review queue:")]


def journaled_access_ids(store) -> set[int]:
    return {line["access"]["id"] for line in journal.replay(store) if line["kind"] == "access"}


def test_a_queue_view_is_logged_before_the_page_and_journaled_after_it(clerk, home, manifest, caplog):
    store = open_home(load_settings(home)).store
    assert clerk.get("/queue").status_code == 200
    [first] = queue_views(manifest)
    assert manifest.pending_journal_events() == 0 and first in journaled_access_ids(store)

    # the store cannot take the journal copy: the view is still in the access log, its event waits
    folder = store.root / MANIFEST_PREFIX
    folder.rename(folder.with_name("journal-away"))
    folder.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="pipeline.store.outbox"):
        assert clerk.get("/queue").status_code == 200
    [_, second] = queue_views(manifest)
    assert manifest.pending_journal_events() == 1
    assert "journal not copied to the store yet" in caplog.text
    folder.unlink()
    folder.with_name("journal-away").rename(folder)
    assert clerk.get("/queue").status_code == 200  # the next view copies what waited
    [_, _, third] = queue_views(manifest)
    assert manifest.pending_journal_events() == 0
    assert {first, second, third} <= journaled_access_ids(store)
