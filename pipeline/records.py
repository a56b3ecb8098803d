"""The records passed between stages.

    IncomingDocument -> OcrResult -> Classification -> DocumentIdentifiers -> PatientMatch
                     -> FilingDecision -> ManifestEntry -> ProcessResult

All are frozen and slotted. A stage is a function of records to a record; it does I/O only through
what it is handed. Normal outcomes (review, duplicate, rejected) are values here, not exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any


class Outcome(StrEnum):
    """What happened to one input document (the `status` of `process --json`)."""

    FILED = "filed"
    NEEDS_REVIEW = "needs_review"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    UNDONE = "undone"  # a passing fault (database, disk, object store, OCR process): left in place, retry


class MatchOutcome(StrEnum):
    AUTO_FILE = "auto_file"
    REVIEW = "review"
    NO_MATCH = "no_match"


class DocumentStatus(StrEnum):
    """FHIR DocumentReference.status values we use."""

    CURRENT = "current"
    ENTERED_IN_ERROR = "entered-in-error"
    SUPERSEDED = "superseded"  # page surgery made a new version (split, merge, rotate, drop a page)


class ReviewStatus(StrEnum):
    """Where a review item stands."""

    OPEN = "open"
    RESOLVED = "resolved"


class ReviewKind(StrEnum):
    """What a review item asks of the clerk (stored in review_items.kind, revision 0005)."""

    PATIENT = "patient"  # the document is not filed: choose the patient (and confirm the type)
    TYPE = "type"  # type-only: the document is filed to a certain patient; confirm or correct its type


class ReviewResolution(StrEnum):
    """How a review item was resolved (stored in review_items.resolution)."""

    FILED = "filed"  # a clerk filed the document to a patient
    TYPE_CONFIRMED = "type_confirmed"  # a clerk confirmed or corrected the type of a filed document
    CLOSED_UNFILED = "closed_unfiled"  # a clerk closed it without filing: the patient cannot be identified
    REFILED = "refiled"  # `pipeline refile` moved the document while the item was open
    SUPERSEDED = "superseded"  # page surgery replaced the document by new versions with items of their own

    @classmethod
    def stored(cls, value: str | None) -> ReviewResolution | None:
        """A stored value, those written before revision 0003 included ("rejected")."""
        if value is None:
            return None
        return cls(LEGACY_RESOLUTIONS.get(value, value))


#: resolutions stored under another word before revision 0003 (journals and exports keep them)
LEGACY_RESOLUTIONS = {"rejected": ReviewResolution.CLOSED_UNFILED.value}


class Role(StrEnum):
    """What a review-app user may do (stored in users.role). Each role can do what the one before
    it can: a supervisor works the queue too, an admin is a supervisor who also manages users."""

    CLERK = "clerk"  # works the review queue; searches and opens filed documents
    SUPERVISOR = "supervisor"  # also refiles, reopens, releases, reads the access log
    ADMIN = "admin"  # also adds, changes and disables users


class FieldVerdict(StrEnum):
    """Per-field comparison of a document's identifier with a candidate patient's."""

    AGREE = "agree"
    CLOSE = "close"  # fuzzy agreement (typo, transposition, nickname, phonetic)
    DISAGREE = "disagree"
    MISSING = "missing"  # not on the document or not in the index


# ------------------------------------------------------------------------------------- patients


@dataclass(frozen=True, slots=True)
class Encounter:
    """A hospital stay from the patient index (ADT A01..A03), by admission and discharge day."""

    id: int
    patient_id: int
    visit_number: str | None
    start: date
    end: date | None  # None while the patient is still in

    def covers(self, day: date) -> bool:
        return self.start <= day <= (self.end or date.max)


# --------------------------------------------------------------------------------------- intake


@dataclass(frozen=True, slots=True)
class IncomingDocument:
    """A file accepted by intake: readable, typed by its bytes, hashed."""

    source: Path
    original_name: str
    sha256: str
    size: int
    media_type: str  # application/pdf, image/tiff, image/png, image/jpeg
    received_at: datetime  # timezone-aware


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an input could not be processed, and what to do about it."""

    source: Path
    reason: str  # names the file, what is wrong, what to do
    error: str  # the InputError class name, e.g. "CorruptFileError"


# --------------------------------------------------------------------------------- batch split


class PageKind(StrEnum):
    """What one page of a batch is, for splitting (`pipeline.ingest.split`)."""

    CONTENT = "content"
    SEPARATOR = "separator"  # a patch code or the configured separator barcode: dropped
    COVER = "cover"  # a patient cover sheet: starts a document and stays its first page
    BLANK = "blank"  # the empty back of a simplex sheet: dropped (kept in the batch original)


