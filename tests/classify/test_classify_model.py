"""The classifier: calibrated probabilities, thresholds, review reasons, model files and their checks."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.classify.estimator import build_model
from pipeline.classify.model import SHIPPED_MODEL, Classifier, load_classifier, site_model_path
from pipeline.classify.modelfile import FORMAT_VERSION, MAGIC, load_model, read_header, save_model
from pipeline.classify.training import tune_thresholds
from pipeline.classify.types import load_types
from pipeline.errors import ModelError
from pipeline.settings import load_settings
from pipeline.synth.documents import generate_document

from .conftest import SMALL_TYPES, generated, header_like


@pytest.fixture(scope="module")
def classifier(small_model, default_types) -> Classifier:
    model, header = small_model
    return Classifier(model, header, default_types, default_threshold=0.6)


def test_unseen_generated_documents_get_their_type(classifier: Classifier) -> None:
    fresh = generated(SMALL_TYPES, 6, "fresh")
    results = classifier.classify_many(list(fresh.texts))
    right = sum(r.doc_type == label for r, label in zip(results, fresh.labels))
    assert right / len(fresh) >= 0.9
    for result in results:
        assert 0.0 <= result.confidence <= 1.0
        assert result.loinc == load_types()[result.doc_type].loinc
        assert result.model_version == classifier.version
        if result.reasons[:1] != ("too little text",) and result.confidence > 0:
            assert len(result.alternatives) == 3 and result.alternatives[0][1] <= result.confidence


def test_classify_is_classify_many_of_one(classifier: Classifier) -> None:
    text = generate_document("insurance_card", random.Random("one"))
    assert classifier.classify(text) == classifier.classify_many([text])[0]
    assert classifier.classify_many([]) == []


def test_probabilities_are_a_distribution(small_model) -> None:
    model, _ = small_model
    proba = model.predict_proba([generate_document(t, random.Random(5)) for t in SMALL_TYPES])
    assert np.allclose(proba.sum(axis=1), 1.0) and (proba >= 0).all()


def test_other_is_always_reviewed(classifier: Classifier) -> None:
    texts = [generate_document("other", random.Random(f"o{n}")) for n in range(12)]
    others = [r for r in classifier.classify_many(texts) if r.doc_type == "other"]
    assert all(r.needs_review for r in others)
    # some are one-line pages (too little text); the rest are reviewed because they are `other`
    assert sum("document type other (Note) is always reviewed" in r.reasons for r in others) >= 6


@pytest.mark.parametrize("text", ["", "   \n\f  ", "Page 2 of 3", "-- 12/04/2025 --"])
def test_empty_or_near_empty_text_goes_to_review(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.doc_type == "other" and result.loinc == "34109-9" and result.confidence == 0.0
    assert result.needs_review and "too little text" in result.reasons[0]


def test_below_threshold_goes_to_review_with_the_reason(small_model, tmp_path: Path) -> None:
    model, header = small_model
    strict = tmp_path / "types.toml"
    strict.write_text(load_types().source.read_text().replace(
        '[types.consent]\nloinc = "59284-0"\ndisplay = "Consent Document"\n',
        '[types.consent]\nloinc = "59284-0"\ndisplay = "Consent Document"\nthreshold = 1.0\n'))
    classifier = Classifier(model, header, load_types(strict), default_threshold=0.6)
    result = classifier.classify(generate_document("consent", random.Random("strict")))
    assert result.doc_type == "consent" and result.needs_review
    assert re.fullmatch(r"type confidence 0\.\d\d below 1\.00 for consent", result.reasons[0])
    relaxed = Classifier(model, header, load_types(), default_threshold=0.0)
    assert relaxed.thresholds["consent"] == header.thresholds["consent"]  # the tuned one wins over a lower default


def test_thresholds_are_tuned_for_one_percent_wrong() -> None:
    classes = ["a", "b"]
    # 100 predictions of "a": the 10 wrong ones all have confidence below 0.7
    confidence = np.r_[np.linspace(0.5, 0.69, 10), np.linspace(0.55, 0.99, 90)]
    proba = np.column_stack([confidence, 1 - confidence])
    labels = ["b"] * 10 + ["a"] * 90
    tuned = tune_thresholds(classes, proba, labels)
    assert 0.69 < tuned["a"] <= 0.71
    assert tuned["b"] == 0.5  # never predicted: nothing to be wrong about


def test_random_state_makes_training_reproducible(small_corpus) -> None:
    texts, labels = list(small_corpus.texts), list(small_corpus.labels)
    params = {"word_features": 500, "char_features": 500, "cv": 2}
    a = build_model(random_state=3, **params).fit(texts, labels).predict_proba(texts[:5])
    b = build_model(random_state=3, **params).fit(texts, labels).predict_proba(texts[:5])
    assert np.array_equal(a, b)


def test_model_file_round_trip_is_atomic_and_small(small_model, tmp_path: Path) -> None:
    model, header = small_model
    path = tmp_path / "models" / "doctype.model"
    written = save_model(path, header, model)
    assert path.read_bytes().startswith(MAGIC)
    assert [p.name for p in path.parent.iterdir()] == ["doctype.model"]  # no temporary file left
    assert written.payload_sha256 and read_header(path) == written
    loaded_header, loaded = load_model(path)
    assert loaded_header.types == load_types().keys() and loaded_header.format_version == FORMAT_VERSION
    text = generate_document("prescription", random.Random(1))
    assert np.array_equal(loaded.predict_proba([text]), model.predict_proba([text]))
    assert "oof_proba_" not in vars(loaded.named_steps["classifier"])  # stripped before saving


def test_training_data_hash_and_metrics_are_recorded(small_model, small_corpus) -> None:
    _, header = small_model
    assert header.training_data_sha256 == small_corpus.digest()
    assert set(header.classes) == set(SMALL_TYPES)
    held = header.metrics["heldout_clean"]
    assert held["documents"] == header.metrics["heldout_documents"] > 0
    assert set(held["per_type"]) <= set(SMALL_TYPES) and held["confusion"]["labels"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sklearn_version": "0.24.2"}, "trained with scikit-learn 0.24.2 but"),
        ({"format_version": 99}, "model file format 99, this version of pipeline reads format 1"),
    ],
)
def test_mismatched_model_files_are_clear_errors(small_model, tmp_path: Path, change: dict, message: str) -> None:
    model, header = small_model
    path = tmp_path / "old.model"
    save_model(path, header_like(header, **change), model)
    with pytest.raises(ModelError, match=re.escape(message)) as caught:
        load_model(path)
    assert str(path) in str(caught.value) and "pipeline train" in str(caught.value)
    assert caught.value.exit_code == 5


def test_damaged_and_foreign_files_are_refused_before_unpickling(small_model_file: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.model"
    data = bytearray(small_model_file.read_bytes())
    data[-100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged"):
        load_model(damaged)
    pickle_file = tmp_path / "plain.joblib"
    pickle_file.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelError, match="not a document-type model file"):
        load_model(pickle_file)
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "missing.model")


def test_load_classifier_checks_the_type_list(small_model_file: Path, tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "home", model_path=small_model_file)
    assert load_classifier(settings).classify(generate_document("consent", random.Random(2))).doc_type == "consent"
    site_types = tmp_path / "types.toml"
    site_types.write_text('[types.consent]\nloinc = "59284-0"\ndisplay = "Consent"\n\n'
                          '[types.fax]\nloinc = "11524-6"\ndisplay = "Fax"\n\n[types.other]\nloinc = "34109-9"\ndisplay = "Note"\n')
    settings = load_settings(tmp_path / "home", model_path=small_model_file, types_path=site_types)
    with pytest.raises(ModelError) as caught:
        load_classifier(settings)
    message = str(caught.value)
    assert "new in the type list: fax" in message and "no longer in the type list: advance_directive" in message
    assert "retrain with `pipeline train`" in message


def test_a_site_trained_model_in_home_is_preferred_to_the_shipped_one(small_model_file: Path, tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "home")
    site = site_model_path(settings)
    site.parent.mkdir(parents=True)
    site.write_bytes(small_model_file.read_bytes())
    assert load_classifier(settings).header == read_header(small_model_file)


def test_the_shipped_model_matches_the_shipped_type_list_and_reads_documents(tmp_path: Path) -> None:
    header = read_header(SHIPPED_MODEL)
    assert header.types == load_types().keys()
    assert SHIPPED_MODEL.stat().st_size < 15 * 1024 * 1024
    assert header.metrics["heldout_clean"]["macro_f1"] >= 0.85
    classifier = load_classifier(load_settings(tmp_path / "home"))
    kinds = ["consent", "insurance_card", "laboratory_report", "medication_list", "referral", "release_of_information"]
    results = classifier.classify_many([generate_document(k, random.Random(f"shipped:{k}")) for k in kinds])
    assert [r.doc_type for r in results] == kinds
