"""What every route of the review app shares: the context it serves (manifest, accounts, store,
type list, matcher, templates, configuration), the dependencies that give a handler its user and its
posted form, rendering, and the two ways a request ends early (sign in first; a page saying what
happened).

Who may do what is checked here and nowhere else: one dependency per capability
(`pipeline.services.users.CAPABILITIES`). A handler names the one it needs and gets the signed-in
user's name, which the use case it calls takes as the actor:

    @router.post("/records/{document_id}/refile")
    def refile(..., user: str = Depends(may_refile)) -> Response: ...

`current_user` is `may_review` (every role works the queue). Without the capability the request gets
a 403 page; without a sign-in it goes to /login (behind a trusted proxy: a 401 page).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from pipeline.classify.types import TypeList
from pipeline.patients.matcher import Matcher
from pipeline.review import identity
from pipeline.review.identity import ReviewConfig
from pipeline.services import users
from pipeline.services.users import Capability
from pipeline.store.accounts import Accounts, User
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: largest form body accepted
MAX_FORM_BYTES = 64 * 1024
#: where a sign-in may send the clerk back to
NEXT_PAGE = re.compile(r"^/(queue|closed|records|dashboard|items/\d{1,10})$")
#: form fields kept as typed (a password may begin or end with a space)
_VERBATIM = frozenset({"password"})
#: the largest id a database integer column holds; a larger one in a URL is a 404, not a 500
MAX_ID = 2**31 - 1


class JournalCopier:
    """Copies the manifest's journal outbox to the store after a response, one copy at a time: asked
    while a copy runs, it has the running copy go round once more instead of starting another. (A copy
    writes every waiting event, each with an fsync: copies side by side, one per page view, wrote the
    same events over and over, and piled up when the disk was slow.)"""

    def __init__(self, copy: Callable[[], None]) -> None:
        self._copy = copy
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def __call__(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        try:
            while True:
                self._copy()
                with self._lock:
                    if not self._again:
                        self._running = False
                        return
                    self._again = False
        except BaseException:
            with self._lock:
                self._running = False
            raise


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What the app serves; built once by `create_app`, handed to handlers by `Depends(context)`."""

    manifest: Manifest
    store: ObjectStore
    types: TypeList
    matcher: Matcher
    config: ReviewConfig
    templates: Jinja2Templates
    accounts: Accounts = None  # type: ignore[assignment]  # default: over the manifest's database and clock
    journal_copier: JournalCopier = None  # type: ignore[assignment]  # default: the manifest's copy_journal

    def __post_init__(self) -> None:
        if self.accounts is None:
            object.__setattr__(self, "accounts", Accounts(self.manifest.engine, clock=self.manifest.clock))
        if self.journal_copier is None:
            object.__setattr__(self, "journal_copier", JournalCopier(self.manifest.copy_journal))


class LoginRequired(Exception):
    """No user id yet: the clerk signs in first."""


class PageError(Exception):
    """A request that cannot be served; shown as a page saying what happened and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def context(request: Request) -> ReviewContext:
    return request.app.state.review


def account_or_none(request: Request, ctx: ReviewContext) -> User | None:
    """The user of this request: the proxy's (trusted mode) or the live session's, else None."""
    if ctx.config.trust_remote_user:
        return users.proxy_user(ctx.accounts, request.headers.get(identity.REMOTE_USER_HEADER))
    return users.session_user(ctx.accounts, request.session.get("sid"),
                              idle=timedelta(minutes=ctx.config.session_minutes))


def signed_in(request: Request, ctx: ReviewContext = Depends(context)) -> User:
    """The signed-in user (or the proxy's); else to the sign-in page, or a 401 behind a proxy."""
    user = account_or_none(request, ctx)
    if user is None:
        if ctx.config.trust_remote_user:
            raise PageError(401, "Not signed in",
                            f"The reverse proxy did not send the {identity.REMOTE_USER_HEADER} header with a "
                            "known user. Open the review app through the proxy, or ask your administrator to "
                            "add you (`pipeline users add`).")
        request.session.pop("sid", None)
        raise LoginRequired()
    request.state.account = user
    return user


def require(capability: Capability) -> Callable[..., str]:
    """A dependency: the signed-in user's name if their role has `capability`, else a 403 page."""
    def dependency(request: Request, user: User = Depends(signed_in)) -> str:
        if not users.may(user.role, capability):
            log.warning("review app: %s (%s) refused at %s: needs %s", user.name, user.role, request.url.path,
                        capability)
            raise PageError(403, "Not allowed",
                            f"Your role ({user.role}) may not do this. Ask a supervisor, or your administrator "
                            "if you need it.")
        return user.name
    dependency.__name__ = f"may_{capability}"
    return dependency


may_review = require(Capability.REVIEW)
may_reopen = require(Capability.REOPEN)
may_refile = require(Capability.REFILE)
may_release = require(Capability.RELEASE)
may_read_access_log = require(Capability.ACCESS_LOG)
may_manage_users = require(Capability.MANAGE_USERS)
may_see_dashboard = require(Capability.DASHBOARD)
#: every signed-in user works the queue
current_user = may_review


def known_id(value: int, what: str) -> int:
    """An id from a URL, if a database could hold it; else the 404 page."""
    if not 1 <= value <= MAX_ID:
        raise PageError(404, "Not found", f"There is no {what} {value}. Check the number, or go back to the list.")
    return value


async def posted_form(request: Request) -> dict[str, str]:
    """The form posted, size-limited and checked against the session's CSRF token."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PageError(413, "Form too large", "The form sent is too large. Go back and try again.")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PageError(400, "Form not understood", "Go back, reload the page and try again.") from exc
    form = {key: values[0] if key in _VERBATIM else values[0].strip() for key, values in parsed.items()}
    if not identity.csrf_ok(request.session, form.get("csrf")):
        log.warning("review app: form refused at %s (missing or wrong CSRF token)", request.url.path)
        raise PageError(403, "Form expired",
                        "This form is out of date or did not come from this review app, so nothing was "
                        "changed. Reload the page and do it again.")
    return form


def render(request: Request, name: str, status: int = 200, **values: Any) -> Response:
    """A template with the signed-in user (name, role, what they may do), the CSRF token and the
    sign-in mode filled in."""
    ctx = context(request)
    account = getattr(request.state, "account", None) or account_or_none(request, ctx)
    values.setdefault("user", account.name if account else None)
    values["role"] = account.role if account else None
    values["can"] = {str(c) for c in users.CAPABILITIES[account.role]} if account else set()
    values["csrf"] = identity.csrf_token(request.session)
    values["trust_remote_user"] = ctx.config.trust_remote_user
    return ctx.templates.TemplateResponse(request, name, values, status_code=status)
