"""Page surgery on review items, the same from every door (`pipeline review split|merge|rotate|drop-page`
and the browser): split a document into two at a page, merge two queued documents into one, turn a
page, drop a (blank) page.

Each makes new versions and never overwrites: a new PDF whose pages are the old pages rearranged
(`store/pdfpages.py`: no image re-encoded, a turn is the page's /Rotate), a new manifest row that
records what it was made from (`derived_from`, FHIR relatesTo "transforms"), the old documents kept
as "superseded" and their review items closed as superseded, every step in the access log and the
journal (`store/revisions.py`), all in one transaction.

Every new version then goes the way any document goes (`orchestrator.index_document`: classify,
extract identifiers, match, decide) and is filed or queued on its own. The pages' text is not read
again: the manifest keeps each document's OCR text page by page (pages joined by a form feed), and a
part gets its pages' text. An OCR doubt about a source ("unreadable text: ...") stays with every
version made from it, so surgery never turns an unreadable document into an auto-filed one; a
document whose page text is not at hand gives versions that are queued, never filed. The barcodes
read from the pages (cover sheets, patient labels; kept in the manifest row) go with their pages,
renumbered: a split part keeps its strongest identifier, a turned page keeps its barcodes (without
their box, which was measured on the page as it was), a dropped page takes its own away.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import PageSurgeryError
from pipeline.orchestrator import index_document, versions_of
from pipeline.records import IncomingDocument, OcrPage, OcrResult, Outcome
from pipeline.services.review import open_item
from pipeline.store.filing import stage_document
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore
from pipeline.store.pdfpages import ROTATIONS, PageRef, assemble
from pipeline.store.revisions import NewVersion
from pipeline.store.rows import ReviewItem, StoredDocument

if TYPE_CHECKING:
    from pipeline.classify.model import Classifier
    from pipeline.patients.matcher import Matcher

PDF = "application/pdf"
#: how `OcrResult.text` joins the pages' text, which the manifest keeps
PAGE_BREAK = "\n\f"
#: how the OCR stage words a doubt about the text (`ocr/engine.py`); it stays with every new version
UNREADABLE = "unreadable text"
NO_PAGE_TEXT = "unreadable text: the pages' text was not at hand after page surgery; read the pages on screen"


class Operation(StrEnum):
    SPLIT = "split"
    MERGE = "merge"
    ROTATE = "rotate"
    DROP_PAGE = "drop-page"


@dataclass(frozen=True, slots=True)
class Indexer:
    """What indexes a new version: the classifier and the matcher the orchestrator uses."""

    classifier: Classifier
    matcher: Matcher


@dataclass(frozen=True, slots=True)
class Version:
    """One new document made by page surgery and what became of it."""

    document_id: str
    outcome: Outcome  # FILED or NEEDS_REVIEW
    pages: int
    review_item_id: int | None
    patient_mrn: str | None
    doc_type: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SurgeryResult:
    operation: Operation
    superseded: tuple[int, ...]  # the review items closed
    versions: tuple[Version, ...]

    def to_json(self) -> dict[str, Any]:
        return {"operation": str(self.operation), "superseded_items": list(self.superseded),
                "versions": [{"document_id": v.document_id, "status": str(v.outcome), "pages": v.pages,
                              "review_item": v.review_item_id, "patient_mrn": v.patient_mrn,
                              "doc_type": v.doc_type, "reasons": list(v.reasons)} for v in self.versions]}


@dataclass(frozen=True, slots=True)
class _Source:
    item: ReviewItem
    doc: StoredDocument
    original: bytes  # the original if it is a PDF, else the searchable copy (the scan's image in a PDF)
    searchable: bytes | None
    page_texts: tuple[str, ...] | None  # None: not at hand
    ocr_reasons: tuple[str, ...]


def split(manifest: Manifest, store: ObjectStore, indexer: Indexer, item_id: int, *, at: int, actor: str,
          reason: str) -> SurgeryResult:
    """Two documents: pages 1..at-1 and at..end; each indexed, filed or queued on its own."""
    source = _load(manifest, store, item_id)
    pages = source.doc.pages
    if not 2 <= at <= pages:
        raise PageSurgeryError(f"review item {item_id}: a split at page {at} leaves a part empty; the document "
                               f"has {pages} pages", hint=f"give --at a page from 2 to {pages}" if pages > 1
                               else "a one-page document cannot be split")
    first = [PageRef(0, n) for n in range(1, at)]
    second = [PageRef(0, n) for n in range(at, pages + 1)]
    return _replace(manifest, store, indexer, [source], [first, second], Operation.SPLIT, actor, reason)


def merge(manifest: Manifest, store: ObjectStore, indexer: Indexer, item_id: int, other_id: int, *, actor: str,
          reason: str) -> SurgeryResult:
    """One document: the item's pages, then the other item's; indexed, filed or queued."""
    if item_id == other_id:
        raise PageSurgeryError(f"review item {item_id} cannot be merged with itself",
                               hint="give the id of another open review item")
    sources = [_load(manifest, store, item_id), _load(manifest, store, other_id)]
    pages = [PageRef(i, n) for i, s in enumerate(sources) for n in range(1, s.doc.pages + 1)]
    return _replace(manifest, store, indexer, sources, [pages], Operation.MERGE, actor, reason)


def rotate(manifest: Manifest, store: ObjectStore, indexer: Indexer, item_id: int, *, page: int, degrees: int,
           actor: str, reason: str) -> SurgeryResult:
    """The same pages with page `page` turned `degrees` clockwise (90, 180 or 270)."""
    if degrees not in ROTATIONS:
        raise PageSurgeryError(f"review item {item_id}: a page turns by 90, 180 or 270 degrees, not {degrees}",
                               hint="give --degrees 90, 180 or 270 (clockwise)")
    source = _load(manifest, store, item_id)
    _check_page(source, page)
    pages = [PageRef(0, n, degrees if n == page else 0) for n in range(1, source.doc.pages + 1)]
    return _replace(manifest, store, indexer, [source], [pages], Operation.ROTATE, actor, reason,
                    rotations={str(page): degrees})


def drop_page(manifest: Manifest, store: ObjectStore, indexer: Indexer, item_id: int, *, page: int, actor: str,
              reason: str) -> SurgeryResult:
    """The same pages but page `page` (a blank page, a stray separator sheet)."""
    source = _load(manifest, store, item_id)
    _check_page(source, page)
    if source.doc.pages == 1:
        raise PageSurgeryError(f"review item {item_id}: the document's only page cannot be dropped",
                               hint="close the item without filing instead, with the reason")
    pages = [PageRef(0, n) for n in range(1, source.doc.pages + 1) if n != page]
    return _replace(manifest, store, indexer, [source], [pages], Operation.DROP_PAGE, actor, reason)


# ------------------------------------------------------------------------------------------ the work


def _load(manifest: Manifest, store: ObjectStore, item_id: int) -> _Source:
    item = open_item(manifest, item_id)
    doc = manifest.get(item.document_id)
    searchable = store.get(doc.searchable_key) if doc.searchable_key else None
    if doc.media_type == PDF:
        original = store.get(doc.original_key)
    elif searchable is not None:
        original = searchable  # a TIFF/PNG/JPEG scan: its searchable copy holds its page images as they are
    else:
        raise PageSurgeryError(f"review item {item_id}: document {doc.document_id} has no PDF to rearrange "
                               "(an image scan without a searchable copy)",
                               hint="process the scan again with OCR on, or close the item with the reason")
    text = manifest.text_of(doc.sha256)
    page_texts = None
    if text is not None:
        parts = text.split(PAGE_BREAK)
        if len(parts) == doc.pages:
            page_texts = tuple(parts)
    ocr_reasons = tuple(r for r in (*item.reasons, *doc.reasons) if r.startswith(UNREADABLE))
    return _Source(item, doc, original, searchable, page_texts, tuple(dict.fromkeys(ocr_reasons)))


def _check_page(source: _Source, page: int) -> None:
    if not 1 <= page <= source.doc.pages:
        raise PageSurgeryError(f"review item {source.item.id}: the document has {source.doc.pages} pages, "
                               f"not page {page}", hint=f"give a page from 1 to {source.doc.pages}")


def _replace(manifest: Manifest, store: ObjectStore, indexer: Indexer, sources: Sequence[_Source],
             layouts: Sequence[Sequence[PageRef]], operation: Operation, actor: str, reason: str,
             rotations: dict[str, int] | None = None) -> SurgeryResult:
    """Make one new version per layout, index each, and swap them in for the sources' items."""
    reason = reason.strip()
    if not reason:
        raise PageSurgeryError(f"review item {sources[0].item.id}: say why ({operation}); it goes into the "
                               "access log", hint="give --reason TEXT")
    now = manifest.clock()
    staged: list[NewVersion] = []
    with tempfile.TemporaryDirectory(prefix="pipeline-surgery-") as scratch:
        for number, layout in enumerate(layouts, 1):
            staged.append(_new_version(store, indexer, sources, layout, Path(scratch), number, len(layouts),
                                       operation, actor, reason, rotations, now))
    note = f"{operation} by {actor}: {reason}"
    items = manifest.supersede([s.item.id for s in sources], staged, actor=actor, note=note)
    versions = tuple(Version(v.document.document_id, v.document.outcome, v.document.pages, item_id,
                             v.document.patient_mrn, v.document.doc_type, v.document.reasons)
                     for v, item_id in zip(staged, items, strict=True))
    return SurgeryResult(operation, tuple(s.item.id for s in sources), versions)


