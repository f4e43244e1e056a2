"""What an API worker's first requests would otherwise do on their way, done before it serves.

FastAPI builds an included router's table of routes when a request first passes through it
(a pydantic adapter for every parameter of every route: about 30 ms of CPU for the first
request of `GET /cases`), and the thread pool loads its backend on first use. Under 32 clients
opening their connections at once, the first requests of a freshly started worker waited
behind that work: they were the slowest of the bench's whole phase (bench/NOTES.md).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message

# No route has this path, so that the router walks (and builds) every included router's
# table; the request goes to the router alone, past the middleware, and is not logged.
UNROUTED_PATH = "/.ks-engine/first-requests"


async def prepare_first_requests(app: ASGIApp) -> int:
    """Build the route tables of ``app``'s router and start its thread pool; the status the
    router answered (404: no route has the path)."""
    router: ASGIApp = getattr(app, "router", app)
    answered: list[int] = []
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": UNROUTED_PATH,
        "raw_path": UNROUTED_PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": None,
        "server": None,
        "state": {},  # and no "app": the router answers 404 itself instead of raising it
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answered.append(int(message["status"]))

    await router(scope, receive, send)
    await run_in_threadpool(lambda: None)
    return answered[0] if answered else 0
