"""ASGI middleware (pure ASGI, so streamed answers stay streamed), outermost first:

- :class:`AccessLog`: one JSON line per request — method, route *template*, status, ms; never a
  path value, query string or body. An upload the client abandons is one WARNING line. Nothing
  is built when the level is off (``IM_LOG_LEVEL=WARNING``).
- :class:`SecurityHeaders`: ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store``
  (answers may carry personal and health data: nothing is kept by a browser or proxy), a strict
  ``Content-Security-Policy`` except on the documentation pages, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer``.
- :class:`BodySizeLimit`: a body larger than the limit is refused with 413 problem+json before
  any route sees it: at once when ``Content-Length`` says so, otherwise as soon as the streamed
  (chunked) body passes it; a body that does not arrive within ``timeout`` seconds is refused
  with 408. The body is buffered up to the limit and replayed to the app, so the limit bounds
  memory too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from insertion_match.service.problems import PROBLEM_JSON

log = logging.getLogger("insertion_match.service")

#: Scope key set when the client went away before its body was read.
ABORTED = "im.aborted"
#: Paths of the interactive documentation (they load their own scripts and styles).
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: The web app's pages (text/html): their own scripts, styles and images only, no inline code
#: (tests/web/test_pages.py checks there is none), forms posted to the app itself.
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: list[int] = []

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except BaseException:
            self._log(scope, "request", 500, start, logging.ERROR)
            raise
        if scope.get(ABORTED) or not status:
            self._log(scope, "upload aborted by the client", 499, start, logging.WARNING)
        else:
            self._log(scope, "request", status[0], start, logging.INFO)

    @staticmethod
    def _log(scope: Scope, msg: str, status: int, start: float, level: int) -> None:
        route = scope.get("route")
        access_line(scope.get("method"), getattr(route, "path", "<unmatched>"), status, start,
                    msg, level)


def access_line(method: str | None, route: str, status: int, start: float,
                msg: str = "request", level: int = logging.INFO) -> None:
    """The access log's line: method, route template, status, ms (never a path value, query
    string or body); nothing is built when the level is off."""
    if not log.isEnabledFor(level):
        return
    log.log(level, msg, extra={"method": method, "path": route, "status": status,
                               "ms": round((time.perf_counter() - start) * 1000, 1)})


_SECURITY = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
             (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]


def secured(headers: Iterable[tuple[bytes, bytes]], docs: bool = False) -> list[tuple[bytes, bytes]]:
    """``headers`` of an answer with the security headers it lacks (see the module's doc)."""
    headers = list(headers)
    present = {name.lower() for name, _ in headers}
    extra = list(_SECURITY)
    if not docs:
        types = [v for k, v in headers if k.lower() == b"content-type"]
        page = bool(types) and types[0].startswith(b"text/html")
        extra.append((b"content-security-policy", (PAGE_CSP if page else CSP).encode()))
    headers += [(k, v) for k, v in extra if k not in present]
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") in DOCS_PATHS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": secured(message.get("headers") or [], docs)}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False  # the server rejects a malformed length itself
            if too_big:
                await answer_body_problem(scope, send, "too_large", self.max_bytes,
                                          self.timeout)
                return
        body, problem = await read_body(receive, self.max_bytes, self.timeout)
        if problem is not None:
            await answer_body_problem(scope, send, problem, self.max_bytes, self.timeout)
            return
        await self.app(scope, replaying(body, receive), send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the whole body already read, then the client's messages (the
    disconnect). Shared by :class:`BodySizeLimit` and the fast lane."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


#: Why a body could not be read whole: larger than the limit, late, or abandoned.
BodyProblem = Literal["too_large", "timeout", "disconnect"]


async def read_body(receive: Receive, max_bytes: int, timeout: float
                    ) -> tuple[bytes, BodyProblem | None]:
    """The whole request body, read within ``timeout`` seconds and at most ``max_bytes``, or
    why not (what was read is then dropped). Shared by :class:`BodySizeLimit` and the fast
    lane (``fastlane.py``), so both answer a body problem the same way."""
    chunks: list[bytes] = []
    size = 0
    more = True
    deadline = time.monotonic() + timeout
    while more:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            return b"", "timeout"
        if message["type"] == "http.disconnect":
            return b"", "disconnect"
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return b"", "too_large"
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks), None


async def answer_body_problem(scope: Scope, send: Send, problem: BodyProblem, max_bytes: int,
                              timeout: float) -> None:
    """413 (too large), 408 (late), or nothing for a client gone (``ABORTED`` set: the access
    log writes its 499 line)."""
    if problem == "too_large":
        await refuse(send, 413, "Request body too large",
                     f"le corps de la requête dépasse {max_bytes} octets")
    elif problem == "timeout":
        await refuse(send, 408, "Request timeout",
                     f"le corps de la requête n'est pas arrivé en {timeout:g} s")
    else:
        scope[ABORTED] = True


async def refuse(send: Send, status: int, title: str, detail: str) -> None:
    """A problem+json answer that closes the connection (the body was not read whole)."""
    body = json.dumps({
        "type": "about:blank", "title": title, "status": status, "detail": detail,
        "errors": [], "suggestions": [],
    }).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