def _new_version(store: ObjectStore, indexer: Indexer, sources: Sequence[_Source], layout: Sequence[PageRef],
                 scratch: Path, number: int, count: int, operation: Operation, actor: str, reason: str,
                 rotations: dict[str, int] | None, now: datetime) -> NewVersion:
    labels = [f"document {s.doc.document_id}" for s in sources]
    original = scratch / f"version-{number}.pdf"
    assemble([s.original for s in sources], layout, original, labels)
    searchable = None
    if all(s.searchable is not None for s in sources):
        searchable = scratch / f"version-{number}-searchable.pdf"
        assemble([s.searchable for s in sources], layout, searchable, labels)  # type: ignore[misc]
    ocr = _ocr_of(sources, layout, searchable)
    data = original.read_bytes()
    first = sources[0].doc
    suffix = f"{operation}-{number}" if count > 1 else str(operation)
    incoming = IncomingDocument(source=original, original_name=f"{Path(first.original_name).stem}.{suffix}.pdf",
                                sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type=PDF,
                                received_at=min(s.doc.received_at for s in sources))
    classification, identifiers, match, decision = index_document(ocr, indexer.classifier, indexer.matcher)
    derived_from = {"operation": str(operation), "by": actor, "reason": reason,
                    "sources": [{"document_id": s.doc.document_id,
                                 "pages": [ref.page for ref in layout if ref.source == i]}
                                for i, s in enumerate(sources) if any(ref.source == i for ref in layout)]}
    if rotations:
        derived_from["rotations"] = rotations
    staged = stage_document(store=store, incoming=incoming, ocr=ocr, classification=classification,
                            identifiers=identifiers, match=match, decision=decision,
                            versions=versions_of(ocr, classification, indexer.matcher), now=now,
                            derived_from=derived_from)
    return NewVersion(staged.document, staged.text, staged.review)


