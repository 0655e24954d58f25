"""Every error the API answers, in one body: `{"error", "message", "details"}`.

`install_error_handlers(app)` maps HitlError, request validation and HTTP errors to it;
`CatchAll` turns anything unexpected into a logged 500 with a reference.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, NotAuthorized, StoreError, ThreadNotFound, UnknownGraph
from hitl.jsondata import json_safe
from hitl.outcome import OutcomeUnknown

__all__ = [
    "DeskUnavailable", "error_response", "hitl_error_response", "field_path", "must_propagate", "CatchAll",
    "install_error_handlers",
]

log = logging.getLogger(__name__)


class DeskUnavailable(HitlError):
    """The desk's configuration is broken (HITL_CONFIG, the registry): 503 until it is fixed."""



def error_response(status: int, error: str, message: str, details: dict[str, Any] | None = None, **kw: Any) -> JSONResponse:
    body = {"error": error, "message": message}
    if details is not None:
        body["details"] = json_safe(details)
    return JSONResponse(status_code=status, content=body, **kw)


def hitl_error_response(exc: HitlError) -> JSONResponse:
    if isinstance(exc, ThreadNotFound):
        return error_response(404, "thread_not_found", str(exc), {"thread_id": exc.thread_id})
    if isinstance(exc, AlreadyDecided):
        return error_response(
            409,
            "already_decided",
            str(exc),
            {
                "thread_id": exc.thread_id,
                "interrupt_id": exc.interrupt_id,
                "decided_by": exc.reviewer,
                "decided_at": exc.decided_at.isoformat() if exc.decided_at else None,
            },
        )
    if isinstance(exc, InvalidAnswer):
        return error_response(422, "invalid_answer", str(exc), {"field_errors": exc.field_errors or {"": str(exc)}})
    if isinstance(exc, NotAuthorized):
        return error_response(403, "not_authorized", str(exc))
    if isinstance(exc, OutcomeUnknown):
        # Never 503 "nothing changed": a node may have run. The body names the original
        # decision and the two ways out.
        return error_response(409, "outcome_unknown", str(exc), exc.outcome.details())
    if isinstance(exc, StoreError):
        return error_response(503, "store_unavailable", str(exc), headers={"Retry-After": "5"})
    if isinstance(exc, DeskUnavailable):
        return error_response(503, "desk_unavailable", str(exc))
    if isinstance(exc, UnknownGraph):
        return error_response(409, "unknown_graph", str(exc))
    return error_response(422, "hitl_error", str(exc), {"field_errors": {"": str(exc)}})


def field_path(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def must_propagate(exc: BaseException) -> bool:
    """Ctrl-C and task cancellation (the server shutting down, a client gone) are not errors of
    a request: they must reach the server. Everything else, `SystemExit` raised by some code
    inside a request included, is answered with the JSON error body."""
    if isinstance(exc, BaseExceptionGroup):
        return any(must_propagate(inner) for inner in exc.exceptions)
    return isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError, GeneratorExit))


class CatchAll:
    """Turns an unexpected exception into a 500 ErrorBody; the traceback goes to the log only.

    Any `BaseException` but those `must_propagate` names: a `SystemExit` from a graph's code
    must not reach the server as a bare text/plain 500 (uvicorn's) or stop its worker.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except BaseException as exc:
            if must_propagate(exc):
                raise
            reference = uuid.uuid4().hex[:12]
            log.exception("Unhandled error in %s %s (reference %s)", scope.get("method"), scope.get("path"), reference)
            if started:
                raise
            response = error_response(
                500,
                "internal_error",
                f"The desk hit an unexpected error; it was logged with reference {reference}. Nothing is "
                "reported as decided unless the thread shows it.",
                {"reference": reference},
            )
            await response(scope, receive, send)



def install_error_handlers(app: FastAPI) -> None:
    """HitlError, request validation and HTTP errors answered with the one error body."""

    @app.exception_handler(HitlError)
    async def on_hitl_error(_: Request, exc: HitlError) -> JSONResponse:
        return hitl_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        field_errors: dict[str, str] = {}
        for error in exc.errors():
            field_errors.setdefault(field_path(error.get("loc", ())), str(error.get("msg", "invalid")))
        summary = "; ".join(f"{path or 'request'}: {message}" for path, message in field_errors.items())
        return error_response(422, "invalid_request", f"The request does not fit the API: {summary}", {"field_errors": field_errors})

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 403: "not_authorized", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))
