"""The filed record: search the filed documents, open one (pages, text, versions; its access log for
a supervisor), refile it to another patient and release a patient's chart (supervisor), each through
the use cases `pipeline search / get / refile / release` call (`pipeline.services.documents`,
`pipeline.services.release`). URLs carry document ids only; MRNs and search words go in POST bodies."""

from __future__ import annotations

import logging
import re
import tempfile
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import NotFoundError, PatientIndexError, ReviewDecisionError, StorageError
from pipeline.review import pages
from pipeline.review.web import (
    PageError,
    ReviewContext,
    context,
    may_refile,
    may_release,
    may_review,
    posted_form,
    render,
)
from pipeline.services import documents, users
from pipeline.services.release import release
from pipeline.services.users import Capability
from pipeline.store.rows import StoredDocument

log = logging.getLogger(__name__)

router = APIRouter()

#: documents a search lists at most
SEARCH_LIMIT = 100
_DOCUMENT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def filed(ctx: ReviewContext, document_id: str) -> StoredDocument:
    """The document, if the id could be one and it exists; else the 404 page."""
    if _DOCUMENT_ID.match(document_id):
        try:
            return ctx.manifest.get(document_id)
        except NotFoundError:
            pass
    raise PageError(404, "No such document", f"There is no filed document {document_id[:40]}. Search for it "
                    "on the Filed records page.")


@router.get("/records")
def search_form(request: Request, user: str = Depends(may_review), ctx: ReviewContext = Depends(context)) -> Response:
    return render(request, "records.html", types=list(ctx.types), form={}, results=None)


@router.post("/records")
def search(request: Request, user: str = Depends(may_review), form: dict[str, str] = Depends(posted_form),
           ctx: ReviewContext = Depends(context)) -> Response:
    problems = []
    bounds: dict[str, date | None] = {}
    for field in ("date_from", "date_to"):
        try:
            bounds[field] = date.fromisoformat(form[field]) if form.get(field) else None
        except ValueError:
            problems.append("Enter dates as YYYY-MM-DD.")
            bounds[field] = None
    doc_type = form.get("doc_type") or None
    if doc_type is not None and doc_type not in ctx.types:
        problems.append("Choose the document type from the list.")
    if problems:
        return render(request, "records.html", 400, types=list(ctx.types), form=form, results=None,
                      error=" ".join(dict.fromkeys(problems)))
    results = documents.search(ctx.manifest, actor=user, patient_mrn=form.get("mrn") or None, doc_type=doc_type,
                               date_from=bounds["date_from"], date_to=bounds["date_to"], text=form.get("words") or None,
                               include_entered_in_error=form.get("all") == "1", limit=SEARCH_LIMIT)
    return render(request, "records.html", types=list(ctx.types), form=form, results=results,
                  more=len(results) >= SEARCH_LIMIT)


@router.get("/records/{document_id}")
def show(request: Request, document_id: str, ctx: ReviewContext = Depends(context),
         user: str = Depends(may_review)) -> Response:
    filed(ctx, document_id)
    record = documents.open_record(ctx.manifest, document_id, actor=user)
    role = request.state.account.role
    access = documents.access_history(ctx.manifest, record) if users.may(role, Capability.ACCESS_LOG) else None
    return render(request, "record.html", record=record, doc=record.document, access=access,
                  notice=request.session.pop("notice", None))


@router.get("/records/{document_id}/pages/{number}.png")
def page_image(document_id: str, number: int, user: str = Depends(may_review),
               ctx: ReviewContext = Depends(context)) -> Response:
    doc = filed(ctx, document_id)
    png = pages.page_png(ctx.store, doc, number)
    ctx.manifest.record_access(user, "viewed", document_id=doc.document_id, reason=f"filed record: page {number} image")
    return Response(png, media_type="image/png")


@router.post("/records/{document_id}/refile")
def refile(request: Request, document_id: str, user: str = Depends(may_refile),
           form: dict[str, str] = Depends(posted_form), ctx: ReviewContext = Depends(context)) -> Response:
    doc = filed(ctx, document_id)
    mrn, reason = form.get("refile_mrn", ""), form.get("refile_reason", "")
    if not mrn or not reason:
        raise PageError(400, "Not refiled", "Give the MRN of the patient the document belongs to and the reason "
                        "(it goes into the access log). Nothing was changed.")
    try:
        new = documents.refile(ctx.manifest, document_id, patient_mrn=mrn, reason=reason, actor=user)
    except (NotFoundError, PatientIndexError, ReviewDecisionError) as exc:
        raise PageError(400, "Not refiled", f"{exc.message}. Nothing was changed.") from exc
    except StorageError as exc:  # not current any more (refiled meanwhile): say so
        raise PageError(409, "Not refiled", f"{exc.message}. Nothing was changed.") from exc
    log.info("document %s refiled as %s by %s", document_id, new.document_id, user)
    request.session["notice"] = (f"Refiled: the old entry {document_id[:8]} is now entered-in-error; this is the "
                                 "new entry.")
    return RedirectResponse(f"/records/{new.document_id}", status_code=303)


@router.post("/records/{document_id}/release")
def release_chart(document_id: str, user: str = Depends(may_release), form: dict[str, str] = Depends(posted_form),
                  ctx: ReviewContext = Depends(context)) -> Response:
    """The patient's current filed documents as a zip for the requester; every disclosure is logged."""
    doc = filed(ctx, document_id)
    recipient, purpose = form.get("recipient", ""), form.get("purpose", "")
    if not doc.patient_mrn or not recipient or not purpose:
        raise PageError(400, "Not released", "Name the requester and the purpose; both go into the disclosure "
                        "log. Nothing was released.")
    with tempfile.TemporaryDirectory(prefix="pipeline-release-") as scratch:
        out = Path(scratch) / "release.zip"
        try:
            done = release(ctx.manifest, ctx.store, patient_mrn=doc.patient_mrn, recipient=recipient,
                           purpose=purpose, out=out, actor=user, clock=ctx.manifest.clock)
        except NotFoundError as exc:
            raise PageError(404, "Not released", f"{exc.message}. Nothing was released.") from exc
        data = out.read_bytes()
    log.info("release of %d documents by %s", len(done.documents), user)
    name = f"release-{ctx.manifest.clock():%Y%m%d-%H%M%S}.zip"
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
