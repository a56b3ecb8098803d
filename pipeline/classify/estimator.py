"""The scikit-learn model: text features into a linear classifier with calibrated probabilities.

`build_model(**params)` returns an unfitted `Pipeline`:

    text -> normalize (lower-case, digits to 0, first 6,000 characters: `features.normalize_text`)
         -> word 1-2-gram TF-IDF  +  character 4-gram TF-IDF (within words: robust to OCR errors)
         -> CalibratedLinearClassifier (LinearSVC, balanced class weights,
                                        multinomial logistic calibration on out-of-fold scores)

The calibrator is fitted on out-of-fold decision scores, so its probabilities are honest; the
out-of-fold probabilities are kept (`oof_proba_`) to tune per-type review thresholds without
touching the held-out data.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from pipeline.classify.features import GramVectorizer


class CalibratedLinearClassifier(ClassifierMixin, BaseEstimator):
    """A linear classifier whose scores are turned into probabilities by a calibrator fitted on
    out-of-fold scores (multinomial logistic regression on the per-class decision values).

    Fitted attributes: `classes_`, `base_` (fitted on all data), `calibrator_`, `oof_proba_`
    (out-of-fold calibrated probabilities of the training rows, in `classes_` order).
    """

    def __init__(self, C: float = 0.5, cv: int = 2, class_weight: str | None = "balanced", random_state: int | None = 0):
        self.C = C
        self.cv = cv
        self.class_weight = class_weight
        self.random_state = random_state

    def _base(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)

    def fit(self, X, y):
        y = np.asarray(y)
        self.classes_ = unique_labels(y)
        if len(self.classes_) < 2:
            raise ValueError("need examples of at least two document types to train")
        _, counts = np.unique(y, return_counts=True)
        folds = max(2, min(self.cv, int(counts.min())))
        if counts.min() < 2:
            raise ValueError("every document type in the training data needs at least two examples")
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        oof = np.zeros((X.shape[0], len(self.classes_)), dtype=np.float64)
        for train_idx, test_idx in splitter.split(X, y):
            model = clone(self._base()).fit(X[train_idx], y[train_idx])
            oof[test_idx] = self._scores(model, X[test_idx])
        self.calibrator_ = LogisticRegression(C=1.0, max_iter=1000, class_weight=self.class_weight)
        self.calibrator_.fit(oof, y)
        self.oof_proba_ = self._ordered(self.calibrator_.predict_proba(oof))
        self.base_ = self._base().fit(X, y)
        return self

    def _scores(self, model: LinearSVC, X) -> np.ndarray:
        """Decision values in `classes_` order (a fold may lack a rare class: its score is very low)."""
        raw = model.decision_function(X)
        if raw.ndim == 1:
            raw = np.column_stack([-raw, raw])
        out = np.full((X.shape[0], len(self.classes_)), -10.0)
        index = {c: i for i, c in enumerate(self.classes_)}
        for j, label in enumerate(model.classes_):
            out[:, index[label]] = raw[:, j]
        return out

    def _ordered(self, proba: np.ndarray) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.calibrator_.classes_)}
        return proba[:, [index[c] for c in self.classes_]]

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "base_")
        return self._ordered(self.calibrator_.predict_proba(self._scores(self.base_, X)))

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def build_model(
    *,
    C: float = 0.5,
    word_features: int = 30_000,
    char_features: int = 40_000,
    char_ngrams: tuple[int, int] = (4, 4),
    min_df: int = 2,
    cv: int = 2,
    random_state: int | None = 0,
) -> Pipeline:
    """An unfitted document-type model; fit it on (texts, labels)."""
    words = GramVectorizer("words", ngram_range=(1, 2), min_df=min_df, max_features=word_features)
    chars = GramVectorizer("chars", ngram_range=char_ngrams, min_df=min_df, max_features=char_features)
    return Pipeline([
        ("features", FeatureUnion([("words", words), ("chars", chars)])),
        ("classifier", CalibratedLinearClassifier(C=C, cv=cv, random_state=random_state)),
    ])


def strip_for_saving(model: Pipeline) -> Pipeline:
    """Drop what a fitted model does not need to classify (the out-of-fold probabilities)."""
    classifier = model.named_steps["classifier"]
    if hasattr(classifier, "oof_proba_"):
        del classifier.oof_proba_
    return model
