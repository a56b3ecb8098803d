"""The request body limit, enforced while the body is read: a declared Content-Length over the limit
is refused before a byte is read, and a body sent without one (chunked) is refused as soon as it
passes the limit. Either way the client gets a 413, never a 500, and nothing is read in full."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: largest request body the review app accepts (its forms are a few hundred bytes)
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The body passed the limit while it was being read."""


class BodyLimit:
    """ASGI middleware: refuse request bodies over `limit` bytes with a 413."""

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
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    response = PlainTextResponse("Request body too large.", status_code=413, headers={"Connection": "close"})
    await response(scope, receive, send)
