"""The access log for a supervisor: the latest entries, newest first (who did what to which
document, when and why). Reading it is not itself logged: it shows no document."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pipeline.review.web import ReviewContext, context, may_read_access_log, render

router = APIRouter()

#: entries the page shows
ACCESS_LOG_LIMIT = 500


@router.get("/access-log")
def access_log(request: Request, user: str = Depends(may_read_access_log),
               ctx: ReviewContext = Depends(context)) -> Response:
    return render(request, "access_log.html", entries=ctx.manifest.recent_access(ACCESS_LOG_LIMIT),
                  limit=ACCESS_LOG_LIMIT)
