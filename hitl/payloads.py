"""Name, summarise and index interrupt payloads.

An interrupt value is whatever a graph passed to `interrupt()`: a plain string, one of the
hand-made dict shapes from the LangGraph HITL patterns, a LangChain `HITLRequest` or
`ToolApprovalRequest`, an Agent Inbox `HumanInterrupt`, or anything else. `classify` names
the shape (its `Kind`); `summarize`, `search_text` and `tool_calls` read it for the inbox.

Every function here accepts any value (None, numbers, huge or deeply nested structures,
arbitrary objects) and never raises: the inbox must list a thread even when its payload
is strange.

Each kind's own logic lives in its `hitl.kinds` object; this module is the listing-side facade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from hitl.kinds import classify as _classify_kind
from hitl.kinds import kind_of
from hitl.kinds.common import CONTROL, ToolCallInfo, one_line, safe_str

__all__ = [
    "Kind",
    "KINDS",
    "ToolCallInfo",
    "ReviewRequest",
    "classify",
    "summarize",
    "search_text",
    "tool_calls",
    "review_request",
]

Kind = Literal[
    "confirm",
    "question",
    "edit",
    "stage",
    "approval_level",
    "tool_review",
    "sensitive_tools",
    "state_edit",
    "feedback",
    "hitl_request",
    "tool_approval",
    "agent_inbox",
    "schema",
    "json",
]
"""The payload kinds the desk knows; see the "Payload kinds" table in DESIGN.md."""

KINDS: tuple[Kind, ...] = get_args(Kind)
"""Every `Kind`, in the order of the DESIGN table."""

SEARCH_TEXT_LIMIT = 4000
"""Characters of payload text kept for full-text search."""

_MAX_DEPTH = 64
"""Nesting deeper than this is not walked (payloads can be hostile)."""

_MAX_NODES = 20_000
"""Containers and leaves visited at most when flattening one payload."""


@dataclass(frozen=True, kw_only=True)
class ReviewRequest:
    """What the inbox needs to list one interrupt: its kind, a summary and search text."""

    kind: Kind
    """The payload kind, from `classify`."""

    summary: str
    """One-line human summary, from `summarize`."""

    tool_calls: tuple[ToolCallInfo, ...] = field(default=())
    """Tool calls the payload asks about ({"name", "args"}), from `tool_calls`."""

    search_text: str = ""
    """Flattened text content, from `search_text`."""


def classify(value: Any, response_schema: Any = None) -> Kind:
    """Name the kind of an interrupt payload.

    Args:
        value: the interrupt value, as `interrupt()` received it.
        response_schema: the interrupt's JSON-Schema `response_schema`, if any. It makes
            an otherwise unknown payload a `schema` kind; known shapes keep their kind
            (the schema is still used to validate their answer).

    Kinds are tried in their registered recognition order (`hitl.kinds.ordered`): LangChain's
    `tool_approval` and `hitl_request`, Agent Inbox, the shapes tagged with `"type"`, those
    recognised by keys alone, a plain string (`confirm`), then `schema`, else `json`.

    Returns:
        The `Kind`; `json` for anything unrecognised. Never raises.
    """
    return _classify_kind(value, response_schema)  # type: ignore[return-value]


def tool_calls(value: Any, kind: Kind | None = None) -> list[ToolCallInfo]:
    """The tool calls a payload asks about, as `{"name", "args"}` dicts.

    Only tool_review, sensitive_tools, hitl_request, tool_approval and agent_inbox
    payloads carry tool calls; other kinds give an empty list. Entries without a string
    name are skipped; non-dict args become `{}`. Never raises.
    """
    try:
        return kind_of(kind or classify(value)).tool_calls(value)
    except Exception:
        return []


def summarize(value: Any, kind: Kind | None = None, *, width: int = 120) -> str:
    """A one-line human summary of a payload for the inbox list.

    Examples: "send_email: Q3 report to finance@…", "Approve stage one: …",
    "manager approval: Approval needed from manager",
    "3 tool calls: send_email, make_payment, lookup".

    Args:
        value: the interrupt value.
        kind: its kind; classified from `value` when None.
        width: maximum length; longer text is cut and ends with "…".

    Returns:
        A single line (no newlines or control characters). Never raises.
    """
    try:
        text = kind_of(kind or classify(value)).summary(value)
    except Exception:
        text = f"<{type(value).__name__} payload>"
    try:
        return one_line(text, width)
    except Exception:
        return "…"


def search_text(value: Any, *, limit: int = SEARCH_TEXT_LIMIT) -> str:
    """The payload's text content flattened into one string for full-text search.

    Walks strings and numbers (dict keys are skipped; they are field names, not
    content) breadth-first, up to `limit` characters. Never raises.
    """
    pieces: list[str] = []
    used = 0
    queue: list[tuple[Any, int]] = [(value, 0)]
    visited = 0
    try:
        while queue and used < limit and visited < _MAX_NODES:
            batch, queue = queue, []
            for item, depth in batch:
                visited += 1
                if used >= limit or visited >= _MAX_NODES:
                    break
                if item is None or isinstance(item, bool):
                    continue
                if isinstance(item, str):
                    text = item[: limit - used]
                elif isinstance(item, (int, float)):
                    text = safe_str(item, 40)
                elif depth >= _MAX_DEPTH:
                    continue
                elif isinstance(item, Mapping):
                    queue.extend((child, depth + 1) for child in list(item.values())[:1000])
                    continue
                elif isinstance(item, (list, tuple)):
                    queue.extend((child, depth + 1) for child in item[:1000])
                    continue
                else:
                    content = getattr(item, "content", None)
                    text = content if isinstance(content, str) else safe_str(item, 400)
                    text = text[: limit - used]
                text = " ".join(CONTROL.sub(" ", text).split())
                if text:
                    pieces.append(text)
                    used += len(text) + 1
    except Exception:
        pass
    return " ".join(pieces)[:limit]


def review_request(value: Any, response_schema: Any = None, *, width: int = 120) -> ReviewRequest:
    """Kind, summary, tool calls and search text of one payload, in one call."""
    kind = classify(value, response_schema)
    return ReviewRequest(
        kind=kind,
        summary=summarize(value, kind, width=width),
        tool_calls=tuple(tool_calls(value, kind)),
        search_text=search_text(value),
    )
