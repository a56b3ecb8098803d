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
    POST /items/{id}/reopen           put an item closed without filing back in the open queue (reason
                                      required; supervisor)
    GET/POST /records                 search the filed documents (patient MRN, type, dates, words)
    GET  /records/{id}                one filed document: pages, text, versions; its access log (supervisor)
    GET  /records/{id}/pages/{n}.png  page n of a filed document
    POST /records/{id}/refile         move it to another patient (supervisor; reason required)
    POST /records/{id}/release        release the patient's chart to a requester (supervisor): a zip
    GET  /access-log                  the latest access-log entries (supervisor)
    GET/POST /users, POST /users/enabled   list, add, disable and enable users (admin)
    POST /items/{id}/confirm-type     a type-only item: confirm (or correct) the type of its filed document
    GET/POST /login, POST /logout     sign-in with name and password (see identity.py for the proxy mode)
    GET  /static/review.js            the keyboard shortcuts (the pages work without it)
    POST /items/{id}/split|rotate|drop-page|merge   page surgery: new versions (routes/surgery.py)
    GET  /dashboard                   the supervisor's figures and charts (routes/dashboard.py)

The routes are small handlers in routers (`routes/signin.py`, `routes/lists.py`, `routes/items.py`,
`routes/records.py`, `routes/audit.py`, `routes/admin.py`) that get what they need through dependencies (`web.py`: the
context, the user with the capability the route needs, the posted form).
Every decision goes through `pipeline.services.review`, as `pipeline review resolve` does: the same
rules (a document type from the list; filing to a patient whose birth date is not the document's
needs an explicit confirmation), and the confirmed type teaches `pipeline train --from-reviews`.
A document closed without filing is never lost from view: it stays on /closed until it is reopened
(`services.review.reopen`) and filed. Every page shown and every decision is written to the access
log with the signed-in user's name. URLs carry item and document ids only; patient search goes in a POST body. Logs carry item
and document ids, never names, birth dates or MRNs.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from pipeline.classify.types import load_types
from pipeline.errors import NotFoundError, PipelineError
from pipeline.patients.matcher import Matcher
from pipeline.review import identity
from pipeline.review.identity import ReviewConfig
from pipeline.review.limits import BodyLimit
from pipeline.review.routes import admin, audit, dashboard, items, lists, records, signin, surgery
from pipeline.review.web import HERE, NEXT_PAGE, LoginRequired, PageError, ReviewContext, render
from pipeline.services.home import open_home
from pipeline.settings import Settings

log = logging.getLogger(__name__)

_SECURITY_HEADERS = {
    "Cache-Control": "no-store",  # pages hold patient data: never cached by the browser or a proxy
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'",
}


def create_app(settings: Settings, config: ReviewConfig) -> FastAPI:
    """The web app over the home (or database and store) the settings name. Middleware, outermost
    first: the body limit, the allowed hosts, the session cookie, the security headers."""
    home = open_home(settings)
    app = FastAPI(title="pipeline review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=long_lived)
    app.state.review = ReviewContext(
        manifest=home.manifest, store=home.store, types=load_types(settings.types_path),
        matcher=Matcher.from_settings(settings, home.manifest.engine), config=config,
        templates=Jinja2Templates(directory=HERE / "templates"))  # autoescapes .html
    app.add_middleware(SessionMiddleware, secret_key=config.secret, session_cookie=identity.COOKIE_NAME,
                       max_age=config.session_minutes * 60, same_site="strict", https_only=config.https_only)
    app.middleware("http")(security_headers)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts))
    app.add_middleware(BodyLimit)
    surgery.install(app, settings)
    for router in (signin.router, lists.router, items.router, records.router, audit.router, admin.router,
                   surgery.router, dashboard.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for error, handler in ERROR_PAGES.items():
        app.add_exception_handler(error, handler)
    return app


@asynccontextmanager
async def long_lived(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, what start-up made (modules, the app, the type list, the matcher, the
    classifier: ~150,000 objects) is left out of Python's full garbage collections, which otherwise
    walk it all (~100 ms on this 2-core machine) every few queue pages: the slowest views were those.
    It is still freed as usual when nothing refers to it; at shutdown it is handed back to the collector."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def security_headers(request: Request, call_next: Any) -> Response:
    response = await call_next(request)
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


# ------------------------------------------------------------------------- error pages


async def to_login(request: Request, exc: LoginRequired) -> Response:
    target = request.url.path if NEXT_PAGE.match(request.url.path) else "/queue"
    return RedirectResponse(f"/login?next={target}", status_code=303)


async def page_error(request: Request, exc: PageError) -> Response:
    return render(request, "error.html", exc.status, title=exc.title, message=exc.message)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        return render(request, "error.html", 404, title="Not found",
                      message="There is no such page. Go back to the review queue.")
    return render(request, "error.html", exc.status_code, title="Request refused", message=str(exc.detail))


async def not_found(request: Request, exc: NotFoundError) -> Response:
    return render(request, "error.html", 404, title="Not found",
                  message=f"{exc.message}. It may have been removed; go back to the review queue.")


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """A malformed id in the URL is a page that does not exist; a malformed query, a bad request."""
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return await http_error(request, StarletteHTTPException(404))
    return render(request, "error.html", 400, title="Request not understood",
                  message="Part of the address is not understood. Go back and try again.")


async def pipeline_error(request: Request, exc: PipelineError) -> Response:
    log.warning("review app: %s at %s", type(exc).__name__, request.url.path)
    return render(request, "error.html", 500, title="Something went wrong",
                  message=f"{exc} Nothing more was changed. Try again; if it keeps happening, "
                          "tell your administrator.")


#: error -> the page that says what happened (the most specific class wins)
ERROR_PAGES = {LoginRequired: to_login, PageError: page_error, StarletteHTTPException: http_error,
               NotFoundError: not_found, PipelineError: pipeline_error,
               RequestValidationError: invalid_request}
