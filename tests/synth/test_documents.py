"""Synthetic document bodies: every type has a generator, output is deterministic and varied."""

from __future__ import annotations

import random
from datetime import date

import pytest

from pipeline.synth.documents import DOCUMENT_TYPES, generate_document

PATIENT = {"given_name": "Wilhelmina", "family_name": "Quarrington", "birth_date": date(1961, 7, 4), "mrn": "8675309"}


def test_every_default_type_has_a_generator() -> None:
    from pipeline.classify.types import load_types

    assert set(load_types().keys()) <= set(DOCUMENT_TYPES)


@pytest.mark.parametrize("doc_type", DOCUMENT_TYPES)
def test_same_seed_same_text_and_seeds_vary(doc_type: str) -> None:
    first = generate_document(doc_type, random.Random(7))
    assert first == generate_document(doc_type, random.Random(7))
    texts = {generate_document(doc_type, random.Random(seed)) for seed in range(30)}
    assert len(texts) >= 27  # `other` includes one-line pages such as a separator sheet
    assert all(text.strip() for text in texts)


@pytest.mark.parametrize("doc_type", DOCUMENT_TYPES)
def test_layouts_vary_not_just_values(doc_type: str) -> None:
    # The first line (the title or letterhead) and the set of line "shapes" must vary across seeds.
    def shape(text: str) -> tuple[str, ...]:
        return tuple("".join("9" if c.isdigit() else c for c in line[:12]) for line in text.splitlines()[:6])

    shapes = {shape(generate_document(doc_type, random.Random(seed))) for seed in range(40)}
    assert len(shapes) >= 10


@pytest.mark.parametrize("doc_type", ["consent", "prescription", "intake_form", "release_of_information", "advance_directive"])
def test_patient_fields_are_used_when_given(doc_type: str) -> None:
    texts = [generate_document(doc_type, random.Random(seed), PATIENT) for seed in range(20)]
    assert any("Quarrington" in text for text in texts)


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="consult_note"):
        generate_document("fax_of_a_cat", random.Random(1))
