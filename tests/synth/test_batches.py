"""Generated batches: reproducible, and their truth accounts for every page."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.records import PageKind
from pipeline.synth.batches import batch_pages
from pipeline.synth.patients import generate_patients

PATIENTS = generate_patients(5, seed=2)


def test_a_batch_is_reproducible_and_its_truth_accounts_for_every_page() -> None:
    images, truth = batch_pages(PATIENTS, seed=4, documents=3, blank_backs=1.0, max_pages=1, dpi=100)
    again, same = batch_pages(PATIENTS, seed=4, documents=3, blank_backs=1.0, max_pages=1, dpi=100)
    assert same == truth and all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, again))
    assert len(images) == truth.pages
    # every sheet has its blank back with blank_backs=1.0: pages alternate sheet, blank
    assert truth.kinds[1::2] == (PageKind.BLANK,) * (truth.pages // 2)
    assert [d.separation for d in truth.documents] == ["patch", "barcode", "cover"]
    kept = [n for d in truth.documents for n in d.pages]
    assert [truth.kinds[n - 1] for n in kept] == [PageKind.CONTENT, PageKind.CONTENT, PageKind.COVER, PageKind.CONTENT]
    assert truth.documents[2].cover.mrn == truth.documents[2].mrn
    assert {p.mrn for p in PATIENTS} >= {d.mrn for d in truth.documents}


def test_unknown_separations_are_refused() -> None:
    with pytest.raises(ValueError, match="separations must be some of"):
        batch_pages(PATIENTS, separations=("staple",))
