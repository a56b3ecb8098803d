"""The review queue's use cases, one set of rules for every door (the CLI, the browser, any API).

Resolving an item (filing its document to a patient) requires:
  - a document type from the type list: the one the clerk chose, else the one the pipeline
    predicted (the browser's type chooser is prefilled with it); none, or one not in the list, is
    refused (`DocumentTypeRequiredError`);
  - a patient found by MRN, following merges (`NotFoundError` / `PatientIndexError` otherwise);
  - when the document gives a birth date and the patient's is not the same (or unknown), an explicit
    confirmation (`BirthDateNotConfirmedError` otherwise); a confirmed filing says so in the
    access log's "resolved" entry (`DOB_OVERRIDE_NOTE`).
Closing without filing needs a reason; only an item closed without filing whose document is still
unfiled reopens. Every decision goes into the access log with the clerk's id.

A type-only item (`ReviewKind.TYPE`: the document is filed to a certain patient, its type awaits
confirmation) is settled by one decision, `confirm_type`: the predicted type, or another from the
type list. It never changes the patient (a wrong patient is `pipeline refile`, supervisor work), so
resolving it to a patient or closing it without filing is refused (`ReviewDecisionError`), and a
type confirmation on a patient item is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.classify.types import TypeList
from pipeline.errors import BirthDateNotConfirmedError, DocumentTypeRequiredError, ReviewDecisionError, StorageError
from pipeline.records import DocumentStatus, FieldVerdict, ReviewKind, ReviewResolution, ReviewStatus
from pipeline.services.patients import PatientChoice, choice_for, patient_id_for_mrn
from pipeline.store.manifest import Manifest
from pipeline.store.rows import QueueEntry, ReviewItem, StoredDocument

DOB_OVERRIDE_NOTE = "birth date on the document differs from the patient's; filed after the clerk confirmed"


@dataclass(frozen=True, slots=True)
class FilingCheck:
    """What a resolution would do, once every rule but the birth-date confirmation has passed."""

    item: ReviewItem
    doc_type: str
    patient: PatientChoice

    @property
    def birth_date_differs(self) -> bool:
        """The document gives a birth date and the patient's is not that one (or is unknown)."""
        return (self.item.identifiers.birth_date is not None
                and self.patient.birth_date_verdict is not FieldVerdict.AGREE)


def open_item(manifest: Manifest, item_id: int, kind: ReviewKind | None = None) -> ReviewItem:
    """The item, if it is still open (NotFoundError, or StorageError saying how it was resolved) and,
    when `kind` is given, of that kind (ReviewDecisionError saying what to do instead)."""
    item = manifest.review_item(item_id)
    if item.status != ReviewStatus.OPEN:
        raise StorageError(f"review item {item_id} is already {item.status} ({item.resolution})")
    if kind is ReviewKind.PATIENT and item.kind is ReviewKind.TYPE:
        raise ReviewDecisionError(f"review item {item_id} is type-only: its document is filed to a certain "
                                  "patient and only its type awaits confirmation; nothing was changed",
                                  hint=f"confirm or correct the type with `pipeline review confirm-type {item_id} "
                                       "[--type TYPE]`; a document in the wrong chart is moved with `pipeline refile`")
    if kind is ReviewKind.TYPE and item.kind is not ReviewKind.TYPE:
        raise ReviewDecisionError(f"review item {item_id} is not type-only: its document is not filed to a "
                                  "patient yet; nothing was changed",
                                  hint=f"file it with `pipeline review resolve {item_id} --patient MRN [--type TYPE]`")
    return item


def document_type(item: ReviewItem, doc: StoredDocument, chosen: str | None, types: TypeList) -> str:
    """The type to file under: the chosen one (None: the predicted one); it must be in the type list.
    An empty choice is no choice: refused."""
    key = chosen if chosen is not None else (item.predicted_doc_type or doc.doc_type)
    if not key:
        raise DocumentTypeRequiredError(f"review item {item.id}: the pipeline could not tell the document type; "
                                        "choose one", hint="give --type TYPE (see `pipeline types`)")
    if key not in types:
        raise DocumentTypeRequiredError(f"review item {item.id}: document type {key!r} is not in the type list; "
                                        "one of: " + ", ".join(types.keys()))
    return key


def check_filing(manifest: Manifest, item_id: int, *, patient_mrn: str, doc_type: str | None,
                 types: TypeList) -> FilingCheck:
    """Apply every rule but the birth-date confirmation; raise the first one broken."""
    item = open_item(manifest, item_id, ReviewKind.PATIENT)
    key = document_type(item, manifest.get(item.document_id), doc_type, types)
    patient_id = patient_id_for_mrn(manifest.engine, patient_mrn)  # follows merges; refuses an ambiguous MRN
    candidate = next((c for c in item.candidates if c.patient_id == patient_id), None)
    return FilingCheck(item, key, choice_for(manifest.engine, patient_id, item.identifiers, candidate))


