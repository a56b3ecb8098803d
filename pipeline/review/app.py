"""The review queue in the browser: a clerk sees the page, checks the patient and the type, files it.

    GET  /queue[?kind=K]              open items, oldest first, filterable by reason kind
    GET  /items/{id}                  one item: the pages with each identifier read highlighted on them
                                      (highlights.py), what the paper says, the candidates, the form
    GET  /items/{id}/pages/{n}.png    page n of the document, rendered on the server
    POST /items/{id}/patients         search the patient index (MRN, or name and birth date)
    POST /items/{id}/resolve          file the document to the chosen patient with the chosen type
    POST /items/{id}/reject           close the item without filing: the patient cannot be identified
    GET  /closed                      items closed without filing whose document is still unfiled
                                      (the unidentified worklist); each opens read-only on /items/{id}
    POST /items/{id}/reopen           put an item closed without filing back in the open queue (reason required)
    GET/POST /login, POST /logout     the clerk's user id (see identity.py for the proxy-header mode)

Every decision goes through `pipeline.services.review`, as `pipeline review resolve` does: the same
rules (a document type from the list; filing to a patient whose birth date is not the document's
needs an explicit confirmation), and the confirmed type teaches `pipeline train --from-reviews`.
A document closed without filing is never lost from view: it stays on /closed until it is reopened
(`services.review.reopen`) and filed. Every page shown and every decision is written to the access log with the user id. URLs carry item ids only;
patient search goes in a POST body. Logs carry item and document ids, never names, birth dates or MRNs.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from pipeline.classify.types import load_types
from pipeline.errors import (
    BirthDateNotConfirmedError,
    DocumentTypeRequiredError,
    InputError,
    NotFoundError,
    PatientIndexError,
    PipelineError,
    StorageError,
)
from pipeline.patients.matcher import Matcher
from pipeline.records import ReviewResolution, ReviewStatus
from pipeline.review import highlights, identity, pages, queue
from pipeline.review.identity import ReviewConfig
from pipeline.services import patients as chooser
from pipeline.services import review
from pipeline.services.home import open_home
from pipeline.settings import Settings
from pipeline.store.manifest import Manifest
from pipeline.store.rows import ReviewItem

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: open items the queue page reads at most (oldest first)
QUEUE_LIMIT = 2000
#: largest form body accepted
MAX_FORM_BYTES = 64 * 1024
#: the identifiers of "What the paper says", in order, as the clerk reads them
FIELD_LABELS = {"family_name": "Family name", "given_name": "Given name", "birth_date": "Birth date", "mrn": "MRN",
                "sex": "Sex", "phone": "Phone", "address": "Address", "postcode": "Postcode", "account": "Account",
                "accession": "Accession", "date_of_service": "Date of service",
                "doc_type_hint": "Type on cover sheet"}
_NEXT = re.compile(r"^/(queue|closed|items/\d+)$")
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",  # pages hold patient data: never cached by the browser or a proxy
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
}


class LoginRequired(Exception):
    """No user id yet: the clerk signs in first."""


class PageError(Exception):
    """A request that cannot be served; shown as a page saying what happened and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def create_app(settings: Settings, config: ReviewConfig) -> FastAPI:
    """The web app over the home (or database and store) the settings name."""
    home = open_home(settings)
    manifest, store = home.manifest, home.store
    types = load_types(settings.types_path)
    matcher = Matcher.from_settings(settings, manifest.engine)
    templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html
    app = FastAPI(title="pipeline review", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=config.secret, session_cookie=identity.COOKIE_NAME,
                       max_age=config.session_minutes * 60, same_site="strict", https_only=config.https_only)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    # ------------------------------------------------------------------------- plumbing

    def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("user", _user_or_none(request, config))
        context["csrf"] = identity.csrf_token(request.session)
        context["trust_remote_user"] = config.trust_remote_user
        return templates.TemplateResponse(request, name, context, status_code=status)

    def current_user(request: Request) -> str:
        user = _user_or_none(request, config)
        if user is None:
            if config.trust_remote_user:
                raise PageError(401, "Not signed in",
                                f"The reverse proxy did not send the {identity.REMOTE_USER_HEADER} header. "
                                "Open the review app through the proxy, or ask your administrator.")
            raise LoginRequired()
        return user

    async def posted_form(request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "Form too large", "The form sent is too large. Go back and try again.")
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
        except (UnicodeDecodeError, ValueError) as exc:
            raise PageError(400, "Form not understood", "Go back, reload the page and try again.") from exc
        form = {key: values[0].strip() for key, values in parsed.items()}
        if not identity.csrf_ok(request.session, form.get("csrf")):
            log.warning("review app: form refused at %s (missing or wrong CSRF token)", request.url.path)
            raise PageError(403, "Form expired",
                            "This form is out of date or did not come from this review app, so nothing was "
                            "changed. Reload the page and do it again.")
        return form

    def open_item(item_id: int) -> ReviewItem:
        item = _item(manifest, item_id)
        if item.status != ReviewStatus.OPEN:
            raise PageError(409, "Already resolved", _resolved_message(item))
        return item

    def item_page(request: Request, user: str, item: ReviewItem, *, access: str, status: int = 200,
                  **extra: Any) -> Response:
        """The item page; showing it is a view of the document, so it is logged."""
        doc = manifest.get(item.document_id)
        manifest.record_access(user, "viewed", document_id=item.document_id, reason=f"review item {item.id}: {access}")
        form = extra.pop("form", {})
        closed = review.is_closed_unfiled(item, doc)
        if closed:
            extra.setdefault("closed_reason", manifest.review_note(item.id))
        candidates = chooser.candidate_choices(manifest.engine, item.candidates, item.identifiers)
        chosen = form.get("patient_mrn", "")
        if chosen and "results" not in extra and chosen not in {c.mrn for c in candidates}:
            # a patient picked from an earlier search stays on the page, still chosen
            extra["results"] = chooser.search(manifest.engine, matcher, item.identifiers, mrn=chosen).choices
        try:
            marks = highlights.for_document(store, doc, item.identifiers.evidence)
        except (StorageError, InputError) as exc:  # the page image will say what is wrong; the item is still shown
            log.warning("review item %d: identifiers not located on the page images (%s)", item.id,
                        type(exc).__name__)
            marks = highlights.Highlights()
        return render(
            request, "item.html", status, item=item, doc=doc, types=list(types),
            doc_type=form.get("doc_type") or item.predicted_doc_type or doc.doc_type or "",
            chosen_mrn=chosen, note=form.get("note", ""), form=form,
            reasons=queue.all_reasons(item), identifiers=_identifier_rows(item),
            evidence=item.identifiers.evidence, highlights=marks,
            found_by={e.field: e for e in item.identifiers.evidence}, field_labels=FIELD_LABELS,
            candidates=candidates,
            resolved=item.status != ReviewStatus.OPEN, resolved_message=_resolved_message(item), closed=closed,
            **extra)

    # --------------------------------------------------------------------------- errors

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path if _NEXT.match(request.url.path) else "/queue"
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return render(request, "error.html", exc.status, title=exc.title, message=exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return render(request, "error.html", 404, title="Not found",
                          message="There is no such page. Go back to the review queue.")
        return render(request, "error.html", exc.status_code, title="Request refused", message=str(exc.detail))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return render(request, "error.html", 404, title="Not found",
                      message=f"{exc.message}. It may have been removed; go back to the review queue.")

    # --------------------------------------------------------------------------- sign-in

    @app.get("/")
    def home() -> Response:
        return RedirectResponse("/queue", status_code=303)

    @app.get("/review.css")
    def stylesheet() -> Response:
        return FileResponse(HERE / "templates" / "review.css", media_type="text/css")

    @app.get("/login")
    def login_form(request: Request, next: str = "/queue") -> Response:
        if config.trust_remote_user:
            return RedirectResponse("/queue", status_code=303)
        return render(request, "login.html", next=next if _NEXT.match(next) else "/queue", error=None)

    @app.post("/login")
    def login(request: Request, form: dict[str, str] = Depends(posted_form)) -> Response:
        target = form.get("next", "") if _NEXT.match(form.get("next", "")) else "/queue"
        user = identity.valid_user_id(form.get("user"))
        if user is None:
            return render(request, "login.html", 400, next=target,
                          error="Enter your user id: letters, digits and . _ @ - only, at most 64.")
        request.session.clear()
        request.session["user"] = user
        identity.new_csrf_token(request.session)
        log.info("review app: %s signed in", user)
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    def logout(request: Request, form: dict[str, str] = Depends(posted_form)) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ----------------------------------------------------------------------------- queue

    @app.get("/queue")
    def queue_page(request: Request, kind: str = "", user: str = Depends(current_user)) -> Response:
        items = manifest.open_review_items(limit=QUEUE_LIMIT)
        kind = kind if kind in queue.KIND_LABELS else ""
        shown = [item for item in items if not kind or kind in queue.kinds_of(item)]
        manifest.record_access(user, "viewed", reason=f"review queue: {len(shown)} items listed")
        now = datetime.now(UTC)
        rows = [{"item": item, "age": queue.age(item.created_at, now), "reasons": queue.all_reasons(item),
                 "type": types[item.predicted_doc_type].display if item.predicted_doc_type in types
                 else item.predicted_doc_type, "best": item.candidates[0] if item.candidates else None}
                for item in shown]
        return render(request, "queue.html", rows=rows, total=len(items), more=len(items) >= QUEUE_LIMIT,
                      kinds=queue.kind_counts(items), kind=kind, kind_label=queue.KIND_LABELS.get(kind),
                      closed_count=manifest.count_closed_review_items(), notice=request.session.pop("notice", None))

    @app.get("/closed")
    def closed_page(request: Request, user: str = Depends(current_user)) -> Response:
        closed = manifest.closed_review_items(limit=QUEUE_LIMIT)
        manifest.record_access(user, "viewed", reason=f"closed without filing: {len(closed)} items listed")
        now = datetime.now(UTC)
        rows = [{"item": item, "doc": doc, "reason": note, "age": queue.age(item.created_at, now)}
                for item, doc, note in closed]
        return render(request, "closed.html", rows=rows, more=len(closed) >= QUEUE_LIMIT,
                      notice=request.session.pop("notice", None))

    # ------------------------------------------------------------------------------ item

    @app.get("/items/{item_id}")
    def show(request: Request, item_id: int, user: str = Depends(current_user)) -> Response:
        item = _item(manifest, item_id)
        shown = "shown (closed without filing)" if item.resolution == ReviewResolution.CLOSED_UNFILED else "shown"
        return item_page(request, user, item, access=shown, notice=request.session.pop("notice", None))

    @app.get("/items/{item_id}/pages/{number}.png")
    def page_image(item_id: int, number: int, user: str = Depends(current_user)) -> Response:
        item = _item(manifest, item_id)
        doc = manifest.get(item.document_id)
        png = pages.page_png(store, doc, number)
        manifest.record_access(user, "viewed", document_id=doc.document_id,
                               reason=f"review item {item_id}: page {number} image")
        return Response(png, media_type="image/png")

    @app.post("/items/{item_id}/patients")
    def find_patients(request: Request, item_id: int, user: str = Depends(current_user),
                      form: dict[str, str] = Depends(posted_form)) -> Response:
        item = open_item(item_id)
        try:
            birth_date = date.fromisoformat(form["search_birth_date"]) if form.get("search_birth_date") else None
        except ValueError:
            return item_page(request, user, item, status=400, access="patient search refused (bad birth date)",
                             form=form, search_error="Enter the birth date as YYYY-MM-DD.")
        result = chooser.search(manifest.engine, matcher, item.identifiers, mrn=form.get("search_mrn", ""),
                                family=form.get("search_family", ""), given=form.get("search_given", ""),
                                birth_date=birth_date)
        return item_page(request, user, item, access=f"patient search, {len(result.choices)} found", form=form,
                         results=result.choices, search_error=result.message, searched=True)

    @app.post("/items/{item_id}/resolve")
    def resolve(request: Request, item_id: int, user: str = Depends(current_user),
                form: dict[str, str] = Depends(posted_form)) -> Response:
        item = open_item(item_id)
        mrn = form.get("patient_mrn", "")
        if not mrn:
            return item_page(request, user, item, status=400, access="not filed (no patient)", form=form,
                             error="Choose the patient: one of the candidates, or search by MRN or by name "
                                   "and birth date and pick one of the results.")
        try:
            doc = review.resolve(manifest, item_id, actor=user, patient_mrn=mrn, doc_type=form.get("doc_type"),
                                 types=types, note=form.get("note") or None,
                                 confirm_birth_date_mismatch=form.get("confirm_dob") == mrn)
        except DocumentTypeRequiredError:
            return item_page(request, user, item, status=400, access="not filed (no document type)", form=form,
                             error="Choose the document type from the list.")
        except (NotFoundError, PatientIndexError) as exc:
            return item_page(request, user, item, status=400, access="not filed (patient not found)", form=form,
                             error=f"{exc.message}.")
        except BirthDateNotConfirmedError as exc:
            candidate = next((c for c in item.candidates if c.patient_id == exc.patient_id), None)
            choice = chooser.choice_for(manifest.engine, exc.patient_id, item.identifiers, candidate)
            return item_page(request, user, item, status=409, form={**form, "patient_mrn": exc.patient_mrn},
                             access="not filed yet (birth date differs; confirmation asked)", confirm=choice)
        except StorageError:
            open_item(item_id)  # resolved by someone else meanwhile: 409; else the storage error stands
            raise
        log.info("review item %d: document %s filed by %s as %s", item_id, doc.document_id, user, doc.doc_type)
        request.session["notice"] = f"Review item {item_id} filed (document {doc.document_id[:8]})."
        return RedirectResponse("/queue", status_code=303)

    @app.post("/items/{item_id}/reject")
    def reject(request: Request, item_id: int, user: str = Depends(current_user),
               form: dict[str, str] = Depends(posted_form)) -> Response:
        item = open_item(item_id)
        reason = form.get("reject_reason", "")
        if not reason:
            return item_page(request, user, item, status=400, access="not closed (no reason)", form=form,
                             reject_error="Say why the patient cannot be identified; it goes into the access log.")
        try:
            review.close_unfiled(manifest, item_id, actor=user, reason=reason)
        except StorageError:
            open_item(item_id)
            raise
        log.info("review item %d: closed without filing by %s (cannot identify)", item_id, user)
        request.session["notice"] = f"Review item {item_id} closed without filing (cannot identify)."
        return RedirectResponse("/queue", status_code=303)

    def closed_item(item_id: int) -> ReviewItem:
        item = _item(manifest, item_id)
        if not review.is_closed_unfiled(item, manifest.get(item.document_id)):
            raise PageError(409, "Cannot reopen", _not_reopened_message(item))
        return item

    @app.post("/items/{item_id}/reopen")
    def reopen(request: Request, item_id: int, user: str = Depends(current_user),
               form: dict[str, str] = Depends(posted_form)) -> Response:
        item = closed_item(item_id)
        reason = form.get("reopen_reason", "")
        if not reason:
            return item_page(request, user, item, status=400, access="not reopened (no reason)", form=form,
                             reopen_error="Say why the item is reopened (e.g. the patient is now registered); "
                                          "it goes into the access log.")
        try:
            review.reopen(manifest, item_id, actor=user, reason=reason)
        except StorageError:
            closed_item(item_id)  # reopened or filed by someone else meanwhile: 409; else the storage error stands
            raise
        log.info("review item %d: reopened by %s", item_id, user)
        request.session["notice"] = f"Review item {item_id} reopened: it is back in the review queue."
        return RedirectResponse(f"/items/{item_id}", status_code=303)

    @app.exception_handler(PipelineError)
    async def pipeline_error(request: Request, exc: PipelineError) -> Response:
        log.warning("review app: %s at %s", type(exc).__name__, request.url.path)
        return render(request, "error.html", 500, title="Something went wrong",
                      message=f"{exc} Nothing more was changed. Try again; if it keeps happening, "
                              "tell your administrator.")

    return app


# -------------------------------------------------------------------------------- helpers


def _user_or_none(request: Request, config: ReviewConfig) -> str | None:
    if config.trust_remote_user:
        return identity.valid_user_id(request.headers.get(identity.REMOTE_USER_HEADER))
    return identity.valid_user_id(request.session.get("user"))


def _item(manifest: Manifest, item_id: int) -> ReviewItem:
    try:
        return manifest.review_item(item_id)
    except NotFoundError as exc:
        raise PageError(404, "No such review item",
                        f"There is no review item {item_id}. Check the number, or go back to the review queue "
                        "and pick the item from the list.") from exc


def _resolved_message(item: ReviewItem) -> str:
    if item.status == ReviewStatus.OPEN:
        return ""
    when = f"{item.resolved_at:%Y-%m-%d %H:%M} UTC" if item.resolved_at else "earlier"
    what = "filed to a patient" if item.resolution is ReviewResolution.FILED else "closed without filing"
    then = ("to file it after all, reopen it from \"Closed without filing\""
            if item.resolution is ReviewResolution.CLOSED_UNFILED
            else "to move a document filed to the wrong patient, use `pipeline refile`")
    return (f"Review item {item.id} was already {what} by {item.resolved_by} at {when}. Nothing was changed. "
            f"Go back to the queue for the next item; {then}.")


def _not_reopened_message(item: ReviewItem) -> str:
    if item.status == ReviewStatus.OPEN:
        return f"Review item {item.id} is open already: it is in the review queue. Nothing was changed."
    if item.resolution == ReviewResolution.CLOSED_UNFILED:
        return (f"The document of review item {item.id} has been filed since the item was closed. Nothing was "
                "changed; to move a document filed to the wrong patient, use `pipeline refile`.")
    return (f"Review item {item.id} was filed to a patient by {item.resolved_by}; only an item closed without "
            "filing can be reopened. Nothing was changed; to move a document filed to the wrong patient, "
            "use `pipeline refile`.")


def _identifier_rows(item: ReviewItem) -> list[tuple[str, str, str]]:
    """(field, label, value) of each identifier the paper gave."""
    ids = item.identifiers
    rows = []
    for name, label in FIELD_LABELS.items():
        value = getattr(ids, name)
        if value:
            rows.append((name, label, value.isoformat() if isinstance(value, date) else str(value)))
    return rows
