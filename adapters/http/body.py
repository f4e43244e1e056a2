"""Request bodies: read only once their sender is known, and never past the limit.

Plain ASGI middleware around ``receive``. The first ``receive`` of a request first runs
``before_body`` (authentication, for the routes that need a bearer token: FastAPI reads a
body before it solves the dependencies that authenticate), then refuses a declared length
past the limit, then counts the body as it arrives, whatever its transfer encoding (a
chunked body declares no length): one byte past the limit and the request is refused with 413
without reading on. An answer given before the body was read to its end closes the
connection, so the rest of it is not read either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.problems import ApiError, PayloadTooLargeError, ProblemWhileReading

BeforeBody = Callable[[Scope], Awaitable[None]]
MAX_BODY_BYTES = 256 * 1024  # a signal, a command or a form is a few kilobytes


@dataclass
class _Reading:
    """How far one request's body has been read."""

    declared: int | None  # Content-Length, when sent
    chunked: bool
    started: bool = False
    read: int = 0
    finished: bool = False
    refused: bool = False

    @property
    def expected(self) -> bool:
        """Whether the request carries a body at all."""
        return self.chunked or bool(self.declared)


def _reading(scope: Scope) -> _Reading:
    headers = dict(scope.get("headers", ()))
    length = headers.get(b"content-length", b"").strip()
    declared = int(length) if length.isdigit() else None
    return _Reading(declared=declared, chunked=b"transfer-encoding" in headers)


class BodyGuard:
    """Authenticate before the body, and read at most ``limit`` bytes of it."""

    def __init__(self, app: ASGIApp, *, limit: int, before_body: BeforeBody) -> None:
        self.app = app
        self.limit = limit
        self.before_body = before_body

    def _too_large(self) -> ProblemWhileReading:
        return ProblemWhileReading(
            PayloadTooLargeError(f"the request body exceeds {self.limit // 1024} KiB")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _reading(scope)

        async def guarded_receive() -> Message:
            if body.refused:
                return {"type": "http.disconnect"}
            if not body.started:
                body.started = True
                try:
                    await self.before_body(scope)
                except ApiError as exc:
                    body.refused = True
                    raise ProblemWhileReading(exc) from None
                if body.declared is not None and body.declared > self.limit:
                    body.refused = True
                    raise self._too_large()
            message = await receive()
            if message["type"] == "http.request":
                body.read += len(message.get("body", b""))
                if body.read > self.limit:
                    body.refused = True
                    raise self._too_large()
                body.finished = not message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and body.expected and not body.finished:
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, guarded_receive, closing_send)
