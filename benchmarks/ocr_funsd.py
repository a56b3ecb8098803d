"""Real scanned forms for the OCR benchmarks: FUNSD's training split, read where it lies.

The data set is evaluation-only (its README): it is read from `../shared/datasets/funsd-train`
beside the repository (or `--funsd PATH`), never copied, and every benchmark skips it when absent.
Pages are split once, by sorted file name: even positions are the tuning half (rules were chosen on
them), odd positions the held-out half (reported, never tuned on).

Bag-of-words scoring (order-free: a form has no one reading order): of the truth's words, as a
multiset of lower-case `\\w+` tokens, `missed` were not in the OCR text; `extra` OCR words were not
in the truth; "words wrong" = (missed + extra) / truth words, the figure of the issue's table.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "funsd-train"
HALVES = ("tuning", "held-out")


@dataclass(frozen=True, slots=True)
class FormPage:
    path: Path
    half: str  # "tuning" or "held-out"
    words: tuple[str, ...]  # ground-truth words, top to bottom, left to right


@dataclass(frozen=True, slots=True)
class Score:
    truth: int  # words in the ground truth
    missed: int
    extra: int
    chars: int  # characters of the ground truth (reading order: lines top to bottom)
    edits: int  # Levenshtein distance to the OCR text

    def __add__(self, other: Score) -> Score:
        return Score(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, int, int, int, int]:
        return (self.truth, self.missed, self.extra, self.chars, self.edits)

    @property
    def wrong(self) -> float:
        return (self.missed + self.extra) / max(self.truth, 1)


ZERO = Score(0, 0, 0, 0, 0)


def add_argument(parser) -> None:  # noqa: ANN001 - an argparse parser
    parser.add_argument("--funsd", type=Path, default=DEFAULT,
                        help="FUNSD training split (evaluation only); skipped when absent")


def pages(root: Path, limit: int | None = None) -> list[FormPage]:
    """The forms with their truth; [] when the data set is not there."""
    images = sorted((root / "images").glob("*.png")) if (root / "images").is_dir() else []
    out = []
    for i, image in enumerate(images):
        annotation = json.loads((root / "annotations" / f"{image.stem}.json").read_text())
        boxed = [(w["box"], w["text"]) for entity in annotation["form"] for w in entity["words"]]
        # reading order for CER: by line (a word's top, coarsely), then left to right
        boxed.sort(key=lambda b: (round((b[0][1] + b[0][3]) / 2 / 12), b[0][0]))
        out.append(FormPage(image, HALVES[i % 2], tuple(t for _, t in boxed if t.strip())))
    if limit is not None:
        out = [p for p in out if p.half == HALVES[0]][:limit] + \
              [p for p in out if p.half == HALVES[1]][:limit]
    return out


def score(truth: Sequence[str], text: str) -> Score:
    want = Counter(re.findall(r"\w+", " ".join(truth).lower()))
    got = Counter(re.findall(r"\w+", text.lower()))
    hit = sum((want & got).values())
    reference = re.sub(r"\s+", " ", " ".join(truth)).strip()
    read = re.sub(r"\s+", " ", text).strip()
    return Score(truth=sum(want.values()), missed=sum(want.values()) - hit,
                 extra=sum(got.values()) - hit, chars=len(reference),
                 edits=Levenshtein.distance(reference, read))


def row(label: str, total: Score) -> list[str]:
    """[label, pages' words, missed %, extra %, wrong %, CER %]"""
    n = max(total.truth, 1)
    return [label, str(total.truth), f"{100 * total.missed / n:.1f}", f"{100 * total.extra / n:.1f}",
            f"{100 * total.wrong:.1f}", f"{100 * total.edits / max(total.chars, 1):.1f}"]
