"""Page surgery from the item page: split at a page, merge with another queued item, turn a page, drop
a blank page. Each goes through `pipeline.services.surgery`, as `pipeline review split|merge|rotate|
drop-page` does: new versions, the original kept (superseded), every step in the access log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import NotFoundError, PageSurgeryError, StorageError
from pipeline.review.item_page import item_page, open_item
from pipeline.review.web import ReviewContext, context, current_user, posted_form
from pipeline.services import surgery
from pipeline.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/items/{item_id}")


class LazyIndexer:
    """The classifier loads on the first surgery (a second or two), not when the app starts."""

    def __init__(self, settings: Settings, ctx: ReviewContext) -> None:
        self._settings, self._ctx = settings, ctx
        self._indexer: surgery.Indexer | None = None
        self._lock = threading.Lock()

    def __call__(self) -> surgery.Indexer:
        with self._lock:
            if self._indexer is None:
                from pipeline.classify.model import load_classifier

                self._indexer = surgery.Indexer(load_classifier(self._settings), self._ctx.matcher)
            return self._indexer


def install(app: FastAPI, settings: Settings) -> None:
    app.state.surgery_indexer = LazyIndexer(settings, app.state.review)


def indexer(request: Request) -> surgery.Indexer:
    return request.app.state.surgery_indexer()


def _number(form: dict[str, str], name: str) -> int | None:
    value = form.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else None  # not "²"


#: operation -> (the form field holding its number, the use case given that number)
Run = Callable[[ReviewContext, surgery.Indexer, int, int, dict[str, str], str], surgery.SurgeryResult]
OPERATIONS: dict[str, tuple[str, Run]] = {
    "split": ("at", lambda ctx, ix, item_id, at, form, user: surgery.split(
        ctx.manifest, ctx.store, ix, item_id, at=at, actor=user, reason=form.get("reason", ""))),
    "rotate": ("page", lambda ctx, ix, item_id, page, form, user: surgery.rotate(
        ctx.manifest, ctx.store, ix, item_id, page=page, degrees=_number(form, "degrees") or 0, actor=user,
        reason=form.get("reason", ""))),
    "drop-page": ("page", lambda ctx, ix, item_id, page, form, user: surgery.drop_page(
        ctx.manifest, ctx.store, ix, item_id, page=page, actor=user, reason=form.get("reason", ""))),
    "merge": ("other", lambda ctx, ix, item_id, other, form, user: surgery.merge(
        ctx.manifest, ctx.store, ix, item_id, other, actor=user, reason=form.get("reason", ""))),
}


def _handler(name: str) -> Callable[..., Response]:
    field, run = OPERATIONS[name]

    def handle(request: Request, item_id: int, user: str = Depends(current_user),
               form: dict[str, str] = Depends(posted_form), ctx: ReviewContext = Depends(context)) -> Response:
        return _operate(request, ctx, user, item_id, form, name, lambda number: run(
            ctx, indexer(request), item_id, number, form, user), _number(form, field))
    return handle


for _name in OPERATIONS:
    router.add_api_route(f"/{_name}", _handler(_name), methods=["POST"], name=f"surgery-{_name}")


def _operate(request: Request, ctx: ReviewContext, user: str, item_id: int, form: dict[str, str], name: str,
             work: Callable[[int], surgery.SurgeryResult], number: int | None) -> Response:
    item = open_item(ctx, item_id)
    if number is None:
        return item_page(request, ctx, user, item, status=400, access=f"{name} refused (no number)", form=form,
                         surgery_error=f"{name}: give the page (or item) number as digits.")
    try:
        result = work(number)
    except (PageSurgeryError, NotFoundError) as exc:
        return item_page(request, ctx, user, item, status=400, access=f"{name} refused", form=form,
                         surgery_error=f"{exc.message}." + (f" {exc.hint[0].upper()}{exc.hint[1:]}." if exc.hint else ""))
    except StorageError:
        open_item(ctx, item_id)  # decided by someone else meanwhile: 409; else the storage error stands
        raise
    log.info("review item %d: %s by %s into documents %s", item_id, name, user,
             [v.document_id for v in result.versions])
    said = []
    for version in result.versions:
        said.append(f"item #{version.review_item_id} ({version.pages} p.)" if version.review_item_id
                    else f"a document filed automatically ({version.pages} p.)")
    request.session["notice"] = (f"{name.capitalize()} done: review item {item_id} is superseded (the original "
                                 f"is kept); new: {', '.join(said)}.")
    queued = [v.review_item_id for v in result.versions if v.review_item_id]
    return RedirectResponse(f"/items/{queued[0]}" if queued else "/queue", status_code=303)
