"""The REST API's request and response bodies (pydantic), and the error responses each route documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field

from hitl.inbox import BatchResult

BatchResultKind = get_type_hints(BatchResult)["result"]
"""The core's Literal of per-thread batch results, so the OpenAPI enum follows it."""


EXAMPLE_THREAD = "demo-email_approval-0000"
"""A thread `make api` seeds (`python -m hitl.demo seed`), used in the document's examples."""


class ErrorBody(BaseModel):
    """Every error response."""

    error: str = Field(description="Stable machine-readable code, e.g. `already_decided`.")
    message: str = Field(description="What went wrong and what to do, for people.")
    details: dict[str, Any] | None = Field(default=None, description="Structured context for the code.")


class AlreadyDecidedDetails(BaseModel):
    thread_id: str | None
    interrupt_id: str
    decided_by: str | None = Field(description="The reviewer who answered first.")
    decided_at: datetime | None = Field(description="When they answered (UTC).")


class AlreadyDecidedBody(ErrorBody):
    """409: another reviewer answered this interrupt first (or the thread's graph is not registered)."""

    details: AlreadyDecidedDetails | dict[str, Any] | None = None


class FieldErrors(BaseModel):
    field_errors: dict[str, str] = Field(description='Field path ("" for the whole answer) to message.')


class InvalidBody(ErrorBody):
    """422: the request or the answer does not fit; nothing was saved."""

    details: FieldErrors


class InterruptOut(BaseModel):
    id: str
    node: str | None
    kind: str = Field(description="Payload kind (confirm, question, edit, tool_review, hitl_request, ..., json).")
    summary: str
    payload: Any = Field(description="The interrupt value as the graph raised it (JSON-safe).")
    response_schema: dict[str, Any] | None = Field(description="JSON Schema the answer must fit, when the graph gave one.")
    decode_error: str | None = None
    failed_error: str | None = Field(
        default=None, description="Set when this interrupt was answered and the node then raised; retry or resolve."
    )
    contract: dict[str, Any] | None = Field(
        default=None,
        description="On GET /threads/{id}: what the graph expects back (answer: boolean|text|number|object|any; "
        "source: response_schema|format|declared|inferred|unknown; why; one_click_approve/one_click_reject; "
        "approve_value/reject_value when the contract names them).",
    )


class PendingThreadOut(BaseModel):
    thread_id: str
    graph_id: str | None
    checkpoint_id: str
    waiting_since: datetime
    waited_seconds: float
    kinds: list[str]
    summary: str
    read_only_reason: str | None = Field(description="Why the desk cannot resume this thread, if it cannot.")
    interrupts: list[InterruptOut]


class PendingPage(BaseModel):
    items: list[PendingThreadOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
    total: int = Field(description="Threads matching the filters (that this token may decide, with [access]), all pages.")
    waiting_on_others: int = Field(
        default=0, description="With [access]: waiting threads under the same filters this token's reviewer may not decide."
    )
    indexing: Indexing | None = Field(
        default=None,
        description="While the desk's first index of the database is under way: its progress (the page and total "
        "cover only the threads indexed so far, newest first). Null once the index is complete.",
    )


class DecisionOut(BaseModel):
    seq: int
    thread_id: str
    interrupt_id: str
    graph_id: str | None
    kind: str | None
    action: str
    reviewer: str
    comment: str
    answer: Any
    decided_at: datetime
    waited_seconds: float | None
    outcome: str
    error: str | None


class CheckpointOut(BaseModel):
    checkpoint_id: str
    created_at: datetime
    step: int | None
    source: str | None


class TaskError(BaseModel):
    node: str
    error: str


class ThreadOut(BaseModel):
    thread_id: str
    graph_id: str | None
    status: str = Field(description="waiting, running, completed, failed or resolved.")
    read_only_reason: str | None
    waiting_since: datetime | None
    next_nodes: list[str]
    interrupts: list[InterruptOut]
    values: dict[str, Any] = Field(description="The thread's state values; messages as dicts.")
    errors: list[TaskError]
    checkpoints: list[CheckpointOut]
    decisions: list[DecisionOut] = Field(description="The thread's audit rows, oldest first (the last 50).")


class ResumeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,  # `"approved": 0` or `"yes"` is a client bug, not a decision
        json_schema_extra={"examples": [{"answers": {"<interrupt id from GET /threads/{id}>": {"approved": True}}, "comment": "Checked"}]},
    )

    answers: dict[str, Any] = Field(
        min_length=1, description="`{interrupt_id: answer}`; answering some of several pending interrupts is allowed."
    )
    comment: str = Field(default="", max_length=10_000, description="Recorded in the audit log.")


class ApproveIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,  # `"approved": 0` or `"yes"` is a client bug, not a decision
        json_schema_extra={"examples": [{"thread_id": EXAMPLE_THREAD, "approved": True, "feedback": "Recipient checked"}]},
    )

    thread_id: str = Field(min_length=1)
    approved: bool
    feedback: str = Field(default="", max_length=10_000, description="The reason or feedback, recorded as the comment.")
    interrupt_id: str | None = Field(default=None, description="Needed only when the thread has several pending interrupts.")


class BatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,  # `"approved": 0` or `"yes"` is a client bug, not a decision
        json_schema_extra={
            "examples": [{"thread_ids": ["demo-simple_confirm-0002", "demo-draft_edit-0003"], "approved": False, "comment": "Duplicate"}]
        },
    )

    thread_ids: list[str] = Field(min_length=1, max_length=500)
    approved: bool
    comment: str = Field(default="", max_length=10_000)


class ResumeOut(BaseModel):
    thread_id: str
    status: Literal["completed", "waiting", "failed"] = Field(
        description="completed: the run ended; waiting: it paused again (see new_interrupts); failed: the graph "
        "raised after the decision was recorded (see error)."
    )
    error: str | None
    new_interrupts: list[InterruptOut]
    reviewer: str = Field(description="Recorded as the decision's reviewer (the token's reviewer).")
    note: str | None = Field(default=None, description="Set when the approval was recorded as a quorum vote, not resumed.")


class BatchResultOut(BaseModel):
    thread_id: str
    result: BatchResultKind  # type: ignore[valid-type]
    message: str


class BatchOut(BaseModel):
    results: list[BatchResultOut]
    counts: dict[str, int] = Field(description="How many threads ended with each result.")


class HistoryRow(DecisionOut):
    payload: Any = Field(default=None, description="The payload shown, with `include_payload=true`.")
    prev_hash: str
    row_hash: str


class HistoryPage(BaseModel):
    items: list[HistoryRow] = Field(description="Audit rows, oldest first (by seq).")
    count: int = Field(description="Rows in this page.")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


class Indexing(BaseModel):
    done: int = Field(description="Threads the first index has indexed so far.")
    total: int = Field(description="Threads the first index found; done == total once the index is complete.")
    seconds_left: float | None = Field(default=None, description="Estimated seconds to completion, when known.")


class Health(BaseModel):
    status: Literal["ok"]
    backend: str
    read_only: bool = Field(description="The desk can list and show threads but not record decisions.")
    read_only_reason: str | None = Field(
        default=None, description="Why the database is read-only (file permissions, a WAL database opened as a snapshot)."
    )
    indexing: Indexing = Field(description="Progress of the desk's first index of this database.")


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or unknown bearer token."},
    403: {"model": ErrorBody, "description": "The token may not do this."},
    422: {"model": InvalidBody, "description": "Invalid request; `details.field_errors` says where."},
    500: {"model": ErrorBody, "description": "Unexpected error; logged server-side."},
    503: {"model": ErrorBody, "description": "The database is locked, read-only or unreachable; nothing changed."},
}
THREAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: {"model": ErrorBody, "description": "No such thread."},
}
DECIDE_ERRORS: dict[int | str, dict[str, Any]] = {
    **THREAD_ERRORS,
    409: {"model": AlreadyDecidedBody, "description": "Already decided by someone else (who and when in details), "
          "the thread's graph is not registered (`unknown_graph`), or the decision's outcome is unknown "
          "(`outcome_unknown`: a node may have run without its result being saved; retry or resolve it)."},  # fmt: skip
    422: {"model": InvalidBody, "description": "The answer does not fit; `details.field_errors` says where. Nothing saved."},
}
