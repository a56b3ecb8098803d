"""The supervisor's dashboard: the day's and the week's work at a glance, charts drawn on the server.

It needs the DASHBOARD capability (`may_see_dashboard`: supervisors and admins); the link to it is
shown only to those who have it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pipeline.review import charts
from pipeline.review.web import ReviewContext, context, may_see_dashboard, render
from pipeline.services.dashboard import OUTCOMES, dashboard

router = APIRouter()


@router.get("/dashboard")
def dashboard_page(request: Request, user: str = Depends(may_see_dashboard),
                   ctx: ReviewContext = Depends(context)) -> Response:
    board = dashboard(ctx.manifest)
    outcome_charts = [charts.horizontal([(name, period.outcomes[name]) for name in OUTCOMES],
                                        f"Documents indexed {period.name}, by outcome", kind="outcome")
                      for period in (board.today, board.week)]
    clerk_charts = [charts.horizontal(sorted(period.cleared_by_clerk.items(), key=lambda kv: (-kv[1], kv[0]))[:20],
                                      f"Items cleared {period.name}, per clerk", kind="clerk")
                    for period in (board.today, board.week)]
    hourly = charts.hourly([(h.hour.hour, h.indexed, h.cleared) for h in board.hours],
                           "Today per hour (UTC): documents indexed and review items cleared")
    return render(request, "dashboard.html", board=board, outcomes=OUTCOMES, outcome_charts=outcome_charts,
                  clerk_charts=clerk_charts, hourly=hourly)
