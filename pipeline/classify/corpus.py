"""Training corpora: texts with document-type labels, and the fixed held-out split.

Sources:
- the shipped corpus: `datasets/mtsamples-dev` (MTSamples transcriptions, CC0) with its categories
  mapped to our types, plus generated documents (`pipeline.synth.documents`) for every type;
- a site's folder of sub-folders named by type (.txt, or .pdf / images read by the OCR engine);
- a CSV with the columns `text,type`;
- the types clerks confirmed or corrected in the review queue.

Every text carries a source id; `is_heldout(source)` puts a fixed fifth of them aside by a hash of
that id, so the same document is never in both parts, whatever else is added.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import random
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.classify.types import TypeList
from pipeline.errors import ConfigurationError, InputError

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATASET = REPO_ROOT / "datasets" / "mtsamples-dev" / "mtsamples_dev.csv"
TEXT_SUFFIXES = {".txt"}
SCAN_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}
HELDOUT_SHARE = 5  # one in five

#: generated documents per type in the shipped corpus: administrative types have no MTSamples rows
GENERATED_ADMIN = 240
GENERATED_CLINICAL = 60
CLINICAL_TYPES = frozenset({
    "discharge_summary", "history_and_physical", "consult_note", "progress_note",
    "emergency_department_note", "operative_note", "procedure_note", "imaging_report",
})


@dataclass(frozen=True, slots=True)
class Corpus:
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    sources: tuple[str, ...]  # stable id per text: "mtsamples:<sha1>", "generated:<type>:<n>", ...

    def __len__(self) -> int:
        return len(self.texts)

    def __add__(self, other: Corpus) -> Corpus:
        return Corpus(self.texts + other.texts, self.labels + other.labels, self.sources + other.sources)

    def split(self) -> tuple[Corpus, Corpus]:
        """(training part, held-out part) by the fixed hash rule."""
        keep = [not is_heldout(s) for s in self.sources]
        return self._select(keep), self._select([not k for k in keep])

    def _select(self, mask: Sequence[bool]) -> Corpus:
        rows = [(t, l, s) for t, l, s, m in zip(self.texts, self.labels, self.sources, mask) if m]
        if not rows:
            return Corpus((), (), ())
        texts, labels, sources = zip(*rows)
        return Corpus(tuple(texts), tuple(labels), tuple(sources))

    def digest(self) -> str:
        """SHA-256 over (label, text) pairs in a stable order: the model's training-data hash."""
        h = hashlib.sha256()
        for label, text in sorted(zip(self.labels, self.texts)):
            h.update(label.encode())
            h.update(b"\0")
            h.update(text.encode("utf-8", "replace"))
            h.update(b"\0")
        return h.hexdigest()

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for label in self.labels:
            out[label] = out.get(label, 0) + 1
        return dict(sorted(out.items()))


def is_heldout(source: str) -> bool:
    """True for the fixed held-out fifth (by a hash of the source id, not by position)."""
    if source.startswith("mtsamples:"):
        key = source.split(":", 1)[1]
    else:
        key = hashlib.sha1(source.encode()).hexdigest()
    return int(key[:8], 16) % HELDOUT_SHARE == 0


def make_corpus(rows: Iterable[tuple[str, str, str]]) -> Corpus:
    rows = list(rows)
    if not rows:
        return Corpus((), (), ())
    texts, labels, sources = zip(*rows)
    return Corpus(tuple(texts), tuple(labels), tuple(sources))


# ------------------------------------------------------------------------------------ MTSamples

_PROCEDURE_WORDS = re.compile(
    r"colonoscop|endoscop|\begd\b|esophagogastroduodenoscop|bronchoscop|sigmoidoscop|cystoscop|"
    r"\bcath\b|catheteri[sz]ation|angiogra|injection|\bblock\b|epidural|lumbar puncture|thoracentesis|"
    r"paracentesis|central line|picc|line (insertion|placement)|arthrocentesis|bone marrow|ablation|"
    r"thermocoagulation|discogram|cardioversion|transesophageal|\btee\b|electromyogra|nerve conduction",
    re.IGNORECASE,
)
_CONSULT_WORDS = re.compile(r"consult", re.IGNORECASE)
_HP_WORDS = re.compile(r"\bH\s?&\s?P\b|history and physical|admission|admit", re.IGNORECASE)


def map_mtsamples(categories: str, sample_name: str, text: str) -> str | None:
    """Our type for one MTSamples row, or None to leave the row out (no clear document type).

    `sample_name` (the site's title) is used only to choose the label, never as a feature.
    """
    cats = {c.strip() for c in (categories or "").split("|") if c.strip()}
    name = sample_name or ""
    head = text[:800]
    if not cats:
        return None
    if "Discharge Summary" in cats:
        return "discharge_summary"
    if "Emergency Room Reports" in cats:
        return "emergency_department_note"
    if "Lab Medicine - Pathology" in cats or "Autopsy" in cats:
        return "pathology_report"
    if "Letters" in cats:
        return "letter"
    if "Radiology" in cats:
        return "procedure_note" if "Surgery" in cats else "imaging_report"
    if "Consult - History and Phy." in cats:
        if _HP_WORDS.search(name) or re.search(r"HISTORY AND PHYSICAL|ADMISSION (HISTORY|NOTE|DIAGNOS)", head):
            return "history_and_physical"
        if _CONSULT_WORDS.search(name) or _CONSULT_WORDS.search(head):
            return "consult_note"
        if cats & {"Office Notes", "SOAP / Chart / Progress Notes"}:
            return "progress_note"
        return "history_and_physical"
    if cats & {"Office Notes", "SOAP / Chart / Progress Notes"}:
        return "progress_note"
    if "Surgery" in cats:
        return "procedure_note" if _PROCEDURE_WORDS.search(name) else "operative_note"
    return None  # IME-QME only: an examination report with no single type


