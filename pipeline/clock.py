"""The one clock: every time the pipeline stamps comes from a `Clock` handed down from the edge
(tests hand a fake one). All times are timezone-aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
