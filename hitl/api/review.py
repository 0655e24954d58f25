"""Routes that read: health, the pending queue, one thread."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hitl.api.convert import decision_out, interrupt_out
from hitl.api.deps import Desk, Reader, ThreadId, as_caller
from hitl.api.models import (
    AUTH_ERRORS, THREAD_ERRORS, CheckpointOut, ErrorBody, Health, Indexing, PendingPage, PendingThreadOut, TaskError,
    ThreadOut,
)
from hitl.jsondata import json_safe

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["meta"],
         responses={503: {"model": ErrorBody, "description": "The database cannot be reached."},
                    500: {"model": ErrorBody, "description": "Unexpected error."}})  # fmt: skip
def healthz(desk: Desk) -> Health:
    """Liveness and database reachability; needs no token."""
    inbox = desk.inbox()
    inbox.store.ping()
    return Health(
        status="ok",
        backend=inbox.store.backend,
        read_only=bool(inbox.store.read_only),
        read_only_reason=inbox.store.read_only_reason,
        indexing=Indexing(**inbox.indexing()),
    )


@router.get("/pending", response_model=PendingPage, tags=["review"], responses=AUTH_ERRORS)
def pending(
    desk: Desk,
    who: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    graph_id: str | None = None,
    kind: str | None = None,
    search: Annotated[str | None, Query(max_length=500)] = None,
    waiting_longer_than: Annotated[
        float | None, Query(ge=0, allow_inf_nan=False, description="Only threads waiting at least this many seconds.")
    ] = None,
    newest_first: bool = False,
) -> PendingPage:
    """Threads paused at interrupts, oldest first (or newest), with filters and cursor pagination."""
    inbox = desk.inbox()
    caller = as_caller(inbox, who)
    page = (caller if inbox.access.enabled else inbox).pending(  # [access]: the token's queue
        limit=limit,
        cursor=cursor,
        graph_id=graph_id,
        kind=kind,
        search=search,
        waiting_longer_than=waiting_longer_than,
        newest_first=newest_first,
    )
    progress = inbox.indexing()
    return PendingPage(
        items=[
            PendingThreadOut(
                thread_id=item.thread_id,
                graph_id=item.graph_id,
                checkpoint_id=item.checkpoint_id,
                waiting_since=item.waiting_since,
                waited_seconds=round(item.waited_seconds, 3),
                kinds=list(item.kinds),
                summary=item.summary,
                read_only_reason=item.read_only_reason,
                interrupts=[interrupt_out(i) for i in item.interrupts],
            )
            for item in page.items
        ],
        next_cursor=page.next_cursor,
        total=page.total,
        waiting_on_others=page.waiting_on_others,
        indexing=Indexing(**progress) if progress["done"] < progress["total"] else None,
    )


@router.get("/threads/{thread_id}", response_model=ThreadOut, tags=["review"], responses=THREAD_ERRORS)
def thread(desk: Desk, thread_id: ThreadId, who: Reader) -> ThreadOut:
    """One thread: its pending interrupts, state values, status, timeline and recent decisions."""
    inbox = desk.inbox()
    view = as_caller(inbox, who).thread(thread_id)
    return ThreadOut(
        thread_id=view.thread_id,
        graph_id=view.graph_id,
        status=view.status,
        read_only_reason=view.read_only_reason,
        waiting_since=view.waiting_since,
        next_nodes=list(view.next_nodes),
        interrupts=[interrupt_out(i, inbox.contract(i, view.graph_id)) for i in view.interrupts],
        values=json_safe(view.values),
        errors=[TaskError(node=node, error=error) for node, error in view.errors],
        checkpoints=[
            CheckpointOut(checkpoint_id=c.checkpoint_id, created_at=c.created_at, step=c.step, source=c.source)
            for c in view.checkpoints
        ],
        decisions=[decision_out(row) for row in view.decisions[-50:]],
    )
