"""The two lists: the open queue (oldest first, filterable by reason kind and by item kind: patient
or type-only) and the items closed
without filing whose document is still unfiled (the unidentified worklist). Listing is logged."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from pipeline.records import ReviewKind
from pipeline.review import queue
from pipeline.review.web import ReviewContext, context, current_user, render
from pipeline.services import review

router = APIRouter()

#: items a list page reads at most (oldest first)
QUEUE_LIMIT = 2000
#: open items shown on one page of the queue
PAGE_SIZE = 100


@router.get("/queue")
def queue_page(request: Request, kind: str = "", item: str = "", page: int = 1, user: str = Depends(current_user),
               ctx: ReviewContext = Depends(context)) -> Response:
    """One page of open items, oldest first; the filter and its counts cover the whole queue (the
    open items and their reason kinds kept between views while the database's count of review-item
    changes stands still, `queue.OpenQueueKept`); the items shown are read in full."""
    open_queue = _queue_kept(request).current(lambda: review.queue_version(ctx.manifest),
                                             lambda: review.open_revisions(ctx.manifest),
                                             lambda ids: review.reasons_of(ctx.manifest, ids))
    kind = kind if kind in queue.KIND_LABELS else ""
    item_kind = ReviewKind(item) if item in set(ReviewKind) else None
    type_only = open_queue.type_only
    matching = [item_id for item_id, found in open_queue.kinds if (not kind or kind in found)
                and (item_kind is None or (item_id in type_only) == (item_kind is ReviewKind.TYPE))]
    pages = max((len(matching) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    shown = review.queue_entries(ctx.manifest, matching[(page - 1) * PAGE_SIZE:page * PAGE_SIZE])
    # the entry is committed before the page is sent; its copy to the store's journal follows the response
    ctx.manifest.record_access(user, "viewed", reason=f"review queue: {len(shown)} items listed", journal_now=False)
    now = ctx.manifest.clock()
    rows = [{"item": item, "age": queue.age(item.created_at, now), "reasons": item.reasons,
             "type": ctx.types[item.predicted_doc_type].display if item.predicted_doc_type in ctx.types
             else item.predicted_doc_type, "best": item.best}
            for item in shown]
    total = len(open_queue.kinds)
    response = render(request, "queue.html", rows=rows, total=total, matching=len(matching), page=page,
                  pages=pages, more=page < pages, kinds=open_queue.kind_counts, kind=kind,
                  kind_label=queue.KIND_LABELS.get(kind), item_kind=item_kind,
                  item_kinds=queue.item_kind_counts(Counter({ReviewKind.TYPE: len(type_only),
                                                             ReviewKind.PATIENT: total - len(type_only)})),
                  closed_count=ctx.manifest.count_closed_review_items(),
                  notice=request.session.pop("notice", None))
    response.background = BackgroundTask(ctx.journal_copier)
    return response


def _queue_kept(request: Request) -> queue.OpenQueueKept:
    """The open items this app keeps between pages (one app serves one home)."""
    state = request.app.state
    if not hasattr(state, "open_queue"):
        state.open_queue = queue.OpenQueueKept()
    return state.open_queue


@router.get("/closed")
def closed_page(request: Request, user: str = Depends(current_user),
                ctx: ReviewContext = Depends(context)) -> Response:
    closed = review.list_closed(ctx.manifest, actor=user, limit=QUEUE_LIMIT)
    now = ctx.manifest.clock()
    rows = [{"item": item, "doc": doc, "reason": note, "age": queue.age(item.created_at, now)}
            for item, doc, note in closed]
    return render(request, "closed.html", rows=rows, more=len(closed) >= QUEUE_LIMIT,
                  notice=request.session.pop("notice", None))
