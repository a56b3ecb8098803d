"""Training: OCR-noise augmentation, fitting, per-type thresholds and held-out metrics.

`train_model(corpus, types)` fits on the training part of the fixed split, tunes each type's review
threshold on out-of-fold probabilities (never on the held-out part), measures the held-out part on
clean text and on OCR-noised text, and returns the fitted model with its file header.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.pipeline import Pipeline

from pipeline.classify.corpus import Corpus
from pipeline.classify.estimator import build_model, strip_for_saving
from pipeline.classify.modelfile import ModelHeader
from pipeline.classify.noise import ocr_noise
from pipeline.classify.types import FALLBACK_TYPE, TypeList

log = logging.getLogger(__name__)

NOISE_SHARE = 0.5  # share of training texts replaced by an OCR-noised copy
TARGET_PRECISION = 0.99  # above its threshold a type should be wrong at most 1% of the time
THRESHOLD_FLOOR = 0.5
THRESHOLD_CAP = 0.97


def augment(texts: Sequence[str], rng: random.Random, share: float = NOISE_SHARE) -> list[str]:
    """Replace `share` of the texts by an OCR-noised copy at a random noise level."""
    return [ocr_noise(t, rng, rng.uniform(0.2, 1.0)) if rng.random() < share else t for t in texts]


def tune_thresholds(classes: Sequence[str], proba: np.ndarray, labels: Sequence[str], target: float = TARGET_PRECISION) -> dict[str, float]:
    """Per type, the lowest confidence at which its predictions are right at least `target` of the time."""
    labels = np.asarray(labels)
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    out: dict[str, float] = {}
    grid = np.round(np.arange(THRESHOLD_FLOOR, THRESHOLD_CAP + 1e-9, 0.01), 2)
    for label in classes:
        chosen = THRESHOLD_CAP
        for t in grid:
            taken = (predicted == label) & (confidence >= t)
            if taken.sum() == 0 or (labels[taken] == label).mean() >= target:
                chosen = float(t)
                break
        out[str(label)] = chosen
    return out


def thresholds_for(types: TypeList, tuned: dict[str, float], default: float) -> dict[str, float]:
    """The threshold in force per type: the type list's own if set, else the higher of the
    settings default and the tuned one."""
    return {t.key: t.threshold if t.threshold is not None else max(default, tuned.get(t.key, default)) for t in types}


def evaluate(model: Pipeline, texts: Sequence[str], labels: Sequence[str], thresholds: dict[str, float], always_review: set[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-type precision/recall, confusion matrix, and the review behaviour:
    how often a wrong type passes its threshold (would be filed with the wrong type) and how
    many documents go to review for their type."""
    started = time.perf_counter()
    proba = model.predict_proba(list(texts))
    seconds = time.perf_counter() - started
    classes = list(model.classes_)
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    labels_arr = np.asarray(labels)
    passes = np.array([c >= thresholds.get(p, 1.0) and p not in always_review for p, c in zip(predicted, confidence)])
    wrong = predicted != labels_arr
    present = sorted(set(labels_arr) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(labels_arr, predicted, labels=present, zero_division=0)
    return {
        "documents": len(labels_arr),
        "accuracy": round(float(accuracy_score(labels_arr, predicted)), 4),
        "macro_f1": round(float(f1_score(labels_arr, predicted, labels=sorted(set(labels_arr)), average="macro", zero_division=0)), 4),
        "wrong_type_above_threshold": round(float((wrong & passes).mean()), 4),
        "review_rate": round(float((~passes).mean()), 4),
        "seconds_per_1000": round(seconds / max(len(labels_arr), 1) * 1000, 3),
        "per_type": {
            label: {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3), "support": int(s)}
            for label, p, r, f, s in zip(present, precision, recall, f1, support)
        },
        "confusion": {"labels": present, "matrix": confusion_matrix(labels_arr, predicted, labels=present).tolist()},
    }


def train_model(
    corpus: Corpus,
    types: TypeList,
    *,
    default_threshold: float = 0.6,
    random_state: int = 0,
    holdout: bool = True,
    noise_share: float = NOISE_SHARE,
    model_params: dict[str, Any] | None = None,
) -> tuple[Pipeline, ModelHeader]:
    """Fit a model on `corpus` (its training part when `holdout`), with metrics in the header."""
    unknown = sorted(set(corpus.labels) - set(types.keys()))
    if unknown:
        raise ValueError(f"labels not in the type list: {', '.join(unknown)}")
    train, heldout = corpus.split() if holdout else (corpus, Corpus((), (), ()))
    if len(heldout) and len(set(train.labels)) < len(set(corpus.labels)):
        train, heldout = corpus, Corpus((), (), ())  # too small to hold any out: use everything
    rng = random.Random(random_state)
    started = time.perf_counter()
    model = build_model(random_state=random_state, **(model_params or {}))
    model.fit(augment(train.texts, rng, noise_share), list(train.labels))
    fit_seconds = time.perf_counter() - started
    classifier = model.named_steps["classifier"]
    tuned = tune_thresholds(list(classifier.classes_), classifier.oof_proba_, train.labels)
    in_force = thresholds_for(types, tuned, default_threshold)
    always = {t.key for t in types if t.always_review}
    metrics: dict[str, Any] = {"fit_seconds": round(fit_seconds, 1), "training_documents": len(train), "heldout_documents": len(heldout)}
    if len(heldout):
        noisy = [ocr_noise(t, random.Random(f"heldout:{i}"), 0.6) for i, t in enumerate(heldout.texts)]
        metrics["heldout_clean"] = evaluate(model, heldout.texts, heldout.labels, in_force, always)
        metrics["heldout_ocr_noise"] = evaluate(model, noisy, heldout.labels, in_force, always)
        log.info("held-out: accuracy %.3f, macro-F1 %.3f on %d documents",
                 metrics["heldout_clean"]["accuracy"], metrics["heldout_clean"]["macro_f1"], len(heldout))
    missing = [k for k in types.keys() if k not in set(train.labels) and k != FALLBACK_TYPE]
    if missing:
        log.warning("no training examples for %s: the model will never choose them", ", ".join(missing))
    header = ModelHeader(
        types=types.keys(),
        classes=tuple(str(c) for c in classifier.classes_),
        thresholds=tuned,
        training_data_sha256=corpus.digest(),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        metrics=metrics,
        training_counts=train.counts(),
    )
    return strip_for_saving(model), header
