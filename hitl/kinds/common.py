"""What every payload kind module shares: reading payloads safely, and checking answers.

Text helpers never raise (payloads can be hostile: any value, any size); answer helpers raise
only `InvalidAnswer`, whose message names the field, the bad value and the fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypedDict

from hitl import forms
from hitl.errors import InvalidAnswer

__all__ = [
    "ToolCallInfo", "CONTROL", "one_line", "safe_str", "compact", "get", "names", "calls_phrase", "tool_call",
    "fail", "show", "as_bool", "schema_quick", "as_text", "sub", "parse_json", "as_args", "as_dict", "check_schema",
]


class ToolCallInfo(TypedDict):
    """One tool call a payload asks about, as `tool_calls` returns it."""

    name: str
    """The tool's name, e.g. `"make_payment"`."""

    args: dict[str, Any]
    """The call's arguments; `{}` when the payload's args were not a dict."""


CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]+"
)


def one_line(text: str, width: int) -> str:
    """Collapse whitespace and control characters; truncate to `width` with an ellipsis."""
    width = max(int(width), 1)
    window = width * 4 + 64
    head = " ".join(CONTROL.sub(" ", text[:window]).split())
    if len(head) > width or len(text) > window:
        return head[: width - 1].rstrip() + "…"
    return head


def safe_str(value: Any, limit: int) -> str:
    try:
        text = str(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text[:limit]


def compact(value: Any, budget: int = 400, depth: int = 0) -> str:
    """A short JSON-like rendering of `value`, bounded in size and depth."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value[:budget]
    if isinstance(value, (int, float)):
        return safe_str(value, budget)
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
                part = f"{safe_str(key, 60)}={compact(item, budget - used, depth + 1)}"
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
            part = compact(item, budget - used, depth + 1)
            parts.append(part)
            used += len(part) + 2
        if len(value) > len(parts):
            parts.append("…")
        return "[" + ", ".join(parts) + "]"
    content = getattr(value, "content", None) if not isinstance(value, type) else None
    if isinstance(content, str):
        return content[:budget]
    return safe_str(value, budget)


def get(value: Any, key: str, default: Any = None) -> Any:
    """`value.get(key, default)` for a mapping (never raises), else `default`."""
    if isinstance(value, Mapping):
        try:
            return value.get(key, default)
        except Exception:
            return default
    return default


def names(calls: list[ToolCallInfo], limit: int = 5) -> str:
    names = [call["name"] for call in calls[:limit]]
    if len(calls) > limit:
        names.append("…")
    return ", ".join(names)


def calls_phrase(calls: list[ToolCallInfo], noun: str) -> str:
    if len(calls) == 1:
        call = calls[0]
        return f"{call['name']}: {compact(call['args'])}"
    return f"{len(calls)} {noun}s: {names(calls)}"


def tool_call(name: Any, args: Any) -> ToolCallInfo | None:
    if not isinstance(name, str):
        return None
    return ToolCallInfo(name=name, args=dict(args) if isinstance(args, Mapping) else {})


def fail(field: str, message: str, *, hint: str = "") -> InvalidAnswer:
    where = f"{field}: " if field else "The answer "
    text = f"{where}{message}" + (f". {hint}" if hint else "")
    return InvalidAnswer(text, field_errors={field: message})


def show(value: Any) -> str:
    try:
        text = json.dumps(value, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def as_bool(value: Any, field: str, *, hint: str = "") -> bool:
    if not isinstance(value, bool):
        raise fail(field, f"must be true or false, got {show(value)}", hint=hint)
    return value


def as_text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise fail(field, f"must be text, got {show(value)}")
    return value


def sub(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def parse_json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            field,
            f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            hint="Fix the JSON text, e.g. quote keys and strings with double quotes",
        ) from None


def as_args(value: Any, field: str) -> dict[str, Any]:
    """Tool args from a dict or its JSON text; must be a JSON object."""
    if isinstance(value, str):
        value = parse_json(value, field) if value.strip() else {}
    if not isinstance(value, Mapping):
        raise fail(field, f"must be a JSON object of arguments, got {show(value)}",
                    hint='Write the arguments as {"name": value, ...}')
    return dict(value)


def as_dict(answer: Any, kind: str, example: str) -> Mapping[str, Any]:
    if not isinstance(answer, Mapping):
        raise fail("", f"must be a JSON object for a {kind} request, got {show(answer)}",
                    hint=f"Send e.g. {example}")
    return answer


def check_schema(response_schema: Any, answer: Any) -> None:
    if not isinstance(response_schema, Mapping):
        return
    errors = forms.validate(response_schema, answer)
    if errors:
        listed = "; ".join(f"{path or 'answer'}: {msg}" for path, msg in list(errors.items())[:5])
        raise InvalidAnswer(
            f"The answer does not fit the interrupt's response schema: {listed}. "
            "Correct these fields and submit again.",
            field_errors=errors,
        )


_COMMENT_FIELDS = ("reason", "comment", "feedback", "message")
_REVIEWER_FIELDS = ("approver_id", "reviewer")


def schema_quick(response_schema: Any, *, approve: bool, comment: str, reviewer: str) -> Any:
    """One-click approve/reject for a response_schema with a boolean `approved` field (plus a comment
    and reviewer field where the schema has them); refused for any other schema."""
    root = forms.field_for(response_schema) if isinstance(response_schema, Mapping) else None
    children = {c.name: c for c in root.children} if root and root.type == "object" else {}
    approved = children.get("approved")
    if approved is None or approved.type != "boolean":
        raise InvalidAnswer(
            "This request needs a typed answer; open it to answer. "
            "One-click approve/reject only works for requests with a true/false 'approved' field.",
            field_errors={"": "needs a typed answer"},
        )
    answer: dict[str, Any] = {"approved": approve}
    for name in _COMMENT_FIELDS:
        child = children.get(name)
        if comment and child is not None and child.type in ("string", "text"):
            answer[name] = comment
            break
    for name in _REVIEWER_FIELDS:
        child = children.get(name)
        if reviewer and child is not None and child.type in ("string", "text"):
            answer[name] = reviewer
            break
    if forms.validate(response_schema, answer):
        raise InvalidAnswer(
            "This request needs more than approve/reject (its schema requires other fields); "
            "open it to answer.",
            field_errors=forms.validate(response_schema, answer),
        )
    return answer
