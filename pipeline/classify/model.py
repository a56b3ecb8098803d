"""The document-type classifier the orchestrator uses: text in, `Classification` out.

`load_classifier(settings)` finds the model file (in order: `settings.model_path`; a model a site
trained into `<home>/models/`; the one shipped in the repository's `models/`), checks it against
the type list, and returns a `Classifier`. A document goes to review when its type's confidence is
below that type's threshold, when the type is `other` (or marked always_review), or when there is
too little text to tell.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.classify.estimator import build_model  # noqa: F401  (public: the model factory)
from pipeline.classify.modelfile import ModelHeader, load_model
from pipeline.classify.training import thresholds_for
from pipeline.classify.types import FALLBACK_TYPE, TypeList, load_types
from pipeline.errors import ModelError
from pipeline.records import Classification
from pipeline.settings import Settings

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_MODEL = REPO_ROOT / "models" / "doctype.model"
MODEL_FILE_NAME = "doctype.model"
MIN_LETTERS = 25  # fewer letters than this: not enough text to tell a type
ALTERNATIVES = 3


def site_model_path(settings: Settings) -> Path:
    """Where `pipeline train` writes a site's model by default: <home>/models/doctype.model."""
    return settings.home / "models" / MODEL_FILE_NAME


def model_path(settings: Settings) -> Path:
    """The model file to use: the configured path, else a site-trained one, else the shipped one."""
    if settings.model_path:
        return settings.model_path
    site = site_model_path(settings)
    return site if site.is_file() else SHIPPED_MODEL


class Classifier:
    """A fitted model with its type list and the review threshold of each type."""

    def __init__(self, model: Any, header: ModelHeader, types: TypeList, default_threshold: float = 0.6) -> None:
        self.model = model
        self.header = header
        self.types = types
        self.thresholds = thresholds_for(types, header.thresholds, default_threshold)
        self.version = header.version

    def classify(self, text: str) -> Classification:
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[Classification]:
        results: list[Classification | None] = [None] * len(texts)
        readable = []
        for i, text in enumerate(texts):
            letters = sum(ch.isalpha() for ch in (text or ""))
            if letters < MIN_LETTERS:
                results[i] = self._too_little_text(letters)
            else:
                readable.append(i)
        if readable:
            proba = self.model.predict_proba([texts[i] for i in readable])
            classes = [str(c) for c in self.model.classes_]
            for row, i in zip(proba, readable):
                results[i] = self._decide(classes, row)
        return [r for r in results if r is not None]

    def _decide(self, classes: list[str], row: Any) -> Classification:
        ranked = sorted(zip(classes, (float(p) for p in row)), key=lambda cp: cp[1], reverse=True)
        key, confidence = ranked[0]
        doc_type = self.types[key]
        threshold = self.thresholds[key]
        reasons = []
        if doc_type.always_review:
            reasons.append(f"document type {key} ({doc_type.display}) is always reviewed")
        if confidence < threshold:
            reasons.append(f"type confidence {confidence:.2f} below {threshold:.2f} for {key}")
        log.debug("classified as %s (%.3f)", key, confidence)
        return Classification(
            doc_type=key,
            loinc=doc_type.loinc,
            display=doc_type.display,
            confidence=confidence,
            needs_review=bool(reasons),
            reasons=tuple(reasons),
            model_version=self.version,
            alternatives=tuple((k, round(p, 4)) for k, p in ranked[1 : 1 + ALTERNATIVES]),
        )

    def _too_little_text(self, letters: int) -> Classification:
        fallback = self.types[FALLBACK_TYPE]
        return Classification(
            doc_type=fallback.key,
            loinc=fallback.loinc,
            display=fallback.display,
            confidence=0.0,
            needs_review=True,
            reasons=(f"too little text to tell the document type ({letters} letters); check the scan",),
            model_version=self.version,
        )


def check_types(header: ModelHeader, types: TypeList, path: Path) -> None:
    """The model must have been trained for exactly this type list's keys."""
    trained, listed = set(header.types), set(types.keys())
    if trained == listed and set(header.classes) <= listed:
        return
    parts = []
    if listed - trained:
        parts.append(f"new in the type list: {', '.join(sorted(listed - trained))}")
    if trained - listed:
        parts.append(f"no longer in the type list: {', '.join(sorted(trained - listed))}")
    raise ModelError(
        f"{path}: the model was trained for another type list ({'; '.join(parts) or 'labels differ'}); "
        f"retrain with `pipeline train` after editing {types.source.name}"
    )


def load_classifier(settings: Settings) -> Classifier:
    """The classifier for these settings; ModelError if the model file is missing or mismatched."""
    types = load_types(settings.types_path)
    path = model_path(settings)
    header, model = load_model(path)
    check_types(header, types, path)
    log.info("document-type model %s loaded from %s", header.version, path)
    return Classifier(model, header, types, settings.classify_threshold)