def resolve(manifest: Manifest, item_id: int, *, actor: str, patient_mrn: str, doc_type: str | None,
            types: TypeList, note: str | None = None, confirm_birth_date_mismatch: bool = False) -> StoredDocument:
    """File the item's document to the patient holding `patient_mrn`, as `doc_type`; returns it."""
    check = check_filing(manifest, item_id, patient_mrn=patient_mrn, doc_type=doc_type, types=types)
    if check.birth_date_differs:
        if not confirm_birth_date_mismatch:
            raise BirthDateNotConfirmedError(
                f"review item {item_id}: the birth date on the document is not the patient's (MRN "
                f"{check.patient.mrn}); nothing was filed", patient_id=check.patient.patient_id,
                patient_mrn=check.patient.mrn,
                hint="check the patient, then confirm (--confirm-birth-date-mismatch) to file it all the same")
        note = "; ".join(filter(None, [note, DOB_OVERRIDE_NOTE]))
    chosen = types[check.doc_type]
    return manifest.resolve_review_item(item_id, actor=actor, patient_id=check.patient.patient_id,
                                        patient_mrn=check.patient.mrn or patient_mrn, doc_type=chosen.key,
                                        loinc=chosen.loinc, type_display=chosen.display, note=note)


def confirm_type(manifest: Manifest, item_id: int, *, actor: str, doc_type: str | None, types: TypeList,
                 note: str | None = None) -> StoredDocument:
    """Settle a type-only item: the filed document's type is `doc_type` (None: the predicted one),
    which must be in the type list. The patient and the stored objects stay; returns the document."""
    item = open_item(manifest, item_id, ReviewKind.TYPE)
    chosen = types[document_type(item, manifest.get(item.document_id), doc_type, types)]
    return manifest.confirm_review_type(item_id, actor=actor, doc_type=chosen.key, loinc=chosen.loinc,
                                        type_display=chosen.display, note=note)


def close_unfiled(manifest: Manifest, item_id: int, *, actor: str, reason: str) -> StoredDocument:
    """Close the item without filing (the patient cannot be identified); the document stays unfiled."""
    if not reason.strip():
        raise StorageError(f"review item {item_id}: closing without filing needs a reason; it goes into the "
                           "access log")
    open_item(manifest, item_id, ReviewKind.PATIENT)
    return manifest.resolve_review_item(item_id, actor=actor, resolution=ReviewResolution.CLOSED_UNFILED,
                                        note=reason)


def is_closed_unfiled(item: ReviewItem, doc: StoredDocument) -> bool:
    """Closed without filing and still unfiled (not refiled since): the item may be reopened."""
    return (item.status == ReviewStatus.RESOLVED and item.resolution == ReviewResolution.CLOSED_UNFILED
            and doc.status == DocumentStatus.CURRENT and doc.patient_id is None)


def reopen(manifest: Manifest, item_id: int, *, actor: str, reason: str) -> ReviewItem:
    """Put an item closed without filing back in the queue (a reason is required)."""
    return manifest.reopen_review_item(item_id, actor=actor, reason=reason)


def list_open(manifest: Manifest, *, limit: int, kind: ReviewKind | None = None) -> list[ReviewItem]:
    """Open items, oldest first; only patient items or only type-only items when `kind` is given."""
    return manifest.open_review_items(limit=limit, kind=kind)


def neighbours(manifest: Manifest, item_id: int) -> tuple[int | None, int | None]:
    """The open items before and after this one in the queue's order (oldest first), for moving
    from item to item; None at either end."""
    return manifest.open_review_neighbours(item_id)


def open_revisions(manifest: Manifest) -> list[tuple[int, int, ReviewKind]]:
    """(item id, revision, kind) of every open item, oldest first; type-only items are of kind TYPE."""
    return manifest.open_review_revisions()


def queue_version(manifest: Manifest) -> int:
    """Moves whenever a review item is added, changed or removed (read it before the open items)."""
    return manifest.review_queue_version()


def reasons_of(manifest: Manifest, item_ids: list[int]) -> dict[int, tuple[int, tuple[str, ...]]]:
    """item id -> (revision, every reason) (for the queue page's filter and counts)."""
    return manifest.review_reasons(item_ids)


def queue_entries(manifest: Manifest, item_ids: list[int]) -> list[QueueEntry]:
    """What the queue page shows of these items (no identifiers), in the order given."""
    return manifest.queue_entries(item_ids)


def list_closed(manifest: Manifest, *, actor: str, limit: int) -> list[tuple[ReviewItem, StoredDocument, str | None]]:
    """The unidentified worklist; listing it is logged."""
    closed = manifest.closed_review_items(limit=limit)
    manifest.record_access(actor, "viewed", reason=f"closed without filing: {len(closed)} items listed")
    return closed


def show(manifest: Manifest, item_id: int, *, actor: str, reason: str = "review queue") -> ReviewItem:
    """One item; showing it is a view of its document, so it is logged."""
    item = manifest.review_item(item_id)
    manifest.record_access(actor, "viewed", document_id=item.document_id, reason=reason)
    return item
