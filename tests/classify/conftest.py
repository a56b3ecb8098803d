"""Classify fixtures: a small model trained in seconds on generated documents.

| fixture | how it is made |
|---|---|
| `small_corpus` | `generate_document` for SMALL_TYPES, 24 documents each, seeds "small:<type>:<n>" |
| `small_model` | `train_model` on it with 2,000 word and 3,000 character features, 2 folds |
| `small_model_file` | `save_model` of that model into a per-session temporary folder |
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.classify.corpus import Corpus, make_corpus
from pipeline.classify.modelfile import ModelHeader, save_model
from pipeline.classify.training import train_model
from pipeline.classify.types import TypeList, load_types
from pipeline.synth.documents import generate_document

SMALL_TYPES = ("consent", "insurance_card", "laboratory_report", "prescription", "letter", "release_of_information", "other")
SMALL_PARAMS = {"word_features": 2000, "char_features": 3000, "cv": 2}


def generated(types: tuple[str, ...], per_type: int, tag: str) -> Corpus:
    return make_corpus(
        (generate_document(t, random.Random(f"{tag}:{t}:{n}")), t, f"{tag}:{t}:{n}")
        for t in types
        for n in range(per_type)
    )


@pytest.fixture(scope="session")
def default_types() -> TypeList:
    return load_types()


@pytest.fixture(scope="session")
def small_corpus() -> Corpus:
    return generated(SMALL_TYPES, 24, "small")


@pytest.fixture(scope="session")
def small_model(small_corpus: Corpus, default_types: TypeList):
    return train_model(small_corpus, default_types, model_params=SMALL_PARAMS)


@pytest.fixture(scope="session")
def small_model_file(small_model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    model, header = small_model
    path = tmp_path_factory.mktemp("model") / "doctype.model"
    save_model(path, header, model)
    return path


def header_like(header: ModelHeader, **changes) -> ModelHeader:
    from dataclasses import replace

    return replace(header, **changes)