@dataclass(frozen=True, slots=True)
class CoverSheet:
    """What a patient cover sheet's barcode says: the document's strongest identifier."""

    mrn: str
    doc_type: str | None = None  # LOINC code or type key, as printed
    date_of_service: date | None = None


@dataclass(frozen=True, slots=True)
class PageMark:
    """One batch page as the splitter sees it: small, so a long batch's marks fit in memory."""

    number: int  # 1-based, in the batch
    kind: PageKind
    cover: CoverSheet | None = None
    ink: float = 0.0  # measured ink share of the page's inner area (blank-page rule)
    patch: str | None = None  # the patch code read, e.g. "T"
    mrn: str | None = None  # read from the page's text, for the optional identifier-change split
    birth_date: date | None = None


@dataclass(frozen=True, slots=True)
class BatchPart:
    """One document cut from a batch: which pages of the batch it is, and why to doubt it."""

    batch_sha256: str
    index: int  # 1-based among the batch's parts
    pages: tuple[int, ...]  # the batch pages it keeps, in order (separators and blanks left out)
    first_page: int  # the batch page range it spans, dropped pages included
    last_page: int
    cover: CoverSheet | None = None
    dropped: tuple[int, ...] = ()  # blank pages inside the range, left out of the part
    reasons: tuple[str, ...] = ()  # non-empty: the split is in doubt and the part goes to review


class RunStatus(StrEnum):
    """Where a backfill run stands."""

    RUNNING = "running"  # or killed while running: `pipeline backfill --resume RUN` carries on
    STOPPED = "stopped"  # stopped by Ctrl-C; resumable
    FINISHED = "finished"  # every item done


class ItemStatus(StrEnum):
    """One input file of a backfill run."""

    PENDING = "pending"
    DONE = "done"  # every document in it has a final outcome (filed, review, duplicate, rejected)
    UNDONE = "undone"  # a passing fault or an outcome that is not final: tried again on resume


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What became of one input file that may hold several documents: one result per document."""

    source: str
    sha256: str | None
    pages: int
    results: tuple[ProcessResult, ...]
    parts: tuple[BatchPart | None, ...] = ()  # the batch part of each result; None for a whole file

    def lines(self) -> list[dict[str, Any]]:
        """One `process --json` line per document. A part of a split batch adds its part number and
        its batch pages (first, last); a file filed whole gives the plain `ProcessResult` line."""
        lines = []
        for result, part in zip(self.results, self.parts or (None,) * len(self.results), strict=True):
            line = result.to_json()
            if part is not None:
                line["part"], line["batch_pages"] = part.index, [part.first_page, part.last_page]
            lines.append(line)
        return lines

    def to_json(self) -> dict[str, Any]:
        """One object per file; each document's line, with `part` and `batch_pages` (null when whole)."""
        documents = [{**line, "part": line.get("part"), "batch_pages": line.get("batch_pages")} for line in self.lines()]
        return {"source": self.source, "sha256": self.sha256, "pages": self.pages, "documents": documents}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchResult:
        results, parts = [], []
        for row in data["documents"]:
            results.append(ProcessResult.from_json(row))
            first_last = row.get("batch_pages")
            parts.append(None if row.get("part") is None else BatchPart(
                batch_sha256=data["sha256"], index=row["part"], pages=(), first_page=first_last[0],
                last_page=first_last[1]))
        return cls(data["source"], data.get("sha256"), data.get("pages", 0), tuple(results), tuple(parts))


# ------------------------------------------------------------------------------------------ OCR


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    confidence: float  # 0..100, Tesseract's word confidence
    box: tuple[int, int, int, int]  # left, top, width, height in page pixels
    line: int  # line number within the page, for label/value pairing


@dataclass(frozen=True, slots=True)
class Barcode:
    page: int
    format: str  # "QRCode", "Code128", "DataMatrix", ...
    text: str
    box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True, slots=True)
class OcrPage:
    number: int  # 1-based
    text: str
    confidence: float  # mean word confidence 0..100; -1.0 when no words were found
    rotation: int = 0  # degrees clockwise applied before OCR: 0, 90, 180, 270
    skew: float = 0.0  # degrees of deskew applied
    source: str = "ocr"  # "ocr" or "text-layer" (born-digital PDF)
    width: int = 0
    height: int = 0
    words: tuple[Word, ...] = ()
    barcodes: tuple[Barcode, ...] = ()


