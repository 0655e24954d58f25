"""Name, summarise and index interrupt payloads.

An interrupt value is whatever a graph passed to `interrupt()`: a plain string, one of the
hand-made dict shapes from the LangGraph HITL patterns, a LangChain `HITLRequest` or
`ToolApprovalRequest`, an Agent Inbox `HumanInterrupt`, or anything else. `classify` names
the shape (its `Kind`); `summarize`, `search_text` and `tool_calls` read it for the inbox.

Every function here accepts any value (None, numbers, huge or deeply nested structures,
arbitrary objects) and never raises: the inbox must list a thread even when its payload
is strange.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, get_args

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


class ToolCallInfo(TypedDict):
    """One tool call a payload asks about, as `tool_calls` returns it."""

    name: str
    """The tool's name, e.g. `"make_payment"`."""

    args: dict[str, Any]
    """The call's arguments; `{}` when the payload's args were not a dict."""


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


# --------------------------------------------------------------------------- classify


def _is_tool_call_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_human_interrupt(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("action_request"), Mapping)
        and isinstance(value.get("config"), Mapping)
    )


def _classify(value: Any, response_schema: Any) -> Kind:
    if isinstance(value, Mapping):
        kind_tag = value.get("type")
        if kind_tag == "tool_approval" and isinstance(value.get("name"), str):
            return "tool_approval"
        if isinstance(value.get("action_requests"), list) and isinstance(
            value.get("review_configs"), list
        ):
            return "hitl_request"
        if _is_human_interrupt(value):
            return "agent_inbox"
        # Shapes tagged with "type" first: the tag is the author's explicit statement.
        if kind_tag == "edit" and "draft" in value:
            return "edit"
        if kind_tag == "tool_review" and _is_tool_call_list(value.get("tools")):
            return "tool_review"
        if kind_tag == "state_edit":
            return "state_edit"
        if "question" in value and ("action" in value or "details" in value):
            return "question"
        if "stage" in value and "result" in value:
            return "stage"
        if "level" in value and "message" in value:
            return "approval_level"
        if _is_tool_call_list(value.get("sensitive_tools")):
            return "sensitive_tools"
        if "output" in value and "iteration" in value:
            return "feedback"
    elif isinstance(value, str):
        return "confirm"
    elif isinstance(value, (list, tuple)) and value and all(_is_human_interrupt(v) for v in value):
        return "agent_inbox"
    if isinstance(response_schema, Mapping) and response_schema:
        return "schema"
    return "json"


def classify(value: Any, response_schema: Any = None) -> Kind:
    """Name the kind of an interrupt payload.

    Args:
        value: the interrupt value, as `interrupt()` received it.
        response_schema: the interrupt's JSON-Schema `response_schema`, if any. It makes
            an otherwise unknown payload a `schema` kind; known shapes keep their kind
            (the schema is still used to validate their answer).

    Order: LangChain's `tool_approval` and `hitl_request`, then Agent Inbox
    `agent_inbox`, then the hand-made shapes (a string is `confirm`; shapes tagged with
    `"type"` — edit, tool_review, state_edit — before those recognised by keys alone),
    then `schema` when `response_schema` is a non-empty dict, else `json`.

    Returns:
        The `Kind`; `json` for anything unrecognised. Never raises.
    """
    try:
        return _classify(value, response_schema)
    except Exception:  # a hostile Mapping can raise from .get(); fall back to JSON
        return "json"


# --------------------------------------------------------------------------- text helpers

_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]+"
)


def _one_line(text: str, width: int) -> str:
    """Collapse whitespace and control characters; truncate to `width` with an ellipsis."""
    width = max(int(width), 1)
    window = width * 4 + 64
    head = " ".join(_CONTROL.sub(" ", text[:window]).split())
    if len(head) > width or len(text) > window:
        return head[: width - 1].rstrip() + "…"
    return head


