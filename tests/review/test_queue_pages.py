"""The queue page shows one page of items, oldest first; its reason filter counts the whole queue."""

from __future__ import annotations

import gc
import logging
import re
import threading

import pytest

from pipeline.records import ReviewResolution
from pipeline.review.routes import lists
from pipeline.review.web import JournalCopier
from pipeline.services import review
from pipeline.services.home import open_home
from pipeline.settings import load_settings
from pipeline.store import journal
from pipeline.store.keys import MANIFEST_PREFIX

from .conftest import make_client, sign_in

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


def views(manifest, reason: str) -> list[int]:
    return [e["id"] for e in manifest.access_log() if (e["reason"] or "").startswith(reason)]


def journaled_access_ids(store) -> set[int]:
    return {line["access"]["id"] for line in journal.replay(store) if line["kind"] == "access"}


@pytest.mark.parametrize("page", ["queue", "item"])
def test_a_view_is_logged_before_the_page_and_journaled_after_it(page, clerk, home, items, manifest, caplog):
    item = min(items.values())
    path, reason = ("/queue", "review queue:") if page == "queue" else (f"/items/{item}", f"review item {item}:")
    store = open_home(load_settings(home)).store
    assert clerk.get(path).status_code == 200
    [first] = views(manifest, reason)
    assert manifest.pending_journal_events() == 0 and first in journaled_access_ids(store)

    # the store cannot take the journal copy: the view is still in the access log, its event waits
    folder = store.root / MANIFEST_PREFIX
    folder.rename(folder.with_name("journal-away"))
    folder.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="pipeline.store.outbox"):
        assert clerk.get(path).status_code == 200
    [_, second] = views(manifest, reason)
    assert manifest.pending_journal_events() == 1
    assert "journal not copied to the store yet" in caplog.text
    folder.unlink()
    folder.with_name("journal-away").rename(folder)
    assert clerk.get(path).status_code == 200  # the next view copies what waited
    [_, _, third] = views(manifest, reason)
    assert manifest.pending_journal_events() == 0
    assert {first, second, third} <= journaled_access_ids(store)


def count_calls(monkeypatch, module, name: str) -> list[int]:
    """Counts the calls to `module.name`, which still does its real work."""
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, counted)
    return calls


def test_the_open_items_are_read_again_only_when_a_review_item_changed(clerk, items, manifest, monkeypatch):
    reads = count_calls(monkeypatch, review, "open_revisions")
    first = clerk.get("/queue").text
    assert clerk.get("/queue").text.count('<tr id="item-') == first.count('<tr id="item-') == 4
    assert len(reads) == 1  # the second view kept the open items: no review item changed

    # a close and a reopen made elsewhere (the command line, another worker) between two views
    closed, other = items["letter_namesake.jpg"], items["lab_report_mrn_only.png"]
    manifest.resolve_review_item(closed, actor="clerk2", resolution=ReviewResolution.CLOSED_UNFILED, note="namesakes")
    assert closed not in shown(clerk.get("/queue").text) and len(reads) == 2
    manifest.resolve_review_item(other, actor="clerk2", resolution=ReviewResolution.CLOSED_UNFILED, note="unclear")
    manifest.reopen_review_item(closed, actor="super1", reason="second look")
    page = clerk.get("/queue").text
    assert closed in shown(page) and other not in shown(page) and "all (3)" in page  # as many open, other ones
    assert len(reads) == 3


def test_what_start_up_made_is_left_out_of_full_collections_while_the_app_serves(home):
    gc.unfreeze()
    with make_client(home) as running:
        assert gc.get_freeze_count() > 50_000  # modules, the app, the matcher, the classifier
        sign_in(running)
        assert running.get("/queue").status_code == 200
    assert gc.get_freeze_count() == 0  # handed back to the collector at shutdown


def test_journal_copies_after_responses_run_one_at_a_time_and_miss_no_request():
    started, release = threading.Event(), threading.Event()
    running, most, rounds = [0], [0], []

    def copy() -> None:  # stands for `Manifest.copy_journal` on a slow disk
        running[0] += 1
        most[0] = max(most[0], running[0])
        rounds.append(1)
        started.set()
        release.wait(5)
        running[0] -= 1
    copier = JournalCopier(copy)
    first = threading.Thread(target=copier)
    first.start()
    assert started.wait(5)
    for _ in range(3):  # three more views end while the first copy runs: each returns at once
        copier()
    release.set()
    first.join(5)
    assert not first.is_alive() and most == [1]
    assert len(rounds) == 2  # the running copy went round once more for the three, then stopped
    copier()
    assert len(rounds) == 3  # idle again: the next request copies by itself
