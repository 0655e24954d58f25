"""`create_app`: the FastAPI app over one desk, its routers, error handling and lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hitl.api import audit, decide, review
from hitl.api.deps import DeskHandle, acting, decider, desk_of, reader, start_notifier, webhooks_configured
from hitl.api.failures import CatchAll, install_error_handlers
from hitl.api.models import DECIDE_ERRORS
from hitl.api.tokens import ApiToken
from hitl.errors import HitlError
from hitl.inbox import Inbox
from hitl.qa.api import qa_router

__all__ = ["create_app"]

log = logging.getLogger(__name__)

DESCRIPTION = "REST API over the desk: list, read, decide and audit interrupts from scripts and bots."


def create_app(inbox: Inbox | None = None, *, tokens: Sequence[ApiToken] | Mapping[str, str] | None = None) -> FastAPI:
    """The REST API over `inbox` (opened from the environment on first request when None).

    Args:
        inbox: the desk to serve; None opens `Inbox.open()` lazily.
        tokens: `{token: reviewer}` or `ApiToken`s; None reads `[[api.tokens]]` from the desk's
            HITL_CONFIG plus HITL_API_TOKENS.
    """
    desk = DeskHandle(inbox, tokens)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if inbox is not None:
            start_notifier(inbox)
        elif webhooks_configured():
            try:  # notifications should flow before anyone calls the API
                desk.inbox()
            except HitlError as exc:
                log.warning("The desk will be opened on the first request: %s", exc)
        yield
        desk.close()

    app = FastAPI(
        title="HITL review desk",
        version="1.0",
        summary="Review, answer and audit LangGraph interrupts.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.desk = desk
    app.add_middleware(CatchAll)

    install_error_handlers(app)
    for router in (review.router, decide.router, audit.router):
        app.include_router(router)
    app.include_router(qa_router(inbox_of=lambda request: desk_of(request).inbox(), reader=reader, decider=decider,
                                 acting=acting, responses=DECIDE_ERRORS))
    return app
