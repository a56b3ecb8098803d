"""Fast TF-IDF features for document text: word 1-2-grams and within-word character n-grams.

scikit-learn's TfidfVectorizer spends most of its time in Python, n-gram by n-gram. Documents
repeat the same words, so here each distinct word is turned into its feature indices once and
cached: classifying 1,000 documents takes a fraction of a second. The features are the same kind
(character n-grams of each word padded with a space on both sides, as `analyzer="char_wb"`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.validation import check_is_fitted

MAX_CHARS = 4000  # the type shows on the first page or two; long reports add time, not signal
CHUNK = 500  # documents counted at a time
CACHE_LIMIT = 200_000  # distinct words remembered between calls (a few tens of MB at most)
_DIGITS = re.compile(r"\d")
_WORD = re.compile(r"[a-z][a-z]+")


def normalize_text(text: str) -> str:
    """Lower-case, every digit as 0, at most MAX_CHARS characters."""
    return _DIGITS.sub("0", text[:MAX_CHARS].lower())


class GramVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF of character n-grams within words (`kind="chars"`) or of word 1-2-grams (`kind="words"`).

    Keeps the `max_features` n-grams found in the most documents (at least `min_df`), sublinear tf,
    l2-normalized rows: the usual TfidfVectorizer settings for classifying text.
    """

    def __init__(self, kind: str = "chars", ngram_range: tuple[int, int] = (3, 4), min_df: int = 2,
                 max_features: int | None = 40_000, sublinear_tf: bool = True) -> None:
        self.kind = kind
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    # ----------------------------------------------------------------------------- analysis

    def _word_grams(self, word: str) -> tuple[str, ...]:
        padded = f" {word} "
        low, high = self.ngram_range
        grams = tuple(padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1))
        return grams or (padded,)

    def _grams(self, text: str) -> list[str]:
        """Every n-gram of one document (with repeats)."""
        norm = normalize_text(text)
        if self.kind == "chars":
            out: list[str] = []
            for word in norm.split():
                out.extend(self._word_grams(word))
            return out
        tokens = _WORD.findall(norm)
        low, high = self.ngram_range
        out = list(tokens) if low <= 1 else []
        if high >= 2:
            out.extend(f"{a} {b}" for a, b in zip(tokens, tokens[1:]))
        return out

    # --------------------------------------------------------------------------------- fit

    def fit(self, X: Iterable[str], y=None) -> GramVectorizer:
        return self._fit(list(X))[0]

    def fit_transform(self, X: Iterable[str], y=None) -> sp.csr_matrix:
        self_, counts = self._fit(list(X))
        return self_.tfidf_.transform(counts)

    def _fit(self, docs: list[str]) -> tuple[GramVectorizer, sp.csr_matrix]:
        if self.kind not in ("chars", "words"):
            raise ValueError(f"kind must be 'chars' or 'words', not {self.kind!r}")
        if self.kind == "chars":
            # each distinct word's n-grams once, as small ints: noisy OCR text has many distinct words
            gram_ids: dict[str, int] = {}
            word_ids: dict[str, tuple[int, ...]] = {}
            id_frequency: Counter[int] = Counter()
            for doc in docs:
                ids: set[int] = set()
                for word in set(normalize_text(doc).split()):
                    known = word_ids.get(word)
                    if known is None:
                        known = word_ids[word] = tuple({gram_ids.setdefault(g, len(gram_ids)) for g in self._word_grams(word)})
                    ids.update(known)
                id_frequency.update(ids)
            del word_ids
            grams = list(gram_ids)
            del gram_ids
            kept = [(df, grams[i]) for i, df in id_frequency.items() if df >= self.min_df]
            del grams, id_frequency
        else:
            document_frequency: Counter[str] = Counter()
            for doc in docs:
                document_frequency.update(set(self._grams(doc)))
            kept = [(df, g) for g, df in document_frequency.items() if df >= self.min_df]
            del document_frequency
        kept.sort(key=lambda pair: (-pair[0], pair[1]))
        if self.max_features:
            kept = kept[: self.max_features]
        if not kept:
            raise ValueError("no features left: the training texts are empty or too few")
        self.vocabulary_ = {g: i for i, (_, g) in enumerate(sorted(kept, key=lambda pair: pair[1]))}
        self._cache = {}
        counts = self._counts(docs)
        self.tfidf_ = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(counts)
        return self, counts

    # ---------------------------------------------------------------------------- transform

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        check_is_fitted(self, "vocabulary_")
        return self.tfidf_.transform(self._counts(list(X)))

    def _counts(self, docs: list[str]) -> sp.csr_matrix:
        """Term counts, built CHUNK documents at a time so memory stays proportional to the result."""
        blocks = [self._count_block(docs[start : start + CHUNK]) for start in range(0, len(docs), CHUNK)]
        if not blocks:
            return sp.csr_matrix((0, len(self.vocabulary_)), dtype=np.float32)
        return blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")

    def _count_block(self, docs: list[str]) -> sp.csr_matrix:
        vocabulary = self.vocabulary_
        indices: list[int] = []
        indptr = [0]
        if self.kind == "chars":
            cache = self.__dict__.setdefault("_cache", {})
            if len(cache) > CACHE_LIMIT:
                cache.clear()
            for doc in docs:
                for word in normalize_text(doc).split():
                    known = cache.get(word)
                    if known is None:
                        known = tuple(vocabulary[g] for g in self._word_grams(word) if g in vocabulary)
                        cache[word] = known
                    indices.extend(known)
                indptr.append(len(indices))
        else:
            for doc in docs:
                indices.extend(i for i in map(vocabulary.get, self._grams(doc)) if i is not None)
                indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        matrix = sp.csr_matrix((data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
                               shape=(len(docs), len(vocabulary)))
        matrix.sum_duplicates()
        return matrix

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        return np.array(sorted(self.vocabulary_, key=self.vocabulary_.get), dtype=object)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_cache", None)  # a speed-up, rebuilt on use; not part of the model
        return state