@dataclass(frozen=True, slots=True)
class OcrResult:
    pages: tuple[OcrPage, ...]
    searchable_pdf: Path | None  # a temporary file the orchestrator stores; None if not made
    engine: str  # e.g. "tesseract 5.3.0"
    reasons: tuple[str, ...] = ()  # e.g. low confidence: a document to review, not an error

    @property
    def text(self) -> str:
        return "\n\f".join(page.text for page in self.pages)

    @property
    def confidence(self) -> float:
        """Document-level confidence: mean of page confidences weighted by words found."""
        weighted = [(p.confidence, max(len(p.words), 1)) for p in self.pages if p.confidence >= 0]
        if not weighted:
            return -1.0
        total = sum(w for _, w in weighted)
        return sum(c * w for c, w in weighted) / total

    @property
    def barcodes(self) -> tuple[Barcode, ...]:
        return tuple(b for page in self.pages for b in page.barcodes)


# ------------------------------------------------------------------------------------- classify


@dataclass(frozen=True, slots=True)
class Classification:
    doc_type: str  # key in the type list, e.g. "discharge_summary"
    loinc: str
    display: str
    confidence: float  # calibrated probability 0..1
    needs_review: bool
    reasons: tuple[str, ...] = ()
    model_version: str = ""
    alternatives: tuple[tuple[str, float], ...] = ()  # next best (doc_type, probability)


# ------------------------------------------------------------------------------------- patients


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where an identifier was found: for the reviewer, who sees it highlighted."""

    field: str  # "family_name", "birth_date", "mrn", ...
    value: str
    source: str  # "text" or "barcode"
    page: int | None = None
    box: tuple[int, int, int, int] | None = None
    label: str = ""  # the label next to it on the paper, e.g. "DOB:"


@dataclass(frozen=True, slots=True)
class DocumentIdentifiers:
    """What the paper itself says about the patient (FHIR context.sourcePatientInfo)."""

    family_name: str | None = None
    given_name: str | None = None
    birth_date: date | None = None
    mrn: str | None = None
    sex: str | None = None  # "M", "F", "U"
    phone: str | None = None
    address: str | None = None
    postcode: str | None = None
    account: str | None = None
    accession: str | None = None
    date_of_service: date | None = None
    doc_type_hint: str | None = None  # from a barcode cover sheet
    evidence: tuple[Evidence, ...] = ()

    def present(self) -> list[str]:
        names = ("family_name", "given_name", "birth_date", "mrn", "sex", "phone", "address")
        return [n for n in names if getattr(self, n)]


@dataclass(frozen=True, slots=True)
class Candidate:
    patient_id: int
    mrn: str
    probability: float  # match probability 0..1
    match_weight: float = 0.0  # log2 Bayes factor summed over fields
    fields: Mapping[str, FieldVerdict] = field(default_factory=dict)
    display_name: str = ""  # for the reviewer's screen only; never logged


@dataclass(frozen=True, slots=True)
class PatientMatch:
    outcome: MatchOutcome
    patient: Candidate | None  # the chosen patient when outcome is AUTO_FILE
    candidates: tuple[Candidate, ...] = ()  # best first
    reasons: tuple[str, ...] = ()


# -------------------------------------------------------------------------------------- filing


@dataclass(frozen=True, slots=True)
class FilingDecision:
    outcome: Outcome  # FILED or NEEDS_REVIEW
    reasons: tuple[str, ...] = ()
    type_confirmed: bool = True  # False: filed to a certain patient, the type awaits a clerk's confirmation


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    document_id: str
    status: DocumentStatus
    outcome: Outcome
    sha256: str
    patient_mrn: str | None
    doc_type: str | None
    loinc: str | None
    original: StoredObject
    searchable: StoredObject | None
    pages: int
    type_confirmed: bool = True


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """One line of `pipeline process --json`."""

    source: str
    document_id: str | None
    status: Outcome
    doc_type: str | None = None
    loinc: str | None = None
    type_confidence: float | None = None
    patient_mrn: str | None = None
    match_confidence: float | None = None
    pages: int = 0
    reasons: tuple[str, ...] = ()
    type_confirmed: bool | None = None  # None for a duplicate or a rejected input

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "document_id": self.document_id,
            "status": str(self.status),
            "doc_type": self.doc_type,
            "loinc": self.loinc,
            "type_confidence": _round(self.type_confidence),
            "patient_mrn": self.patient_mrn,
            "match_confidence": _round(self.match_confidence),
            "pages": self.pages,
            "reasons": list(self.reasons),
            "type_confirmed": self.type_confirmed,
        }


    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessResult:
        return cls(
            source=data["source"],
            document_id=data["document_id"],
            status=Outcome(data["status"]),
            doc_type=data.get("doc_type"),
            loinc=data.get("loinc"),
            type_confidence=data.get("type_confidence"),
            patient_mrn=data.get("patient_mrn"),
            match_confidence=data.get("match_confidence"),
            pages=data.get("pages", 0),
            reasons=tuple(data.get("reasons", ())),
            type_confirmed=data.get("type_confirmed"),
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
