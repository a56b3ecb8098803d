"""One review item as a page: the document's pages with each identifier read highlighted, what the
paper says, the candidates, the type chooser and patient search (a type-only item: the patient the
document is filed to and the type chooser alone), links to the previous and next open item; and what
to say when an item can no longer be resolved or reopened. Showing it is a view of the document, so
it is logged."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from pipeline.errors import InputError, NotFoundError, StorageError
from pipeline.records import ReviewKind, ReviewResolution, ReviewStatus
from pipeline.review import highlights, queue
from pipeline.review.web import PageError, ReviewContext, known_id, render
from pipeline.services import patients as chooser
from pipeline.services import review
from pipeline.store.rows import ReviewItem

log = logging.getLogger(__name__)

#: the identifiers of "What the paper says", in order, as the clerk reads them
FIELD_LABELS = {"family_name": "Family name", "given_name": "Given name", "birth_date": "Birth date", "mrn": "MRN",
                "sex": "Sex", "phone": "Phone", "address": "Address", "postcode": "Postcode", "account": "Account",
                "accession": "Accession", "date_of_service": "Date of service",
                "doc_type_hint": "Type on cover sheet"}


def item_of(ctx: ReviewContext, item_id: int) -> ReviewItem:
    try:
        return ctx.manifest.review_item(known_id(item_id, "review item"))
    except NotFoundError as exc:
        raise PageError(404, "No such review item",
                        f"There is no review item {item_id}. Check the number, or go back to the review queue "
                        "and pick the item from the list.") from exc


def open_item(ctx: ReviewContext, item_id: int) -> ReviewItem:
    """The item, if still open; else a 409 page saying who resolved it and what to do instead."""
    item = item_of(ctx, item_id)
    if item.status != ReviewStatus.OPEN:
        raise PageError(409, "Already resolved", resolved_message(item))
    return item


def closed_item(ctx: ReviewContext, item_id: int) -> ReviewItem:
    """The item, if closed without filing and still unfiled; else a 409 page."""
    item = item_of(ctx, item_id)
    if not review.is_closed_unfiled(item, ctx.manifest.get(item.document_id)):
        raise PageError(409, "Cannot reopen", not_reopened_message(item))
    return item


def item_page(request: Request, ctx: ReviewContext, user: str, item: ReviewItem, *, access: str,
              status: int = 200, **extra: Any) -> Response:
    """The item page; showing it is logged with `access` as the reason."""
    manifest = ctx.manifest
    doc = manifest.get(item.document_id)
    # the entry is committed before the page is sent; its copy to the store's journal follows the response
    manifest.record_access(user, "viewed", document_id=item.document_id, reason=f"review item {item.id}: {access}",
                           journal_now=False)
    form = extra.pop("form", {})
    closed = review.is_closed_unfiled(item, doc)
    type_only = item.kind is ReviewKind.TYPE
    if type_only and doc.patient_id is not None:
        extra.setdefault("filed_to", chooser.choice_for(manifest.engine, doc.patient_id, item.identifiers))
    previous_id, next_id = review.neighbours(manifest, item.id)
    if closed:
        extra.setdefault("closed_reason", manifest.review_note(item.id))
    candidates = chooser.candidate_choices(manifest.engine, item.candidates, item.identifiers)
    chosen = form.get("patient_mrn", "")
    if chosen and "results" not in extra and chosen not in {c.mrn for c in candidates}:
        # a patient picked from an earlier search stays on the page, still chosen
        extra["results"] = chooser.search(manifest.engine, ctx.matcher, item.identifiers, mrn=chosen).choices
    try:
        marks = highlights.for_document(ctx.store, doc, item.identifiers.evidence)
    except (StorageError, InputError) as exc:  # the page image will say what is wrong; the item is still shown
        log.warning("review item %d: identifiers not located on the page images (%s)", item.id, type(exc).__name__)
        marks = highlights.Highlights()
    response = render(
        request, "item.html", status, item=item, doc=doc, types=list(ctx.types),
        doc_type=form.get("doc_type") or item.predicted_doc_type or doc.doc_type or "",
        chosen_mrn=chosen, note=form.get("note", ""), form=form,
        reasons=queue.all_reasons(item), identifiers=identifier_rows(item),
        evidence=item.identifiers.evidence, highlights=marks,
        found_by={e.field: e for e in item.identifiers.evidence}, field_labels=FIELD_LABELS,
        candidates=candidates,
        resolved=item.status != ReviewStatus.OPEN, resolved_message=resolved_message(item), closed=closed,
        type_only=type_only, previous_id=previous_id, next_id=next_id, **extra)
    response.background = BackgroundTask(ctx.journal_copier)
    return response


def resolved_message(item: ReviewItem) -> str:
    if item.status == ReviewStatus.OPEN:
        return ""
    when = f"{item.resolved_at:%Y-%m-%d %H:%M} UTC" if item.resolved_at else "earlier"
    what = {ReviewResolution.FILED: "filed to a patient", ReviewResolution.TYPE_CONFIRMED: "settled (type confirmed)",
            ReviewResolution.REFILED: "settled by a refile",
            ReviewResolution.SUPERSEDED: "replaced by new versions (split, merge, turned or dropped pages)",
            }.get(item.resolution, "closed without filing")
    then = ("to file it after all, reopen it from \"Closed without filing\""
            if item.resolution == ReviewResolution.CLOSED_UNFILED
            else "its new versions were filed or queued on their own" if item.resolution == ReviewResolution.SUPERSEDED
            else "to move a document filed to the wrong patient, use `pipeline refile`")
    return (f"Review item {item.id} was already {what} by {item.resolved_by} at {when}. Nothing was changed. "
            f"Go back to the queue for the next item; {then}.")


def not_reopened_message(item: ReviewItem) -> str:
    if item.status == ReviewStatus.OPEN:
        return f"Review item {item.id} is open already: it is in the review queue. Nothing was changed."
    if item.resolution == ReviewResolution.CLOSED_UNFILED:
        return (f"The document of review item {item.id} has been filed since the item was closed. Nothing was "
                "changed; to move a document filed to the wrong patient, use `pipeline refile`.")
    return (f"Review item {item.id} was filed to a patient by {item.resolved_by}; only an item closed without "
            "filing can be reopened. Nothing was changed; to move a document filed to the wrong patient, "
            "use `pipeline refile`.")


def identifier_rows(item: ReviewItem) -> list[tuple[str, str, str]]:
    """(field, label, value) of each identifier the paper gave."""
    ids = item.identifiers
    rows = []
    for name, label in FIELD_LABELS.items():
        value = getattr(ids, name)
        if value:
            rows.append((name, label, value.isoformat() if isinstance(value, date) else str(value)))
    return rows
