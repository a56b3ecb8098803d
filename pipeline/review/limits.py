"""The request body limit, enforced while the body is read: a declared Content-Length over the limit
is refused before a byte is read, and a body sent without one (chunked) is refused as soon as it
passes the limit. Either way the client gets a 413, never a 500, and nothing is read in full."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: largest request body the review app accepts (its forms are a few hundred bytes)
MAX_BODY_BYTES = 64 * 1024


class BodyLimit:
    """ASGI middleware: refuse request bodies over `limit` bytes with a 413.

    Past the limit the app is told the client went away (so it stops reading and answers nothing),
    and this middleware sends the 413 in its place."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _refuse(scope, receive, send)
            return
        seen, exceeded, started = 0, False, False

        async def limited() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def unless_exceeded(message: Message) -> None:
            nonlocal started
            if not exceeded:
                started = True
                await send(message)

        try:
            await self.app(scope, limited, unless_exceeded)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    response = PlainTextResponse("Request body too large: the review app's forms are small. Go back and try again.",
                                 status_code=413, headers={"Connection": "close"})
    await response(scope, receive, send)
