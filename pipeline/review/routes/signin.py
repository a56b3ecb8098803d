"""Sign-in and sign-out (the clerk's user id in a signed session cookie), the stylesheet, `/`."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from pipeline.review import identity
from pipeline.review.web import HERE, NEXT_PAGE, ReviewContext, context, posted_form, render

log = logging.getLogger(__name__)

router = APIRouter()


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
def login(request: Request, form: dict[str, str] = Depends(posted_form)) -> Response:
    target = form.get("next", "") if NEXT_PAGE.match(form.get("next", "")) else "/queue"
    user = identity.valid_user_id(form.get("user"))
    if user is None:
        return render(request, "login.html", 400, next=target,
                      error="Enter your user id: letters, digits and . _ @ - only, at most 64.")
    request.session.clear()
    request.session["user"] = user
    identity.new_csrf_token(request.session)
    log.info("review app: %s signed in", user)
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: dict[str, str] = Depends(posted_form)) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
