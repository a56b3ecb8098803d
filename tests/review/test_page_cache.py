"""The page-image cache: a page is rendered once, a page of another object is not confused with it,
and the byte budget holds."""

from __future__ import annotations

from pipeline.review.page_cache import PageCache


def test_a_page_renders_once_and_the_budget_holds():
    cache, renders = PageCache(budget=250), []

    def render(label: str, size: int):
        return lambda: renders.append(label) or label.encode().ljust(size, b".")

    assert cache.get("a.pdf", 1, render("a1", 100)).startswith(b"a1")
    assert cache.get("a.pdf", 1, render("again", 100)).startswith(b"a1")
    assert cache.get("a.pdf", 2, render("a2", 100)).startswith(b"a2")
    assert cache.get("b.pdf", 1, render("b1", 100)).startswith(b"b1")  # over budget: a1 (least recent) goes
    assert renders == ["a1", "a2", "b1"] and len(cache) == 2
    assert cache.get("a.pdf", 1, render("a1 again", 100)).startswith(b"a1 again")
    assert cache.get("huge.pdf", 1, render("huge", 1000)).startswith(b"huge")  # larger than the budget: not kept
    assert len(cache) == 2
