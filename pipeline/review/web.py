"""What every route of the review app shares: the context it serves (manifest, store, type list,
matcher, templates, configuration), the dependencies that give a handler its user and its posted
form, rendering, and the two ways a request ends early (sign in first; a page saying what happened).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
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
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: largest form body accepted
MAX_FORM_BYTES = 64 * 1024
#: where a sign-in may send the clerk back to
NEXT_PAGE = re.compile(r"^/(queue|closed|dashboard|items/\d+)$")


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What the app serves; built once by `create_app`, handed to handlers by `Depends(context)`."""

    manifest: Manifest
    store: ObjectStore
    types: TypeList
    matcher: Matcher
    config: ReviewConfig
    templates: Jinja2Templates


class LoginRequired(Exception):
    """No user id yet: the clerk signs in first."""


class PageError(Exception):
    """A request that cannot be served; shown as a page saying what happened and what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def context(request: Request) -> ReviewContext:
    return request.app.state.review


def user_or_none(request: Request, config: ReviewConfig) -> str | None:
    if config.trust_remote_user:
        return identity.valid_user_id(request.headers.get(identity.REMOTE_USER_HEADER))
    return identity.valid_user_id(request.session.get("user"))


def current_user(request: Request, ctx: ReviewContext = Depends(context)) -> str:
    """The signed-in clerk (or the proxy's user); else to the sign-in page, or a 401 behind a proxy."""
    user = user_or_none(request, ctx.config)
    if user is None:
        if ctx.config.trust_remote_user:
            raise PageError(401, "Not signed in",
                            f"The reverse proxy did not send the {identity.REMOTE_USER_HEADER} header. "
                            "Open the review app through the proxy, or ask your administrator.")
        raise LoginRequired()
    return user


async def posted_form(request: Request) -> dict[str, str]:
    """The form posted, size-limited and checked against the session's CSRF token."""
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


def render(request: Request, name: str, status: int = 200, **values: Any) -> Response:
    """A template with the signed-in user, the CSRF token and the sign-in mode filled in."""
    ctx = context(request)
    values.setdefault("user", user_or_none(request, ctx.config))
    values["csrf"] = identity.csrf_token(request.session)
    values["trust_remote_user"] = ctx.config.trust_remote_user
    return ctx.templates.TemplateResponse(request, name, values, status_code=status)
