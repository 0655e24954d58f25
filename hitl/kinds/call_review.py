"""The hand-made kinds that propose tool calls: tool_review (tick and edit each call) and sensitive_tools."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from hitl.kinds.base import register
from hitl.kinds.common import ToolCallInfo, as_args, as_bool, as_dict, calls_phrase, compact, fail, get, show, sub, tool_call
from hitl.kinds.handmade import Approval, approved_flag, question_answer

__all__ = ["restore_types", "tool_review_answer", "sensitive_tools_answer", "ToolReview", "SensitiveTools"]


def restore_types(original: Any, edited: Any, *, field: str = "", display: Callable[[Any], Any] = lambda v: v) -> Any:
    """`edited` (parsed from what the reviewer saw) with the original's values and types kept.

    A value the reviewer left as displayed (`display(original) == edited`) is the original,
    byte for byte: Decimal, datetime, bytes, sets and int keys included. A changed value takes
    the original's type where it can (a Decimal from a number, a datetime from ISO text), or
    is refused with a message naming the field.
    """
    try:
        if display(original) == edited:
            return original
    except Exception:  # a display that fails is a change
        pass
    if isinstance(original, Mapping) and isinstance(edited, Mapping):
        by_shown = {str(display(key)) if not isinstance(key, str) else key: key for key in original}
        out: dict[Any, Any] = {}
        for key, value in edited.items():
            source = by_shown.get(key, key)
            out[source] = (
                restore_types(original[source], value, field=sub(field, str(key)), display=display)
                if source in original else value
            )
        return out
    if isinstance(original, (set, frozenset)) and isinstance(edited, list):
        return type(original)(edited)
    if isinstance(original, tuple) and isinstance(edited, list):
        return tuple(edited)
    if isinstance(original, Decimal) and not isinstance(edited, bool) and isinstance(edited, (int, float, str)):
        try:
            return Decimal(str(edited).strip())
        except InvalidOperation:
            raise fail(field, f"must be a decimal number like the original {original}, got {show(edited)}") from None
    if isinstance(original, (datetime, date)) and isinstance(edited, str):
        parse = datetime.fromisoformat if isinstance(original, datetime) else date.fromisoformat
        try:
            return parse(edited.strip())
        except ValueError:
            raise fail(field, f"must be an ISO date{'-time' if isinstance(original, datetime) else ''} like "
                       f"{original.isoformat()}, got {show(edited)}") from None
    if isinstance(original, bytes) and isinstance(edited, str):
        try:
            value = ast.literal_eval(edited) if edited.startswith(("b'", 'b"')) else edited.encode("utf-8")
        except (ValueError, SyntaxError):
            raise fail(field, f"must be bytes written like {original!r}, got {show(edited)}") from None
        if not isinstance(value, bytes):
            raise fail(field, f"must be bytes written like {original!r}, got {show(edited)}")
        return value
    return edited


def tool_review_answer(
    *,
    tools: Sequence[Mapping[str, Any]],
    selected: Sequence[bool],
    edited_args: Sequence[str | Mapping[str, Any] | None] | None = None,
    display: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """Answer a tool review: the ticked tool calls, with possibly edited args.

    Args:
        tools: the payload's `tools` ({name, args} each).
        selected: one tick per tool.
        edited_args: one args value per tool, a dict or its JSON text; None (for all, or
            for one tool) keeps the payload's args exactly as the checkpoint has them.
        display: how the args were displayed for editing; with it, edited JSON keeps the
            original values and types of the fields left as shown (`restore_types`).

    Returns:
        `{"approved": bool, "approved_tools": [{name, args}, ...]}`; approved is False
        when nothing is ticked.
    """
    if len(selected) != len(tools):
        raise fail("tools", f"got {len(selected)} ticks for {len(tools)} tool calls",
                   hint="Send one tick per tool call")
    if edited_args is not None and len(edited_args) != len(tools):
        raise fail("tools", f"got {len(edited_args)} argument sets for {len(tools)} tool calls",
                   hint="Send one args object per tool call")
    approved_tools = []
    for index, (tool, ticked) in enumerate(zip(tools, selected, strict=True)):
        if not as_bool(ticked, f"tools[{index}].selected"):
            continue
        name = get(tool, "name")
        original = get(tool, "args", {})
        raw = original if edited_args is None or edited_args[index] is None else edited_args[index]
        args = as_args(raw, f"tools[{index}].args")
        if raw is not original and display is not None and isinstance(original, Mapping):
            args = restore_types(original, args, field=f"tools[{index}].args", display=display)
        approved_tools.append({"name": name, "args": args})
    return {"approved": bool(approved_tools), "approved_tools": approved_tools}


def sensitive_tools_answer(*, approved: bool, reason: str = "") -> dict[str, Any]:
    """Answer a sensitive-tools gate: all the listed calls run, or none."""
    return question_answer(approved=approved, reason=reason)


def _only_proposed(proposed: Any, approved: Sequence[Mapping[str, Any]]) -> None:
    """Every approved call must be one the agent proposed: matched by id, else in order by name."""
    calls = [c for c in proposed if isinstance(c, Mapping)] if isinstance(proposed, list) else []
    by_id = {c.get("id"): c for c in calls if c.get("id") is not None}
    position = 0
    for index, tool in enumerate(approved):
        if tool.get("id") is not None and tool.get("id") in by_id:
            if by_id[tool["id"]].get("name") != tool.get("name"):
                raise fail(f"approved_tools[{index}].name",
                           f"must stay {by_id[tool['id']].get('name')!r} for call {tool['id']!r}, got {show(tool.get('name'))}",
                           hint="An approval may edit a call's arguments, not change its tool")
            continue
        while position < len(calls) and calls[position].get("name") != tool.get("name"):
            position += 1
        if position >= len(calls):
            names = ", ".join(str(c.get("name")) for c in calls) or "none"
            raise fail(f"approved_tools[{index}].name",
                       f"{show(tool.get('name'))} is not a call the agent proposed (proposed, in order: {names})",
                       hint="Approve only (possibly edited) calls from the request, in their order")
        position += 1


def _listed_calls(value: Any, key: str) -> list[ToolCallInfo]:
    items = get(value, key)
    if not isinstance(items, list):
        return []
    calls = [tool_call(get(item, "name"), get(item, "args")) for item in items]
    return [call for call in calls if call is not None]


def _calls_summary(value: Any, calls: list[ToolCallInfo], noun: str) -> str:
    if not calls:
        return f"0 {noun}s: {compact(get(value, 'message', ''))}"
    return calls_phrase(calls, noun)


@register
class ToolReview(Approval):
    """`{"type": "tool_review", "tools": [{name, args}], "message"}`."""

    name = "tool_review"
    title = "Review tool calls"
    priority = 21
    answer_keys = frozenset({"approved", "approved_tools", "reason"})

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and value.get("type") == "tool_review" and isinstance(value.get("tools"), list)

    def tool_calls(self, value: Any) -> list[ToolCallInfo]:
        return _listed_calls(value, "tools")

    def summary(self, value: Any) -> str:
        return _calls_summary(value, self.tool_calls(value), "tool call")

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        normalized = approved_flag(as_dict(answer, self.name, '{"approved": true, "approved_tools": [...]}'), self.name)
        tools = normalized.get("approved_tools")
        if tools is not None:
            if not isinstance(tools, list):
                raise fail("approved_tools", f"must be a list of tool calls, got {show(tools)}")
            for index, tool in enumerate(tools):
                if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
                    raise fail(f"approved_tools[{index}]", f'must be {{"name", "args"}}, got {show(tool)}')
                as_args(tool.get("args", {}), f"approved_tools[{index}].args")
            _only_proposed(get(value, "tools"), tools)
        return normalized

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        tools = get(value, "tools")
        tools = tools if isinstance(tools, list) else []
        return tool_review_answer(tools=tools, selected=[approve] * len(tools))

    def approved_calls(self, value: Any, answer: Any) -> list[dict[str, Any]] | None:
        if not isinstance(answer, Mapping) or not answer.get("approved"):
            return []
        chosen = answer.get("approved_tools")
        if chosen is None:
            return [dict(call) for call in self.tool_calls(value)]
        return [
            {"name": c.get("name"), "args": dict(c.get("args") or {}) if isinstance(c.get("args"), Mapping) else {}}
            for c in chosen
            if isinstance(c, Mapping)
        ]


@register
class SensitiveTools(Approval):
    """`{"sensitive_tools": [tool calls], "message"}`: all or nothing."""

    name = "sensitive_tools"
    title = "Approve sensitive tool calls"
    priority = 33

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and isinstance(value.get("sensitive_tools"), list)

    def tool_calls(self, value: Any) -> list[ToolCallInfo]:
        return _listed_calls(value, "sensitive_tools")

    def summary(self, value: Any) -> str:
        return _calls_summary(value, self.tool_calls(value), "sensitive tool call")

    def approved_calls(self, value: Any, answer: Any) -> list[dict[str, Any]] | None:
        approved = isinstance(answer, Mapping) and answer.get("approved")
        return [dict(call) for call in self.tool_calls(value)] if approved else []