def _ocr_of(sources: Sequence[_Source], layout: Sequence[PageRef], searchable: Path | None) -> OcrResult:
    """The new version's text, page by page, from what the manifest kept; no OCR run."""
    pages, reasons = [], []
    for number, ref in enumerate(layout, 1):
        source = sources[ref.source]
        texts = source.page_texts
        confidence = source.doc.ocr_confidence if source.doc.ocr_confidence is not None else -1.0
        barcodes = tuple(replace(b, page=number, box=None if ref.rotate else b.box)
                         for b in source.doc.barcodes if b.page == ref.page)
        pages.append(OcrPage(number=number, text=texts[ref.page - 1] if texts else "", confidence=confidence,
                             barcodes=barcodes))
        reasons.extend(source.ocr_reasons)
        if texts is None:
            reasons.append(NO_PAGE_TEXT)
    engines = sorted({s.doc.versions.get("ocr", "") for s in sources} - {""})
    return OcrResult(tuple(pages), searchable, "; ".join(engines) or "stored text",
                     tuple(dict.fromkeys(reasons)))


def load_indexer(settings: Any, manifest: Manifest) -> Indexer:
    """The classifier and matcher for a home (loading the classifier takes a second or two)."""
    from pipeline.classify.model import load_classifier
    from pipeline.patients.matcher import Matcher

    return Indexer(load_classifier(settings), Matcher.from_settings(settings, manifest.engine))

