"""Users for an admin: the list, adding one (with a first password to hand over), disabling and
enabling, through the same use cases as `pipeline users` (`pipeline.services.users`). Changing a
user's password or role stays on the command line. User names go in POST bodies."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import AccountError
from pipeline.records import Role
from pipeline.review.web import PageError, ReviewContext, context, may_manage_users, posted_form, render
from pipeline.services import users

log = logging.getLogger(__name__)

router = APIRouter()


def users_page(request: Request, ctx: ReviewContext, status: int = 200, **values: object) -> Response:
    return render(request, "users.html", status, accounts=users.list_users(ctx.accounts),
                  roles=[str(r) for r in Role], notice=request.session.pop("notice", None), **values)


@router.get("/users")
def list_users(request: Request, user: str = Depends(may_manage_users), ctx: ReviewContext = Depends(context)) -> Response:
    return users_page(request, ctx)


@router.post("/users")
def add_user(request: Request, user: str = Depends(may_manage_users), form: dict[str, str] = Depends(posted_form),
             ctx: ReviewContext = Depends(context)) -> Response:
    role = form.get("role", "")
    if role not in {str(r) for r in Role}:
        return users_page(request, ctx, 400, error="Choose the role from the list.", form=form)
    try:
        added = users.add_user(ctx.accounts, form.get("name", ""), Role(role), form.get("password", ""))
    except AccountError as exc:
        return users_page(request, ctx, 400, error=f"{exc}.", form=form)
    log.info("user %s added as %s by %s", added.name, added.role, user)
    request.session["notice"] = f"{added.name} added as {added.role}. Hand them the password; they sign in with it."
    return RedirectResponse("/users", status_code=303)


@router.post("/users/enabled")
def set_enabled(request: Request, user: str = Depends(may_manage_users), form: dict[str, str] = Depends(posted_form),
                ctx: ReviewContext = Depends(context)) -> Response:
    name, enabled = form.get("name", ""), form.get("enabled") == "1"
    if name == user and not enabled:
        raise PageError(400, "Not disabled", "You cannot disable yourself. Ask another admin.")
    try:
        changed = users.set_enabled(ctx.accounts, name, enabled)
    except AccountError as exc:
        raise PageError(404, "No such user", f"{exc}.") from exc
    log.info("user %s %s by %s", changed.name, "enabled" if enabled else "disabled", user)
    request.session["notice"] = f"{changed.name} {'enabled' if enabled else 'disabled; their sessions ended'}."
    return RedirectResponse("/users", status_code=303)
