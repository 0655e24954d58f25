"""REST API over the desk: list, read, decide and audit interrupts from scripts and bots.

    uvicorn hitl.api:app --port 8000      # or `make api`

The module-level `app` opens its `Inbox` from the environment (HITL_DATABASE_URL, HITL_GRAPHS,
HITL_CONFIG) on the first request; `create_app(inbox, tokens=...)` builds one over a given desk.

Every endpoint but `GET /healthz` needs `Authorization: Bearer <token>`. Tokens come from the
HITL_CONFIG file and from `HITL_API_TOKENS`; each names the reviewer recorded in the audit log:

    [[api.tokens]]
    token_sha256 = "<hex sha256 of the token>"   # or token = "..." (keep the file private)
    reviewer = "alice@example.com"
    roles = ["finance"]                           # kept on the principal for policies
    scopes = ["read", "decide"]                   # default both; "read" alone cannot decide

    HITL_API_TOKENS="token1:alice@example.com,token2:bob@example.com"

Errors share one body, `{"error": code, "message": text, "details": {...}}`:

| status | error | when |
|---|---|---|
| 401 | `unauthorized` | no bearer token, or not a configured one |
| 403 | `not_authorized` | the token may not do this (scope, or a policy said no) |
| 404 | `thread_not_found`, `not_found` | no such thread / route |
| 409 | `already_decided` | someone answered first: `details.decided_by`, `details.decided_at` |
| 409 | `unknown_graph` | the thread's graph is not registered here (read-only thread) |
| 409 | `outcome_unknown` | a resume of this decision may have run a node whose result was not saved: `details.state` ("unknown": retry or resolve it; "unrecorded": settled after the claim lease), `details.decided_by`, `details.decided_at`, `details.answers`, `details.may_run_twice`, `details.choices`; nothing was run by this call |
| 422 | `invalid_answer`, `invalid_request` | `details.field_errors`: {field path: message} |
| 503 | `store_unavailable` | the database is locked, read-only or unreachable; nothing changed |
| 500 | `internal_error` | a bug; the traceback is in the server log under `details.reference` |
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import math
import os
import threading
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, get_type_hints

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from hitl.config import Settings
from hitl.errors import (
    AlreadyDecided,
    HitlError,
    InvalidAnswer,
    NotAuthorized,
    StoreError,
    ThreadNotFound,
    UnknownGraph,
)
from hitl.inbox import BatchResult, Inbox, PendingInterrupt, ResumeOutcome
from hitl.notify import json_safe, start_background_notifier, stop_background_notifier
from hitl.outcome import OutcomeUnknown
from hitl.qa.api import qa_router

__all__ = ["app", "create_app", "ApiToken", "ApiPrincipal", "load_tokens"]

log = logging.getLogger(__name__)

BatchResultKind = get_type_hints(BatchResult)["result"]
"""The core's Literal of per-thread batch results, so the OpenAPI enum follows it."""

TokenScope = Literal["read", "decide"]
ALL_SCOPES: tuple[TokenScope, ...] = ("read", "decide")


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, kw_only=True)
class ApiToken:
    """One configured bearer token, stored as its SHA-256 digest."""

    token_sha256: str
    reviewer: str
    roles: tuple[str, ...] = ()
    scopes: tuple[TokenScope, ...] = ALL_SCOPES

    @classmethod
    def from_secret(
        cls, token: str, reviewer: str, *, roles: Sequence[str] = (), scopes: Sequence[TokenScope] = ALL_SCOPES
    ) -> ApiToken:
        """A token given in clear text (tests, HITL_API_TOKENS)."""
        return cls(token_sha256=_digest(token), reviewer=reviewer, roles=tuple(roles), scopes=tuple(scopes))


