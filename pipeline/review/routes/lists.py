"""The two lists: the open queue (oldest first, filterable by reason kind and by item kind: patient
or type-only) and the items closed
without filing whose document is still unfiled (the unidentified worklist). Listing is logged."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pipeline.records import ReviewKind
from pipeline.review import queue
from pipeline.review.web import ReviewContext, context, current_user, render
from pipeline.services import review

router = APIRouter()

#: items a list page reads at most (oldest first)
QUEUE_LIMIT = 2000


@router.get("/queue")
def queue_page(request: Request, kind: str = "", item: str = "", user: str = Depends(current_user),
               ctx: ReviewContext = Depends(context)) -> Response:
    items = review.list_open(ctx.manifest, limit=QUEUE_LIMIT)
    kind = kind if kind in queue.KIND_LABELS else ""
    item_kind = ReviewKind(item) if item in set(ReviewKind) else None
    shown = [i for i in items if (not kind or kind in queue.kinds_of(i)) and (item_kind is None or i.kind is item_kind)]
    ctx.manifest.record_access(user, "viewed", reason=f"review queue: {len(shown)} items listed")
    now = ctx.manifest.clock()
    rows = [{"item": i, "age": queue.age(i.created_at, now), "reasons": queue.all_reasons(i),
             "type": ctx.types[i.predicted_doc_type].display if i.predicted_doc_type in ctx.types
             else i.predicted_doc_type, "best": i.candidates[0] if i.candidates else None}
            for i in shown]
    return render(request, "queue.html", rows=rows, total=len(items), more=len(items) >= QUEUE_LIMIT,
                  kinds=queue.kind_counts(items), kind=kind, kind_label=queue.KIND_LABELS.get(kind),
                  item_kind=item_kind, item_kinds=queue.item_kind_counts(items),
                  closed_count=ctx.manifest.count_closed_review_items(), notice=request.session.pop("notice", None))


@router.get("/closed")
def closed_page(request: Request, user: str = Depends(current_user),
                ctx: ReviewContext = Depends(context)) -> Response:
    closed = review.list_closed(ctx.manifest, actor=user, limit=QUEUE_LIMIT)
    now = ctx.manifest.clock()
    rows = [{"item": item, "doc": doc, "reason": note, "age": queue.age(item.created_at, now)}
            for item, doc, note in closed]
    return render(request, "closed.html", rows=rows, more=len(closed) >= QUEUE_LIMIT,
                  notice=request.session.pop("notice", None))