def _safe_str(value: Any, limit: int) -> str:
    try:
        text = str(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text[:limit]


def _compact(value: Any, budget: int = 400, depth: int = 0) -> str:
    """A short JSON-like rendering of `value`, bounded in size and depth."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value[:budget]
    if isinstance(value, (int, float)):
        return _safe_str(value, budget)
    if depth >= 4:
        return "…"
    if isinstance(value, Mapping):
        parts: list[str] = []
        used = 0
        try:
            items = iter(value.items())
            for key, item in items:
                if used > budget:
                    parts.append("…")
                    break
                part = f"{_safe_str(key, 60)}={_compact(item, budget - used, depth + 1)}"
                parts.append(part)
                used += len(part) + 2
        except Exception:
            parts.append("…")
        return "{" + ", ".join(parts) + "}" if depth else ", ".join(parts)
    if isinstance(value, (list, tuple)):
        parts = []
        used = 0
        for item in value[:50]:
            if used > budget:
                break
            part = _compact(item, budget - used, depth + 1)
            parts.append(part)
            used += len(part) + 2
        if len(value) > len(parts):
            parts.append("…")
        return "[" + ", ".join(parts) + "]"
    content = getattr(value, "content", None) if not isinstance(value, type) else None
    if isinstance(content, str):
        return content[:budget]
    return _safe_str(value, budget)


def _get(value: Any, key: str, default: Any = None) -> Any:
    if isinstance(value, Mapping):
        try:
            return value.get(key, default)
        except Exception:
            return default
    return default


def _names(calls: list[ToolCallInfo], limit: int = 5) -> str:
    names = [call["name"] for call in calls[:limit]]
    if len(calls) > limit:
        names.append("…")
    return ", ".join(names)


def _calls_phrase(calls: list[ToolCallInfo], noun: str) -> str:
    if len(calls) == 1:
        call = calls[0]
        return f"{call['name']}: {_compact(call['args'])}"
    return f"{len(calls)} {noun}s: {_names(calls)}"


# --------------------------------------------------------------------------- tool_calls


def _call(name: Any, args: Any) -> ToolCallInfo | None:
    if not isinstance(name, str):
        return None
    return ToolCallInfo(name=name, args=dict(args) if isinstance(args, Mapping) else {})


def _tool_calls(value: Any, kind: Kind) -> list[ToolCallInfo]:
    calls: list[ToolCallInfo | None] = []
    if kind in ("tool_review", "sensitive_tools"):
        items = _get(value, "tools" if kind == "tool_review" else "sensitive_tools")
        if isinstance(items, list):
            calls = [_call(_get(item, "name"), _get(item, "args")) for item in items]
    elif kind == "hitl_request":
        items = _get(value, "action_requests")
        if isinstance(items, list):
            calls = [_call(_get(item, "name"), _get(item, "args")) for item in items]
    elif kind == "tool_approval":
        calls = [_call(_get(value, "name"), _get(value, "args"))]
    elif kind == "agent_inbox":
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            request = _get(item, "action_request")
            calls.append(_call(_get(request, "action"), _get(request, "args")))
    return [call for call in calls if call is not None]


def tool_calls(value: Any, kind: Kind | None = None) -> list[ToolCallInfo]:
    """The tool calls a payload asks about, as `{"name", "args"}` dicts.

    Only tool_review, sensitive_tools, hitl_request, tool_approval and agent_inbox
    payloads carry tool calls; other kinds give an empty list. Entries without a string
    name are skipped; non-dict args become `{}`. Never raises.

    Args:
        value: the interrupt value.
        kind: its kind; classified from `value` when None.
    """
    try:
        return _tool_calls(value, kind or classify(value))
    except Exception:
        return []


# --------------------------------------------------------------------------- summarize


def _summary(value: Any, kind: Kind) -> str:
    if kind == "confirm":
        return _compact(value)
    if kind == "question":
        action = _compact(_get(value, "action", ""))
        details = _compact(_get(value, "details", ""))
        question = _compact(_get(value, "question", ""))
        if action:
            return f"{action}: {details or question}"
        return details or question
    if kind == "edit":
        return f"Edit draft: {_compact(_get(value, 'draft', ''))}"
    if kind == "stage":
        return f"Approve stage {_compact(_get(value, 'stage'))}: {_compact(_get(value, 'result'))}"
    if kind == "approval_level":
        return f"{_compact(_get(value, 'level'))} approval: {_compact(_get(value, 'message', ''))}"
    if kind in ("tool_review", "sensitive_tools", "hitl_request", "agent_inbox"):
        calls = _tool_calls(value, kind)
        noun = {
            "tool_review": "tool call",
            "sensitive_tools": "sensitive tool call",
            "hitl_request": "tool call",
            "agent_inbox": "action",
        }[kind]
        if kind == "agent_inbox" and len(calls) == 1:
            item = value[0] if isinstance(value, (list, tuple)) else value
            description = _get(item, "description")
            if isinstance(description, str) and description.strip():
                return f"{calls[0]['name']}: {description}"
        if kind == "hitl_request" and len(calls) == 1:
            requests = _get(value, "action_requests")
            description = _get(requests[0], "description") if requests else None
            if isinstance(description, str) and description.strip():
                return f"{calls[0]['name']}: {description}"
        if not calls:
            return f"0 {noun}s: {_compact(_get(value, 'message', ''))}"
        return _calls_phrase(calls, noun)
    if kind == "tool_approval":
        name = _compact(_get(value, "name", ""))
        description = _get(value, "description")
        if isinstance(description, str) and description.strip():
            return f"{name}: {description}"
        return f"{name}: {_compact(_get(value, 'args', {}))}"
    if kind == "state_edit":
        state = _get(value, "current_state")
        output = _get(state, "output")
        if output is not None:
            return f"Edit state: {_compact(output)}"
        return f"Edit state: {_compact(_get(value, 'message', state))}"
    if kind == "feedback":
        iteration = _compact(_get(value, "iteration"))
        return f"Feedback on iteration {iteration}: {_compact(_get(value, 'output'))}"
    if isinstance(value, Mapping):
        for key in ("message", "question", "description", "title"):
            text = _get(value, key)
            if isinstance(text, str) and text.strip():
                return text
    return _compact(value)


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
        text = _summary(value, kind or classify(value))
    except Exception:
        text = f"<{type(value).__name__} payload>"
    try:
        return _one_line(text, width)
    except Exception:
        return "…"


# --------------------------------------------------------------------------- search_text


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
                    text = _safe_str(item, 40)
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
                    text = content if isinstance(content, str) else _safe_str(item, 400)
                    text = text[: limit - used]
                text = " ".join(_CONTROL.sub(" ", text).split())
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

