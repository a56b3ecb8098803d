"""OCR test fixtures: one engine (2 workers) shared by the tests of this folder.

Inputs are drawn at test time by the helpers in `pages.py` (see its table).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.ocr.engine import OcrEngine


@pytest.fixture(scope="session")
def engine() -> Iterator[OcrEngine]:
    with OcrEngine(workers=2) as shared:
        yield shared