@dataclass(frozen=True, kw_only=True)
class ApiPrincipal:
    """Who is calling: the reviewer recorded on decisions, with roles and scopes."""

    reviewer: str
    roles: tuple[str, ...]
    scopes: tuple[TokenScope, ...]
    token_id: str
    """The first 8 hex digits of the token's digest: names the token in logs, reveals nothing."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_tokens(policy: Mapping[str, Any], env: Mapping[str, str] | None = None) -> list[ApiToken]:
    """Tokens from `[[api.tokens]]` in the policy file and from `HITL_API_TOKENS`.

    Raises:
        HitlError: an entry is malformed; the message names it (never the token) and the fix.
    """
    env = os.environ if env is None else env
    tokens: list[ApiToken] = []
    entries = (policy.get("api") or {}).get("tokens", []) if isinstance(policy.get("api", {}), Mapping) else None
    if not isinstance(entries, list):
        raise HitlError('api.tokens in HITL_CONFIG must be an array of tables: [[api.tokens]]\\nreviewer = "...".')
    for number, entry in enumerate(entries, start=1):
        where = f"[[api.tokens]] entry #{number}"
        if not isinstance(entry, Mapping):
            raise HitlError(f"{where} in HITL_CONFIG must be a table with token_sha256 (or token) and reviewer.")
        reviewer = str(entry.get("reviewer") or "").strip()
        if not reviewer:
            raise HitlError(f"{where} has no reviewer; every decision is recorded with the token's reviewer.")
        if bool(entry.get("token")) == bool(entry.get("token_sha256")):
            raise HitlError(f"{where} ({reviewer}) needs exactly one of token = \"...\" or token_sha256 = \"<64 hex>\".")
        digest = str(entry.get("token_sha256") or _digest(str(entry["token"]))).lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise HitlError(
                f"{where} ({reviewer}) has a token_sha256 that is not 64 hex digits; compute it with "
                "`printf %s \"$TOKEN\" | sha256sum`."
            )
        roles = entry.get("roles", [])
        scopes = entry.get("scopes", list(ALL_SCOPES))
        if not isinstance(roles, list) or not isinstance(scopes, list) or not set(scopes) <= set(ALL_SCOPES):
            raise HitlError(f"{where} ({reviewer}): roles must be a list of names, scopes a list drawn from {list(ALL_SCOPES)}.")
        tokens.append(ApiToken(token_sha256=digest, reviewer=reviewer, roles=tuple(map(str, roles)), scopes=tuple(scopes)))
    for number, pair in enumerate(filter(None, (p.strip() for p in env.get("HITL_API_TOKENS", "").split(","))), start=1):
        token, sep, reviewer = pair.partition(":")
        if not sep or not token.strip() or not reviewer.strip():
            raise HitlError(f"HITL_API_TOKENS item #{number} is not token:reviewer; use \"token1:alice,token2:bob\".")
        tokens.append(ApiToken.from_secret(token.strip(), reviewer.strip()))
    return tokens


class _Tokens:
    """Resolves a presented token to its principal in constant time."""

    def __init__(self, tokens: Sequence[ApiToken]) -> None:
        self.tokens = list(tokens)

    def principal(self, presented: str) -> ApiPrincipal | None:
        digest = _digest(presented)
        found: ApiToken | None = None
        for token in self.tokens:  # no early exit: the time spent does not depend on which token matched
            if hmac.compare_digest(digest, token.token_sha256) and found is None:
                found = token
        if found is None:
            return None
        return ApiPrincipal(reviewer=found.reviewer, roles=found.roles, scopes=found.scopes, token_id=digest[:8])


# --------------------------------------------------------------------------- models


_EXAMPLE_THREAD = "demo-email_approval-0000"
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
        json_schema_extra={"examples": [{"thread_id": _EXAMPLE_THREAD, "approved": True, "feedback": "Recipient checked"}]},
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


_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or unknown bearer token."},
    403: {"model": ErrorBody, "description": "The token may not do this."},
    422: {"model": InvalidBody, "description": "Invalid request; `details.field_errors` says where."},
    500: {"model": ErrorBody, "description": "Unexpected error; logged server-side."},
    503: {"model": ErrorBody, "description": "The database is locked, read-only or unreachable; nothing changed."},
}
_THREAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **_AUTH_ERRORS,
    404: {"model": ErrorBody, "description": "No such thread."},
}
_DECIDE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_THREAD_ERRORS,
    409: {"model": AlreadyDecidedBody, "description": "Already decided by someone else (who and when in details), "
          "the thread's graph is not registered (`unknown_graph`), or the decision's outcome is unknown "
          "(`outcome_unknown`: a node may have run without its result being saved; retry or resolve it)."},  # fmt: skip
    422: {"model": InvalidBody, "description": "The answer does not fit; `details.field_errors` says where. Nothing saved."},
}


# --------------------------------------------------------------------------- conversions


def _interrupt_out(item: PendingInterrupt, contract: Any = None) -> InterruptOut:
    return InterruptOut(
        contract=json_safe(contract.as_dict()) if contract is not None else None,
        id=item.id,
        node=item.node,
        kind=item.kind,
        summary=item.summary,
        payload=json_safe(item.value),
        response_schema=json_safe(item.response_schema) if item.response_schema is not None else None,
        decode_error=item.decode_error,
        failed_error=item.failed_error,
    )


def _decision_out(row: Mapping[str, Any], *, model: type[DecisionOut] = DecisionOut, payload: bool = False) -> Any:
    data = {key: _plain(row.get(key)) for key in model.model_fields}
    data["answer"] = _parse_json(data.get("answer"))
    if "payload" in data:
        data["payload"] = _parse_json(data["payload"]) if payload else None
    decided_at = data["decided_at"]
    if not isinstance(decided_at, datetime):
        data["decided_at"] = datetime.fromtimestamp(float(decided_at), timezone.utc)
    return model(**data)


def _plain(value: Any) -> Any:
    """pandas / numpy scalars and NaN to plain Python."""
    if value is None:
        return None
    to_py = getattr(value, "to_pydatetime", None)
    if callable(to_py):  # the audit log keeps microseconds; pandas adds float noise below them
        return to_py(warn=False)
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json_safe(json.loads(text))
    except ValueError:
        return text


def _outcome_out(outcome: ResumeOutcome, thread_id: str, reviewer: str) -> ResumeOut:
    return ResumeOut(
        thread_id=outcome.thread_id or thread_id,
        status=outcome.status,
        error=outcome.error,
        new_interrupts=[_interrupt_out(i) for i in outcome.new_interrupts],
        reviewer=reviewer,
        note=outcome.note,
    )


def _utc(moment: datetime | None, field: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        moment.timestamp()
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidAnswer(f"{field}={moment.isoformat()} is out of range ({exc}).", field_errors={field: str(exc)}) from None
    return moment


# --------------------------------------------------------------------------- errors


def _error(status: int, error: str, message: str, details: dict[str, Any] | None = None, **kw: Any) -> JSONResponse:
    body = {"error": error, "message": message}
    if details is not None:
        body["details"] = json_safe(details)
    return JSONResponse(status_code=status, content=body, **kw)


def _hitl_error(exc: HitlError) -> JSONResponse:
    if isinstance(exc, ThreadNotFound):
        return _error(404, "thread_not_found", str(exc), {"thread_id": exc.thread_id})
    if isinstance(exc, AlreadyDecided):
        return _error(
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
        return _error(422, "invalid_answer", str(exc), {"field_errors": exc.field_errors or {"": str(exc)}})
    if isinstance(exc, NotAuthorized):
        return _error(403, "not_authorized", str(exc))
    if isinstance(exc, OutcomeUnknown):
        # Never 503 "nothing changed": a node may have run. The body names the original
        # decision and the two ways out.
        return _error(409, "outcome_unknown", str(exc), exc.outcome.details())
    if isinstance(exc, StoreError):
        return _error(503, "store_unavailable", str(exc), headers={"Retry-After": "5"})
    if isinstance(exc, _DeskUnavailable):
        return _error(503, "desk_unavailable", str(exc))
    if isinstance(exc, UnknownGraph):
        return _error(409, "unknown_graph", str(exc))
    return _error(422, "hitl_error", str(exc), {"field_errors": {"": str(exc)}})


def _field_path(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _must_propagate(exc: BaseException) -> bool:
    """Ctrl-C and task cancellation (the server shutting down, a client gone) are not errors of
    a request: they must reach the server. Everything else, `SystemExit` raised by some code
    inside a request included, is answered with the JSON error body."""
    if isinstance(exc, BaseExceptionGroup):
        return any(_must_propagate(inner) for inner in exc.exceptions)
    return isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError, GeneratorExit))


class _CatchAll:
    """Turns an unexpected exception into a 500 ErrorBody; the traceback goes to the log only.

    Any `BaseException` but those `_must_propagate` names: a `SystemExit` from a graph's code
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
            if _must_propagate(exc):
                raise
            reference = uuid.uuid4().hex[:12]
            log.exception("Unhandled error in %s %s (reference %s)", scope.get("method"), scope.get("path"), reference)
            if started:
                raise
            response = _error(
                500,
                "internal_error",
                f"The desk hit an unexpected error; it was logged with reference {reference}. Nothing is "
                "reported as decided unless the thread shows it.",
                {"reference": reference},
            )
            await response(scope, receive, send)


