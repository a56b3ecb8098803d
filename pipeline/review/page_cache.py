"""Rendered page images kept in memory, so a page looked at again (the clerk scrolls back, reloads,
a second clerk opens the item) is not decoded and rendered again. Stored objects are written once and
never changed, so (object key and its SHA-256, page) names one image for good, whatever home. Bounded by bytes, least recently used
out first. Every view is still logged by the route that serves it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

#: bytes of PNG kept at most (a 120-dpi letter page is 0.1-0.8 MB)
DEFAULT_BUDGET = 128 * 1024 * 1024


class PageCache:
    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self._images: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str, number: int, render: Callable[[], bytes]) -> bytes:
        """The image of page `number` of the object `key`, rendered by `render` the first time."""
        with self._lock:
            image = self._images.get((key, number))
            if image is not None:
                self._images.move_to_end((key, number))
                return image
        image = render()  # outside the lock: two first views of one page may both render, harmlessly
        with self._lock:
            if (key, number) not in self._images and len(image) <= self.budget:
                self._images[(key, number)] = image
                self._size += len(image)
                while self._size > self.budget:
                    _, dropped = self._images.popitem(last=False)
                    self._size -= len(dropped)
        return image

    def clear(self) -> None:
        with self._lock:
            self._images.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._images)
