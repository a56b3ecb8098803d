"""One review item: its page and page images, the patient search, and the clerk's decisions
(resolve, close without filing, reopen; confirm the type of a type-only item), each through
`pipeline.services.review`: the rules that `pipeline review resolve` and `review confirm-type`
follow too. URLs carry item ids only; patient data goes in POST bodies."""

from __future__ import annotations

import logging
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import (
    BirthDateNotConfirmedError,
    DocumentTypeRequiredError,
    NotFoundError,
    PatientIndexError,
    ReviewDecisionError,
    StorageError,
)
from pipeline.records import ReviewKind, ReviewResolution
from pipeline.review import pages
from pipeline.review.item_page import closed_item, item_of, item_page, open_item
from pipeline.review.web import ReviewContext, context, current_user, may_reopen, posted_form
from pipeline.services import patients as chooser
from pipeline.services import review

log = logging.getLogger(__name__)

router = APIRouter(prefix="/items/{item_id}")


@router.get("")
def show(request: Request, item_id: int, user: str = Depends(current_user),
         ctx: ReviewContext = Depends(context)) -> Response:
    item = item_of(ctx, item_id)
    shown = "shown (closed without filing)" if item.resolution == ReviewResolution.CLOSED_UNFILED else "shown"
    return item_page(request, ctx, user, item, access=shown, notice=request.session.pop("notice", None))


@router.get("/pages/{number}.png")
def page_image(item_id: int, number: int, user: str = Depends(current_user),
               ctx: ReviewContext = Depends(context)) -> Response:
    doc = ctx.manifest.get(item_of(ctx, item_id).document_id)
    png = pages.page_png(ctx.store, doc, number)
    ctx.manifest.record_access(user, "viewed", document_id=doc.document_id,
                               reason=f"review item {item_id}: page {number} image")
    return Response(png, media_type="image/png")


@router.post("/patients")
def find_patients(request: Request, item_id: int, user: str = Depends(current_user),
                  form: dict[str, str] = Depends(posted_form), ctx: ReviewContext = Depends(context)) -> Response:
    item = open_item(ctx, item_id)
    try:
        birth_date = date.fromisoformat(form["search_birth_date"]) if form.get("search_birth_date") else None
    except ValueError:
        return item_page(request, ctx, user, item, status=400, access="patient search refused (bad birth date)",
                         form=form, search_error="Enter the birth date as YYYY-MM-DD.")
    result = chooser.search(ctx.manifest.engine, ctx.matcher, item.identifiers, mrn=form.get("search_mrn", ""),
                            family=form.get("search_family", ""), given=form.get("search_given", ""),
                            birth_date=birth_date)
    return item_page(request, ctx, user, item, access=f"patient search, {len(result.choices)} found", form=form,
                     results=result.choices, search_error=result.message, searched=True)


@router.post("/resolve")
def resolve(request: Request, item_id: int, user: str = Depends(current_user),
            form: dict[str, str] = Depends(posted_form), ctx: ReviewContext = Depends(context)) -> Response:
    item = open_item(ctx, item_id)
    mrn = form.get("patient_mrn", "")
    if not mrn:
        return item_page(request, ctx, user, item, status=400, access="not filed (no patient)", form=form,
                         error="Choose the patient: one of the candidates, or search by MRN or by name "
                               "and birth date and pick one of the results.")
    try:
        doc = review.resolve(ctx.manifest, item_id, actor=user, patient_mrn=mrn, doc_type=form.get("doc_type"),
                             types=ctx.types, note=form.get("note") or None,
                             confirm_birth_date_mismatch=form.get("confirm_dob") == mrn)
    except DocumentTypeRequiredError:
        return item_page(request, ctx, user, item, status=400, access="not filed (no document type)", form=form,
                         error="Choose the document type from the list.")
    except (NotFoundError, PatientIndexError) as exc:
        return item_page(request, ctx, user, item, status=400, access="not filed (patient not found)", form=form,
                         error=f"{exc.message}.")
    except BirthDateNotConfirmedError as exc:
        candidate = next((c for c in item.candidates if c.patient_id == exc.patient_id), None)
        choice = chooser.choice_for(ctx.manifest.engine, exc.patient_id, item.identifiers, candidate)
        return item_page(request, ctx, user, item, status=409, form={**form, "patient_mrn": exc.patient_mrn},
                         access="not filed yet (birth date differs; confirmation asked)", confirm=choice)
    except ReviewDecisionError as exc:  # a type-only item: its document is filed already
        return item_page(request, ctx, user, item, status=409, access="not filed (type-only item)", form=form,
                         error=f"{exc.message}.")
    except StorageError:
        open_item(ctx, item_id)  # resolved by someone else meanwhile: 409; else the storage error stands
        raise
    log.info("review item %d: document %s filed by %s as %s", item_id, doc.document_id, user, doc.doc_type)
    request.session["notice"] = f"Review item {item_id} filed (document {doc.document_id[:8]})."
    return RedirectResponse("/queue", status_code=303)


