"""Sign-in with name and password (a server-side session, its id in the signed cookie), sign-out,
the stylesheet, `/`. Failed sign-ins are rate-limited and logged (`pipeline.services.users`)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from pipeline.review import identity
from pipeline.review.web import HERE, NEXT_PAGE, ReviewContext, context, posted_form, render
from pipeline.services import users
from pipeline.services.users import SignInRefusal

log = logging.getLogger(__name__)

router = APIRouter()

_REFUSED = {
    SignInRefusal.WRONG: "The user name or password is not right (or the account is disabled). Try again.",
    SignInRefusal.RATE_LIMITED: "Too many failed sign-ins. Wait a quarter of an hour and try again, or ask your "
                                "administrator to reset your password.",
}


@router.get("/")
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/review.css")
def stylesheet() -> Response:
    return FileResponse(HERE / "templates" / "review.css", media_type="text/css")


@router.get("/login")
def login_form(request: Request, next: str = "/queue", ctx: ReviewContext = Depends(context)) -> Response:
    if ctx.config.trust_remote_user:
        return RedirectResponse("/queue", status_code=303)
    return render(request, "login.html", next=next if NEXT_PAGE.match(next) else "/queue", error=None)


@router.post("/login")
def login(request: Request, form: dict[str, str] = Depends(posted_form),
          ctx: ReviewContext = Depends(context)) -> Response:
    target = form.get("next", "") if NEXT_PAGE.match(form.get("next", "")) else "/queue"
    if ctx.config.trust_remote_user:
        return RedirectResponse("/queue", status_code=303)
    name = users.valid_name(form.get("user"))
    password = form.get("password", "")
    if name is None or not password:
        return render(request, "login.html", 400, next=target,
                      error="Enter your user name (letters, digits and . _ @ - only) and your password.")
    client = request.client.host if request.client else "unknown"
    outcome = users.sign_in(ctx.accounts, name, password, client=client)
    if outcome.session_id is None:
        status = 429 if outcome.refused == SignInRefusal.RATE_LIMITED else 401
        return render(request, "login.html", status, next=target, error=_REFUSED[outcome.refused or SignInRefusal.WRONG])
    users.sign_out(ctx.accounts, request.session.get("sid"))  # a session from before does not live on
    request.session.clear()
    request.session["sid"] = outcome.session_id
    identity.new_csrf_token(request.session)
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: dict[str, str] = Depends(posted_form),
           ctx: ReviewContext = Depends(context)) -> Response:
    users.sign_out(ctx.accounts, request.session.get("sid"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