def clean_transcription(text: str) -> str:
    """Undo the scrape's lost line breaks (`DIAGNOSIS:,` and `.,`) so the text reads like paper."""
    text = re.sub(r":\s*,\s*", ":\n", text)
    text = re.sub(r"\.\s*,\s*(?=[A-Z0-9])", ".\n", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


def mtsamples_corpus(path: Path = DEFAULT_DATASET, types: TypeList | None = None) -> Corpus:
    """The MTSamples rows with a clear type (and, if `types` is given, a type in that list)."""
    rows = []
    for row in _read_csv(path):
        text = clean_transcription(row.get("transcription") or "")
        if len(text) < 40:
            continue
        label = map_mtsamples(row.get("doc_type_labels", ""), row.get("sample_name", ""), text)
        if label is None or (types is not None and label not in types):
            continue
        rows.append((text, label, f"mtsamples:{row['doc_sha1']}"))
    return make_corpus(rows)


# ------------------------------------------------------------------------------------ generated


def generated_corpus(types: TypeList, seed: int = 0, admin: int = GENERATED_ADMIN, clinical: int = GENERATED_CLINICAL) -> Corpus:
    """Generated documents for every type in `types` that has a generator."""
    from pipeline.synth.documents import GENERATORS, generate_document

    rows = []
    for key in types.keys():
        if key not in GENERATORS:
            log.warning("type %s has no document generator; it gets only the examples you supply", key)
            continue
        for n in range(clinical if key in CLINICAL_TYPES else admin):
            rng = random.Random(f"{seed}:{key}:{n}")
            rows.append((generate_document(key, rng), key, f"generated:{seed}:{key}:{n}"))
    return make_corpus(rows)


def default_corpus(types: TypeList, dataset: Path = DEFAULT_DATASET, seed: int = 0) -> Corpus:
    """The shipped corpus: MTSamples mapped to our types plus generated documents."""
    if not dataset.is_file():
        raise ConfigurationError(f"{dataset}: the shipped training data is missing; restore datasets/ from the repository")
    return mtsamples_corpus(dataset, types) + generated_corpus(types, seed)


# -------------------------------------------------------------------------------- site corpora


def csv_corpus(path: Path, types: TypeList) -> Corpus:
    """A CSV with a header `text,type` (other columns ignored)."""
    rows, problems = [], []
    for number, row in enumerate(_read_csv(path), start=2):
        text, label = (row.get("text") or "").strip(), (row.get("type") or "").strip()
        if label not in types:
            problems.append(f"{path}: line {number}: type {label!r} is not in the type list ({types.source})")
        elif text:
            rows.append((text, label, f"csv:{hashlib.sha1(text.encode()).hexdigest()}"))
    if problems:
        raise ConfigurationError(problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else []))
    return make_corpus(rows)


def folder_corpus(folder: Path, types: TypeList, read_scan=None) -> Corpus:
    """Sub-folders named by type, holding .txt files and scans (.pdf / images).

    `read_scan(path) -> str` turns a scan into text (the OCR engine); needed only if there are scans.
    """
    problems, rows = [], []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name not in types:
            problems.append(f"{sub}: folder name is not a type in the type list; rename it to one of {', '.join(types.keys())}")
            continue
        for file in sorted(p for p in sub.rglob("*") if p.is_file()):
            suffix = file.suffix.lower()
            if suffix in TEXT_SUFFIXES:
                text = file.read_text(encoding="utf-8", errors="replace")
            elif suffix in SCAN_SUFFIXES:
                if read_scan is None:
                    problems.append(f"{file}: a scan, but no OCR engine is available to read it")
                    continue
                try:
                    text = read_scan(file)
                except InputError as exc:
                    log.warning("skipping %s: %s", file.name, exc)
                    continue
            else:
                log.info("skipping %s: not .txt, .pdf or an image", file.name)
                continue
            if text.strip():
                digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()
                rows.append((text, sub.name, f"folder:{digest}"))
    if problems:
        raise ConfigurationError(problems)
    if not rows:
        raise ConfigurationError(f"{folder}: no documents found; put .txt/.pdf/image files in sub-folders named by type")
    return make_corpus(rows)


def review_corpus(pairs: Iterable[tuple[str, str]], types: TypeList) -> Corpus:
    """(text, doc_type) pairs confirmed or corrected by clerks; types no longer in the list are skipped."""
    rows, skipped = [], 0
    for text, label in pairs:
        if label not in types or not text or not text.strip():
            skipped += 1
            continue
        rows.append((text, label, f"review:{hashlib.sha1((label + chr(0) + text).encode('utf-8', 'replace')).hexdigest()}"))
    if skipped:
        log.warning("%d reviewed document(s) skipped: empty text or a type no longer in the type list", skipped)
    return make_corpus(rows)


def _read_csv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{path}: corpus file not found") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigurationError(f"{path}: not a readable UTF-8 CSV ({exc}); save it as UTF-8 with a header text,type") from exc