@router.post("/confirm-type")
def confirm_type(request: Request, item_id: int, user: str = Depends(current_user),
                 form: dict[str, str] = Depends(posted_form), ctx: ReviewContext = Depends(context)) -> Response:
    item = open_item(ctx, item_id)
    try:
        doc = review.confirm_type(ctx.manifest, item_id, actor=user, doc_type=form.get("doc_type"), types=ctx.types,
                                  note=form.get("note") or None)
    except DocumentTypeRequiredError:
        return item_page(request, ctx, user, item, status=400, access="type not confirmed (no document type)",
                         form=form, error="Choose the document type from the list.")
    except ReviewDecisionError as exc:
        return item_page(request, ctx, user, item, status=409, access="type not confirmed (not type-only)",
                         form=form, error=f"{exc.message}.")
    except StorageError:
        open_item(ctx, item_id)  # settled by someone else meanwhile: 409; else the storage error stands
        raise
    log.info("review item %d: type of document %s confirmed by %s as %s", item_id, doc.document_id, user,
             doc.doc_type)
    request.session["notice"] = f"Review item {item_id}: type confirmed as {doc.type_display or doc.doc_type}."
    return RedirectResponse("/queue", status_code=303)


@router.post("/reject")
def reject(request: Request, item_id: int, user: str = Depends(current_user),
           form: dict[str, str] = Depends(posted_form), ctx: ReviewContext = Depends(context)) -> Response:
    item = open_item(ctx, item_id)
    reason = form.get("reject_reason", "")
    if not reason:
        return item_page(request, ctx, user, item, status=400, access="not closed (no reason)", form=form,
                         reject_error="Say why the patient cannot be identified; it goes into the access log.")
    try:
        review.close_unfiled(ctx.manifest, item_id, actor=user, reason=reason)
    except ReviewDecisionError as exc:  # a type-only item: its document is filed to a certain patient
        return item_page(request, ctx, user, item, status=409, access="not closed (type-only item)", form=form,
                         error=f"{exc.message}.")
    except StorageError:
        open_item(ctx, item_id)
        raise
    log.info("review item %d: closed without filing by %s (cannot identify)", item_id, user)
    request.session["notice"] = f"Review item {item_id} closed without filing (cannot identify)."
    return RedirectResponse("/queue", status_code=303)


@router.post("/reopen")
def reopen(request: Request, item_id: int, user: str = Depends(may_reopen),
           form: dict[str, str] = Depends(posted_form), ctx: ReviewContext = Depends(context)) -> Response:
    item = closed_item(ctx, item_id)
    reason = form.get("reopen_reason", "")
    if not reason:
        return item_page(request, ctx, user, item, status=400, access="not reopened (no reason)", form=form,
                         reopen_error="Say why the item is reopened (e.g. the patient is now registered); "
                                      "it goes into the access log.")
    try:
        review.reopen(ctx.manifest, item_id, actor=user, reason=reason)
    except StorageError:
        closed_item(ctx, item_id)  # reopened or filed by someone else meanwhile: 409; else the storage error stands
        raise
    log.info("review item %d: reopened by %s", item_id, user)
    request.session["notice"] = f"Review item {item_id} reopened: it is back in the review queue."
    return RedirectResponse(f"/items/{item_id}", status_code=303)
