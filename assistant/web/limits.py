"""What one HTTP request may cost the chat, checked before Gradio reads it.

Gradio accepts files on several routes (`/gradio_api/upload`, the component server, recordings)
whatever the page shows, and writes them into its temporary folder; and every event carries the
whole chat history the client sends. So, in front of Gradio (an ASGI middleware):

- a read-only chat takes no files at all: any multipart request is refused (403) before a
  byte of it is read, so nobody can fill the disk through a chat that cannot add articles;
- a request may carry at most `max_body` bytes, files included (413): a 20 MB chat history
  cost 431 s of server work (issue 27, item 11).

It also notes each request's client address (`client_address`), so the login check can slow
down the address that guesses instead of every login (access.py).
"""

from __future__ import annotations

import json
from contextvars import ContextVar

# The address of the client whose request is being handled (for the login check); "" outside one.
client_address: ContextVar[str] = ContextVar("client_address", default="")


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """ASGI middleware: files only when the chat may change articles (`max_files_body`: the most
    a request with files may carry; None: no files at all), and `max_body` for any other."""

    def __init__(self, app, max_body: int, max_files_body: int | None):
        self.app = app
        self.max_body = max_body
        self.max_files_body = max_files_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        client_address.set(client[0] if client else "")
        headers = dict(scope.get("headers") or ())
        # The login page sends its form as multipart: a form, not files (and small: max_body).
        files = (headers.get(b"content-type", b"").lower().startswith(b"multipart/")
                 and scope.get("path", "").rstrip("/") != "/login")
        if files and self.max_files_body is None:
            await _refuse(send, 403, "this chat is read-only: it takes no files")
            return
        limit = self.max_files_body if files else self.max_body
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _refuse(send, 413, f"request too large: at most {limit:,} bytes")
            return
        await self.app(scope, _counted(receive, limit), send)


def _counted(receive, limit: int):
    """`receive` that ends a body sent without a Content-Length once it passes `limit`: the
    application sees the client go away."""
    received = 0

    async def counted():
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                return {"type": "http.disconnect"}
        return message

    return counted