def _decided_meanwhile(inbox: Inbox, thread_id: str, interrupt_id: str | None) -> AlreadyDecided | None:
    """`AlreadyDecided` when another reviewer's resume of this thread is running or done.

    `/approve` looks for the thread's pending interrupt first. Between the moment the winner's
    node finished (the checkpoint no longer shows the interrupt) and the moment its audit row
    is written, the loser finds neither a pending interrupt nor a decision in the audit log,
    and `Inbox.decide` says "no pending interrupt" (422). The winner's claim row, written
    before its resume started, tells the truth: someone decided it.
    """
    answerable = {item.id for item in inbox.store.pending_interrupts([thread_id])[thread_id] if item.answerable}
    if interrupt_id is None and answerable:
        return None
    if interrupt_id is not None and interrupt_id in answerable:
        return None
    if interrupt_id is not None:
        claim = inbox.store.claim_of(thread_id, interrupt_id)
        claim = {**claim, "interrupt_id": interrupt_id} if claim else None
    else:
        claim = inbox.store.decided_claim(thread_id)
    if claim is None or claim["state"] not in ("claimed", "done", "recovered"):
        return None
    return AlreadyDecided(claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"], thread_id=thread_id)


_HISTORY_DEFAULT_LIMIT = 100
_HISTORY_MAX_LIMIT = 1000
_HISTORY_CURSOR_MAX_CHARS = 200


def _history_cursor(after_seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after_seq": int(after_seq)}).encode()).decode()


def _history_after(cursor: str | None) -> int:
    """The seq a `/history` `next_cursor` continues after (0 without a cursor).

    Raises:
        InvalidAnswer: not a cursor `/history` issued; the message shows its start and the fix.
    """
    if cursor is None:
        return 0

    def refused(why: str) -> InvalidAnswer:
        shown = repr(cursor[:40] + ("..." if len(cursor) > 40 else ""))
        return InvalidAnswer(
            f"History cursor {shown} is not one /history issued ({why}); pass the next_cursor of the "
            "previous page as it was, or leave cursor out to start from the oldest row.",
            field_errors={"cursor": why},
        )

    if len(cursor) > _HISTORY_CURSOR_MAX_CHARS:
        raise refused(f"longer than {_HISTORY_CURSOR_MAX_CHARS} characters")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except RecursionError:
        raise refused("JSON nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise refused(f"not base64 JSON: {exc}") from None
    after = decoded.get("after_seq") if isinstance(decoded, dict) and set(decoded) == {"after_seq"} else None
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise refused('expected {"after_seq": <row seq>}')
    return after


# --------------------------------------------------------------------------- the app


class _DeskUnavailable(HitlError):
    """The desk's configuration is broken (HITL_CONFIG, the registry): 503 until it is fixed."""


class _Desk:
    """The app's Inbox and tokens, opened on first use."""

    def __init__(self, inbox: Inbox | None, tokens: Sequence[ApiToken] | Mapping[str, str] | None) -> None:
        self._inbox = inbox
        self._owns_inbox = inbox is None
        if isinstance(tokens, Mapping):
            tokens = [ApiToken.from_secret(token, reviewer) for token, reviewer in tokens.items()]
        self._tokens = _Tokens(tokens) if tokens is not None else None
        self._lock = threading.Lock()

    def inbox(self) -> Inbox:
        if self._inbox is None:
            with self._lock:
                if self._inbox is None:
                    try:
                        inbox = Inbox.open()
                    except StoreError:
                        raise
                    except HitlError as exc:  # a bad HITL_CONFIG or registry: the server's problem
                        raise _DeskUnavailable(str(exc)) from None
                    _start_notifier(inbox)
                    self._inbox = inbox
        return self._inbox

    def tokens(self) -> _Tokens:
        if self._tokens is None:
            policy = self.inbox().settings.policy
            with self._lock:
                if self._tokens is None:
                    try:
                        self._tokens = _Tokens(load_tokens(policy))
                    except HitlError as exc:
                        raise _DeskUnavailable(str(exc)) from None
        return self._tokens

    def close(self) -> None:
        """Stop the notifier; close the Inbox if this app opened it."""
        if self._inbox is not None:
            stop_background_notifier(self._inbox)
            if self._owns_inbox:
                self._inbox.close()
                self._inbox = None


def _webhooks_configured() -> bool:
    try:
        return bool(Settings.from_env().policy.get("webhooks"))
    except HitlError:
        return False


def _start_notifier(inbox: Inbox) -> None:
    try:
        start_background_notifier(inbox)
    except HitlError as exc:
        log.error("Webhook notifications are off: %s", exc)


_bearer = HTTPBearer(auto_error=False, description="A token from [[api.tokens]] in HITL_CONFIG or HITL_API_TOKENS.")


def _desk_of(request: Request) -> _Desk:
    desk: _Desk = request.app.state.desk
    return desk


def _principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiPrincipal:
    """The caller, from the bearer token (401 without a configured one)."""
    tokens = _desk_of(request).tokens()
    if not tokens.tokens:
        raise StarletteHTTPException(
            401,
            "No API tokens are configured on this desk. Add [[api.tokens]] entries to the HITL_CONFIG "
            "file or set HITL_API_TOKENS=\"token:reviewer\", then restart the API.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise StarletteHTTPException(401, "Send Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"})
    found = tokens.principal(credentials.credentials)
    if found is None:
        raise StarletteHTTPException(
            401,
            "This bearer token is not configured on the desk; check it, or ask for one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return found


def _reader(who: Annotated[ApiPrincipal, Depends(_principal)]) -> ApiPrincipal:
    if "read" not in who.scopes:
        raise NotAuthorized(f"The token of {who.reviewer} (…{who.token_id}) has no 'read' scope.")
    return who


def _decider(who: Annotated[ApiPrincipal, Depends(_principal)]) -> ApiPrincipal:
    if "decide" not in who.scopes:
        raise NotAuthorized(
            f"The token of {who.reviewer} (…{who.token_id}) may only read: its scopes are "
            f"{list(who.scopes)}. Ask for a token with the 'decide' scope to answer interrupts."
        )
    return who


def _acting(inbox: Inbox, who: ApiPrincipal) -> Any:
    """The token as a `hitl.access.Principal`: its reviewer, its roles plus those [access] maps.

    Roles, four eyes and quorum then apply to API calls as they do to signed-in reviewers.
    """
    try:
        return inbox.principal(who.reviewer, roles=who.roles, source="api")
    except NotAuthorized:
        raise
    except HitlError as exc:  # a bad [access] section: the server's configuration, not the request
        raise _DeskUnavailable(str(exc)) from None


Reader = Annotated[ApiPrincipal, Depends(_reader)]
Decider = Annotated[ApiPrincipal, Depends(_decider)]
ThreadId = Annotated[str, Path(min_length=1, description="The LangGraph thread id.", examples=[_EXAMPLE_THREAD])]


def create_app(inbox: Inbox | None = None, *, tokens: Sequence[ApiToken] | Mapping[str, str] | None = None) -> FastAPI:
    """The REST API over `inbox` (opened from the environment on first request when None).

    Args:
        inbox: the desk to serve; None opens `Inbox.open()` lazily.
        tokens: `{token: reviewer}` or `ApiToken`s; None reads `[[api.tokens]]` from the desk's
            HITL_CONFIG plus HITL_API_TOKENS.
    """
    desk = _Desk(inbox, tokens)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if inbox is not None:
            _start_notifier(inbox)
        elif _webhooks_configured():
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
        description=__doc__.split("\n\n", 1)[0],
        lifespan=lifespan,
    )
    app.state.desk = desk
    app.add_middleware(_CatchAll)

    @app.exception_handler(HitlError)
    async def on_hitl_error(_: Request, exc: HitlError) -> JSONResponse:
        return _hitl_error(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        field_errors: dict[str, str] = {}
        for error in exc.errors():
            field_errors.setdefault(_field_path(error.get("loc", ())), str(error.get("msg", "invalid")))
        summary = "; ".join(f"{path or 'request'}: {message}" for path, message in field_errors.items())
        return _error(422, "invalid_request", f"The request does not fit the API: {summary}", {"field_errors": field_errors})

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 403: "not_authorized", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.get("/healthz", response_model=Health, tags=["meta"],
             responses={503: {"model": ErrorBody, "description": "The database cannot be reached."},
                        500: {"model": ErrorBody, "description": "Unexpected error."}})  # fmt: skip
    def healthz() -> Health:
        """Liveness and database reachability; needs no token."""
        inbox = desk.inbox()
        inbox.store.query("SELECT 1")
        return Health(
            status="ok",
            backend=inbox.store.backend,
            read_only=bool(inbox.store.read_only),
            read_only_reason=inbox.store.read_only_reason,
            indexing=Indexing(**inbox.indexing()),
        )

    @app.get("/pending", response_model=PendingPage, tags=["review"], responses=_AUTH_ERRORS)
    def pending(
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
        acting = _acting(inbox, who)
        page = inbox.pending(
            principal=acting if inbox.access.enabled else None,  # [access]: the token's queue
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
                    interrupts=[_interrupt_out(i) for i in item.interrupts],
                )
                for item in page.items
            ],
            next_cursor=page.next_cursor,
            total=page.total,
            waiting_on_others=page.waiting_on_others,
            indexing=Indexing(**progress) if progress["done"] < progress["total"] else None,
        )

    @app.get("/threads/{thread_id}", response_model=ThreadOut, tags=["review"], responses=_THREAD_ERRORS)
    def thread(thread_id: ThreadId, who: Reader) -> ThreadOut:
        """One thread: its pending interrupts, state values, status, timeline and recent decisions."""
        inbox = desk.inbox()
        view = inbox.thread(thread_id, principal=_acting(inbox, who))
        return ThreadOut(
            thread_id=view.thread_id,
            graph_id=view.graph_id,
            status=view.status,
            read_only_reason=view.read_only_reason,
            waiting_since=view.waiting_since,
            next_nodes=list(view.next_nodes),
            interrupts=[_interrupt_out(i, inbox.contract(i, view.graph_id)) for i in view.interrupts],
            values=json_safe(view.values),
            errors=[TaskError(node=node, error=error) for node, error in view.errors],
            checkpoints=[
                CheckpointOut(checkpoint_id=c.checkpoint_id, created_at=c.created_at, step=c.step, source=c.source)
                for c in view.checkpoints
            ],
            decisions=[_decision_out(row) for row in view.decisions[-50:]],
        )

    @app.post("/threads/{thread_id}/resume", response_model=ResumeOut, tags=["decide"], responses=_DECIDE_ERRORS)
    def resume(thread_id: ThreadId, body: Annotated[ResumeIn, Body()], who: Decider) -> ResumeOut:
        """Answer pending interrupts (`{interrupt_id: answer}`) and resume the graph once."""
        inbox = desk.inbox()
        outcome = inbox.resume(
            thread_id, body.answers, reviewer=who.reviewer, comment=body.comment, principal=_acting(inbox, who)
        )
        return _outcome_out(outcome, thread_id, who.reviewer)

    @app.post("/approve", response_model=ResumeOut, tags=["decide"], responses=_DECIDE_ERRORS)
    def approve(body: ApproveIn, who: Decider) -> ResumeOut:
        """Approve or reject a thread's pending interrupt in the simple `{thread_id, approved, feedback}` shape."""
        inbox = desk.inbox()
        try:
            outcome = inbox.decide(
                body.thread_id, approve=body.approved, reviewer=who.reviewer, comment=body.feedback,
                interrupt_id=body.interrupt_id, principal=_acting(inbox, who),
            )  # fmt: skip
        except InvalidAnswer:
            decided = _decided_meanwhile(inbox, body.thread_id, body.interrupt_id)
            if decided is None:
                raise
            raise decided from None
        return _outcome_out(outcome, body.thread_id, who.reviewer)

    @app.post("/batch", response_model=BatchOut, tags=["decide"], responses=_AUTH_ERRORS)
    def batch(body: BatchIn, who: Decider) -> BatchOut:
        """One decision for many threads; one result per thread (a failure does not stop the rest)."""
        inbox = desk.inbox()
        results = inbox.batch(
            body.thread_ids, approve=body.approved, reviewer=who.reviewer, comment=body.comment, principal=_acting(inbox, who)
        )
        counts: dict[str, int] = {}
        for result in results:
            counts[result.result] = counts.get(result.result, 0) + 1
        return BatchOut(
            results=[BatchResultOut(thread_id=r.thread_id, result=r.result, message=r.message) for r in results],
            counts=counts,
        )

    @app.get(
        "/history",
        response_model=HistoryPage,
        tags=["audit"],
        responses={
            **_AUTH_ERRORS,
            200: {
                "description": "The audit log, oldest first, one page: JSON, or CSV with `format=csv` (the next "
                "page's cursor is then in the `X-Next-Cursor` header).",
                "content": {"text/csv": {"schema": {"type": "string"}}},
                "headers": {
                    "X-Next-Cursor": {
                        "description": "With `format=csv`: pass as `cursor` for the next page; absent on the last page.",
                        "schema": {"type": "string"},
                    }
                },
            },
        },
    )
    def history(
        who: Reader,
        reviewer: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        thread_id: str | None = None,
        since: Annotated[
            datetime | None, Query(description="decided_at >= since: ISO 8601 (UTC when no offset is given) or Unix seconds.")
        ] = None,
        until: Annotated[datetime | None, Query(description="decided_at < until.")] = None,
        include_payload: bool = False,
        output_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
        limit: Annotated[
            int,
            Query(
                ge=1, le=_HISTORY_MAX_LIMIT,
                description=f"Rows per page (default {_HISTORY_DEFAULT_LIMIT}, at most {_HISTORY_MAX_LIMIT}).",
            ),
        ] = _HISTORY_DEFAULT_LIMIT,  # fmt: skip
        cursor: Annotated[
            str | None,
            Query(description="`next_cursor` of the previous page (JSON) or its `X-Next-Cursor` header (CSV)."),
        ] = None,
    ) -> Any:
        """The audit log: one row per decision, with filters, in pages of `limit` rows; JSON or CSV."""
        after_seq = _history_after(cursor)
        inbox = desk.inbox()
        frame = inbox.history(
            principal=_acting(inbox, who),  # [access]: rows about items the token may not see are left out
            thread_id=thread_id,
            reviewer=reviewer,
            graph_id=graph_id,
            kind=kind,
            outcome=outcome,
            since=_utc(since, "since"),
            until=_utc(until, "until"),
        )
        # Rows are oldest first by seq; a page is the `limit` rows after the cursor's seq, so
        # decisions recorded while a client pages never shift the pages it has not read yet.
        frame = frame[frame["seq"].astype("int64") > after_seq]
        page = frame.head(limit)
        next_cursor = _history_cursor(int(page["seq"].iloc[-1])) if len(frame) > limit else None
        if output_format == "csv":
            if not include_payload:
                page = page.drop(columns=["payload"])
            return Response(
                content=page.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ"),
                media_type="text/csv",
                headers={
                    "Content-Disposition": 'attachment; filename="hitl-history.csv"',
                    **({"X-Next-Cursor": next_cursor} if next_cursor else {}),
                },
            )
        rows = [_decision_out(row, model=HistoryRow, payload=include_payload) for row in page.to_dict("records")]
        return HistoryPage(items=rows, count=len(rows), next_cursor=next_cursor)

    app.include_router(qa_router(inbox_of=lambda request: _desk_of(request).inbox(), reader=_reader, decider=_decider,
                                 acting=_acting, responses=_DECIDE_ERRORS))
    return app


app = create_app()
"""The API over the environment's desk: `uvicorn hitl.api:app`."""
