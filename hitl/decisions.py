"""Answer builders: a reviewer's input -> the resume value a graph expects.

One builder per payload kind turns what a form collected into the value passed to
`Command(resume=...)`, checking it on the way; `validate_answer` checks an answer that
arrives as raw JSON (REST API, CLI); `quick_answer` says what a one-click approve/reject
means for each kind (batch actions, `POST /approve`).

Everything here is pure and raises only `InvalidAnswer`, whose message names the field,
the bad value and the fix, and whose `field_errors` maps field paths to messages.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from hitl import forms
from hitl.errors import InvalidAnswer
from hitl.payloads import Kind

__all__ = [
    "DECISION_TYPES",
    "EDIT_ACTIONS",
    "AGENT_INBOX_TYPES",
    "confirm_answer",
    "question_answer",
    "edit_answer",
    "stage_answer",
    "approval_level_answer",
    "tool_review_answer",
    "restore_types",
    "sensitive_tools_answer",
    "state_edit_answer",
    "feedback_answer",
    "json_answer",
    "hitl_request_answer",
    "tool_approval_answer",
    "agent_inbox_answer",
    "schema_answer",
    "allowed_decisions",
    "check_schema",
    "show_value",
    "validate_answer",
    "quick_answer",
]

DecisionType = Literal["approve", "edit", "reject", "respond"]
DECISION_TYPES: tuple[DecisionType, ...] = ("approve", "edit", "reject", "respond")
"""LangChain HumanInTheLoopMiddleware decision types."""

EditAction = Literal["approve", "reject", "regenerate"]
EDIT_ACTIONS: tuple[EditAction, ...] = ("approve", "reject", "regenerate")
"""Actions of the `edit` kind's answer."""

AgentInboxType = Literal["accept", "ignore", "response", "edit"]
AGENT_INBOX_TYPES: tuple[AgentInboxType, ...] = ("accept", "ignore", "response", "edit")
"""Agent Inbox `HumanResponse` types."""

_INBOX_FLAG: dict[str, str] = {
    "accept": "allow_accept",
    "ignore": "allow_ignore",
    "response": "allow_respond",
    "edit": "allow_edit",
}


# --------------------------------------------------------------------------- helpers


def _fail(field: str, message: str, *, hint: str = "") -> InvalidAnswer:
    where = f"{field}: " if field else "The answer "
    text = f"{where}{message}" + (f". {hint}" if hint else "")
    return InvalidAnswer(text, field_errors={field: message})


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _bool(value: Any, field: str, *, hint: str = "") -> bool:
    if not isinstance(value, bool):
        raise _fail(field, f"must be true or false, got {_show(value)}", hint=hint)
    return value


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(field, f"must be text, got {_show(value)}")
    return value


def _sub(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _parse_json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(
            field,
            f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            hint="Fix the JSON text, e.g. quote keys and strings with double quotes",
        ) from None


def _args(value: Any, field: str) -> dict[str, Any]:
    """Tool args from a dict or its JSON text; must be a JSON object."""
    if isinstance(value, str):
        value = _parse_json(value, field) if value.strip() else {}
    if not isinstance(value, Mapping):
        raise _fail(field, f"must be a JSON object of arguments, got {_show(value)}",
                    hint='Write the arguments as {"name": value, ...}')
    return dict(value)


def _only_proposed(proposed: Any, approved: Sequence[Mapping[str, Any]]) -> None:
    """Every approved call must be one the agent proposed: matched by id, else in order by name."""
    calls = [c for c in proposed if isinstance(c, Mapping)] if isinstance(proposed, list) else []
    by_id = {c.get("id"): c for c in calls if c.get("id") is not None}
    position = 0
    for index, tool in enumerate(approved):
        if tool.get("id") is not None and tool.get("id") in by_id:
            if by_id[tool["id"]].get("name") != tool.get("name"):
                raise _fail(f"approved_tools[{index}].name",
                            f"must stay {by_id[tool['id']].get('name')!r} for call {tool['id']!r}, got {_show(tool.get('name'))}",
                            hint="An approval may edit a call's arguments, not change its tool")
            continue
        while position < len(calls) and calls[position].get("name") != tool.get("name"):
            position += 1
        if position >= len(calls):
            names = ", ".join(str(c.get("name")) for c in calls) or "none"
            raise _fail(f"approved_tools[{index}].name",
                        f"{_show(tool.get('name'))} is not a call the agent proposed (proposed, in order: {names})",
                        hint="Approve only (possibly edited) calls from the request, in their order")
        position += 1


def _dict(answer: Any, kind: str, example: str) -> Mapping[str, Any]:
    if not isinstance(answer, Mapping):
        raise _fail("", f"must be a JSON object for a {kind} request, got {_show(answer)}",
                    hint=f"Send e.g. {example}")
    return answer


def _get(value: Any, key: str, default: Any = None) -> Any:
    return value.get(key, default) if isinstance(value, Mapping) else default


def _schema_errors(response_schema: Any, answer: Any) -> None:
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


def show_value(value: Any) -> str:
    """A short JSON rendering of a value for an error message."""
    return _show(value)


def check_schema(response_schema: Any, answer: Any) -> None:
    """Raise `InvalidAnswer` when `answer` does not fit the JSON Schema (no-op without one)."""
    _schema_errors(response_schema, answer)


# --------------------------------------------------------------------------- hand-made kinds


def confirm_answer(approved: bool) -> bool:
    """Answer a plain-string confirmation: True to proceed, False to cancel."""
    return _bool(approved, "approved", hint="Send true to proceed or false to cancel")


def question_answer(*, approved: bool, reason: str = "") -> dict[str, Any]:
    """Answer an `{"action", "details", "question"}` payload; the reason is kept when given."""
    answer: dict[str, Any] = {"approved": _bool(approved, "approved")}
    if _text(reason, "reason").strip():
        answer["reason"] = reason.strip()
    return answer


def edit_answer(*, action: str, edited: Any = None, draft: Any = None) -> dict[str, Any]:
    """Answer an edit payload: approve (possibly edited), reject, or regenerate.

    Args:
        action: "approve", "reject" or "regenerate".
        edited: the reviewer's version of the draft; sent only when approving a change.
        draft: the payload's draft, to tell whether `edited` changed anything.
    """
    if action not in EDIT_ACTIONS:
        raise _fail("action", f"must be one of {', '.join(EDIT_ACTIONS)}, got {_show(action)}")
    answer: dict[str, Any] = {"action": action}
    if action == "approve" and edited is not None:
        if isinstance(draft, str) and not isinstance(edited, str):
            raise _fail("edited", f"must be text like the draft, got {_show(edited)}")
        if isinstance(edited, str) and isinstance(draft, str) and not edited.strip():
            raise _fail("edited", "is empty", hint="Write the text, or reject the draft instead")
        if edited != draft:
            answer["edited"] = edited
    return answer


def stage_answer(*, approved: bool, reason: str = "") -> dict[str, Any]:
    """Answer a stage review (`{"stage", "result", "message"}`)."""
    return question_answer(approved=approved, reason=reason)


def approval_level_answer(*, approved: bool, approver_id: str) -> dict[str, Any]:
    """Answer one level of a multi-level approval; approving needs the approver's id."""
    approved = _bool(approved, "approved")
    approver_id = _text(approver_id, "approver_id").strip()
    if approved and not approver_id:
        raise _fail("approver_id", "is required to approve",
                    hint="Enter who approves at this level (your reviewer name)")
    return {"approved": approved, "approver_id": approver_id}


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
                restore_types(original[source], value, field=_sub(field, str(key)), display=display)
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
            raise _fail(field, f"must be a decimal number like the original {original}, got {_show(edited)}") from None
    if isinstance(original, (datetime, date)) and isinstance(edited, str):
        parse = datetime.fromisoformat if isinstance(original, datetime) else date.fromisoformat
        try:
            return parse(edited.strip())
        except ValueError:
            raise _fail(field, f"must be an ISO date{'-time' if isinstance(original, datetime) else ''} like "
                        f"{original.isoformat()}, got {_show(edited)}") from None
    if isinstance(original, bytes) and isinstance(edited, str):
        try:
            value = ast.literal_eval(edited) if edited.startswith(("b'", 'b"')) else edited.encode("utf-8")
        except (ValueError, SyntaxError):
            raise _fail(field, f"must be bytes written like {original!r}, got {_show(edited)}") from None
        if not isinstance(value, bytes):
            raise _fail(field, f"must be bytes written like {original!r}, got {_show(edited)}")
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
        raise _fail("tools", f"got {len(selected)} ticks for {len(tools)} tool calls",
                    hint="Send one tick per tool call")
    if edited_args is not None and len(edited_args) != len(tools):
        raise _fail("tools", f"got {len(edited_args)} argument sets for {len(tools)} tool calls",
                    hint="Send one args object per tool call")
    approved_tools = []
    for index, (tool, ticked) in enumerate(zip(tools, selected, strict=True)):
        if not _bool(ticked, f"tools[{index}].selected"):
            continue
        name = _get(tool, "name")
        original = _get(tool, "args", {})
        raw = original if edited_args is None or edited_args[index] is None else edited_args[index]
        args = _args(raw, f"tools[{index}].args")
        if raw is not original and display is not None and isinstance(original, Mapping):
            args = restore_types(original, args, field=f"tools[{index}].args", display=display)
        approved_tools.append({"name": name, "args": args})
    return {"approved": bool(approved_tools), "approved_tools": approved_tools}


def sensitive_tools_answer(*, approved: bool, reason: str = "") -> dict[str, Any]:
    """Answer a sensitive-tools gate: all the listed calls run, or none."""
    return question_answer(approved=approved, reason=reason)


def state_edit_answer(
    *,
    current_state: Mapping[str, Any],
    new_output: Any,
    new_metadata: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Answer a state edit; `modified` is computed by comparing with the current state.

    Args:
        current_state: the payload's `current_state` ({"output", "metadata"}).
        new_output: the reviewer's output.
        new_metadata: the reviewer's metadata, a dict or its JSON text; None keeps it.
    """
    state = current_state if isinstance(current_state, Mapping) else {}
    old_output = state.get("output")
    old_metadata = state.get("metadata", {})
    if isinstance(old_output, str) and not isinstance(new_output, str):
        raise _fail("new_output", f"must be text, got {_show(new_output)}")
    if new_metadata is None:
        metadata = old_metadata
    elif isinstance(new_metadata, str):
        metadata = _parse_json(new_metadata, "new_metadata") if new_metadata.strip() else {}
    else:
        metadata = new_metadata
    if not isinstance(metadata, Mapping):
        raise _fail("new_metadata", f"must be a JSON object, got {_show(metadata)}")
    metadata = dict(metadata)
    if new_output == old_output and metadata == (old_metadata or {}):
        return {"modified": False}
    return {"modified": True, "new_output": new_output, "new_metadata": metadata}


def feedback_answer(*, approved: bool, feedback: str = "") -> dict[str, Any]:
    """Answer a feedback loop: approve the output, or send feedback for another round."""
    approved = _bool(approved, "approved")
    feedback = _text(feedback, "feedback").strip()
    if not approved and not feedback:
        raise _fail("feedback", "is required when not approving",
                    hint="Say what the next iteration should change")
    answer: dict[str, Any] = {"approved": approved}
    if feedback:
        answer["feedback"] = feedback
    return answer


def json_answer(text: str) -> Any:
    """Parse an answer typed as JSON text."""
    if not isinstance(text, str):
        raise _fail("", f"must be JSON text, got {_show(text)}")
    if not text.strip():
        raise _fail("", "is empty", hint='Type a JSON value, e.g. true or {"approved": true}')
    return _parse_json(text, "")


def schema_answer(response_schema: Mapping[str, Any], data: Any) -> Any:
    """Coerce form data to the response schema's types and validate it."""
    value = forms.coerce(response_schema, data)
    _schema_errors(response_schema, value)
    return value


# --------------------------------------------------------------------------- LangChain HITL


def allowed_decisions(response_schema: Any) -> tuple[str, ...]:
    """Decision types a per-call `response_schema` accepts (all four when there is none)."""
    if not isinstance(response_schema, Mapping):
        return DECISION_TYPES
    root = forms.field_for(response_schema)
    if root.type == "union" and root.discriminator == "type":
        return tuple(str(v.value) for v in root.variants)
    if root.type == "object":
        for child in root.children:
            if child.name == "type" and child.type == "enum":
                return tuple(str(option) for option in child.options)
    return DECISION_TYPES


def _decision(
    decision: Any, *, name: str, allowed: Sequence[str], field: str, label: str
) -> dict[str, Any]:
    """Normalise one HumanInTheLoopMiddleware decision for the tool `name`."""
    if not isinstance(decision, Mapping):
        raise _fail(field, f'must be an object like {{"type": "approve"}}, got {_show(decision)}')
    kind = decision.get("type")
    if kind not in DECISION_TYPES:
        raise _fail(_sub(field, "type"), f"must be one of {', '.join(allowed)}, got {_show(kind)}")
    if kind not in allowed:
        raise _fail(_sub(field, "type"), f"{kind!r} is not allowed for {label}",
                    hint=f"Allowed: {', '.join(allowed)}")
    if kind == "approve":
        return {"type": "approve"}
    if kind == "edit":
        edited = decision.get("edited_action")
        if isinstance(edited, Mapping):
            edited_name = edited.get("name", name)
            if edited_name != name:
                raise _fail(_sub(field, "edited_action.name"),
                            f"must stay {name!r}, got {_show(edited_name)}",
                            hint="An edit changes the arguments, not the tool")
            raw_args = edited.get("args", {})
        else:
            raw_args = decision.get("args", {})
        args = _args(raw_args, _sub(field, "edited_action.args"))
        return {"type": "edit", "edited_action": {"name": name, "args": args}}
    message = _text(decision.get("message"), _sub(field, "message")).strip()
    if kind == "respond":
        if not message:
            raise _fail(_sub(field, "message"), "is required for a respond decision",
                        hint="Write the answer the tool should return")
        return {"type": "respond", "message": message}
    return {"type": "reject", "message": message} if message else {"type": "reject"}


def _review_configs(value: Any) -> tuple[list[Any], list[Sequence[str]]]:
    requests = _get(value, "action_requests")
    configs = _get(value, "review_configs")
    requests = list(requests) if isinstance(requests, list) else []
    configs = list(configs) if isinstance(configs, list) else []
    by_name = {_get(c, "action_name"): c for c in configs}
    allowed: list[Sequence[str]] = []
    for index, request in enumerate(requests):
        config = None
        # The middleware emits one config per request, in order; others may share configs.
        aligned = len(configs) == len(requests)
        if aligned and _get(configs[index], "action_name") == _get(request, "name"):
            config = configs[index]
        config = config or by_name.get(_get(request, "name"))
        decisions = _get(config, "allowed_decisions")
        allowed.append(tuple(decisions) if isinstance(decisions, list) else DECISION_TYPES)
    return requests, allowed


def hitl_request_answer(value: Mapping[str, Any], decisions: Sequence[Any]) -> dict[str, Any]:
    """Answer a batched `HITLRequest`: one decision per action request, in order.

    Each decision is `{"type": "approve"}`, `{"type": "edit", "edited_action": {"args"}}`
    (or `{"type": "edit", "args": ...}`; args may be JSON text), `{"type": "reject",
    "message"?}` or `{"type": "respond", "message"}`, and must be allowed by that action's
    review config. Edits keep the tool name.

    Returns:
        `{"decisions": [...]}`, the `HITLResponse`.
    """
    requests, allowed = _review_configs(value)
    if isinstance(decisions, (str, bytes)) or not isinstance(decisions, Sequence):
        raise _fail("decisions", f"must be a list, got {_show(decisions)}")
    if len(decisions) != len(requests):
        raise _fail("decisions", f"got {len(decisions)} decisions for {len(requests)} actions",
                    hint="Send exactly one decision per action, in the order shown")
    out = []
    for index, (request, decision) in enumerate(zip(requests, decisions, strict=True)):
        name = str(_get(request, "name", ""))
        out.append(_decision(decision, name=name, allowed=allowed[index],
                             field=f"decisions[{index}]", label=f"action {index + 1} ({name})"))
    return {"decisions": out}


def tool_approval_answer(
    value: Mapping[str, Any], response_schema: Mapping[str, Any] | None, decision: Any
) -> dict[str, Any]:
    """Answer a per-call `ToolApprovalRequest` with one decision.

    The decision types allowed come from `response_schema`; an edit keeps the tool name
    and its args are checked against the tool's argument schema.
    """
    name = str(_get(value, "name", ""))
    answer = _decision(decision, name=name, allowed=allowed_decisions(response_schema),
                       field="", label=f"the tool call {name}")
    _schema_errors(response_schema, answer)
    return answer


# --------------------------------------------------------------------------- Agent Inbox


def _interrupts(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def agent_inbox_answer(value: Any, responses: Any) -> list[dict[str, Any]]:
    """Answer Agent Inbox `HumanInterrupt`s: one `HumanResponse` per interrupt.

    Each response is `{"type": "accept" | "ignore" | "response" | "edit", "args"}`: args is
    None for accept/ignore, the text for response, and for edit the new args (a dict or
    its JSON text, or an `{"action", "args"}` request keeping the action). The matching
    `config.allow_*` flag must be true.

    Returns:
        A list of HumanResponse dicts (a list even for a single interrupt, as the Agent
        Inbox sends it).
    """
    interrupts = _interrupts(value)
    if isinstance(responses, Mapping):
        responses = [responses]
    if isinstance(responses, (str, bytes)) or not isinstance(responses, Sequence):
        raise _fail("", f"must be a list of responses, got {_show(responses)}")
    if len(responses) != len(interrupts):
        raise _fail("", f"has {len(responses)} responses for {len(interrupts)} requests",
                    hint="Send one response per request")
    out: list[dict[str, Any]] = []
    for index, (item, response) in enumerate(zip(interrupts, responses, strict=True)):
        field = f"[{index}]"
        action = _get(_get(item, "action_request"), "action", "")
        config = _get(item, "config", {})
        if not isinstance(response, Mapping):
            raise _fail(field,
                        f'must be an object like {{"type": "accept"}}, got {_show(response)}')
        kind = response.get("type")
        permitted = [t for t in AGENT_INBOX_TYPES if _get(config, _INBOX_FLAG[t]) is True]
        if kind not in AGENT_INBOX_TYPES:
            raise _fail(f"{field}.type",
                        f"must be one of {', '.join(permitted)}, got {_show(kind)}")
        if kind not in permitted:
            raise _fail(f"{field}.type", f"{kind!r} is not allowed for {action!r} "
                        f"({_INBOX_FLAG[kind]} is false)",
                        hint=f"Allowed: {', '.join(permitted) or 'nothing'}")
        args = response.get("args")
        if kind in ("accept", "ignore"):
            out.append({"type": kind, "args": None})
        elif kind == "response":
            text = _text(args, f"{field}.args").strip()
            if not text:
                raise _fail(f"{field}.args", "is required for a response",
                            hint="Write the reply to send to the agent")
            out.append({"type": "response", "args": text})
        else:
            if isinstance(args, Mapping) and "args" in args and "action" in args:
                if args["action"] != action:
                    raise _fail(f"{field}.args.action",
                                f"must stay {action!r}, got {_show(args['action'])}",
                                hint="An edit changes the arguments, not the action")
                args = args["args"]
            new_args = _args(args if args is not None else {}, f"{field}.args.args")
            out.append({"type": "edit", "args": {"action": action, "args": new_args}})
    return out


# --------------------------------------------------------------------------- raw answers


def _shape(kind: Kind, value: Any, answer: Any, response_schema: Any) -> Any:
    if kind == "confirm":
        return confirm_answer(answer)
    if kind in ("question", "stage", "sensitive_tools"):
        data = _dict(answer, kind, '{"approved": true}')
        normalized = dict(data)
        normalized["approved"] = _bool(data.get("approved"), "approved")
        _text(data.get("reason"), "reason")
        return normalized
    if kind == "edit":
        data = _dict(answer, kind, '{"action": "approve"}')
        if data.get("action") not in EDIT_ACTIONS:
            raise _fail("action", f"must be one of {', '.join(EDIT_ACTIONS)}, "
                        f"got {_show(data.get('action'))}")
        return dict(data)
    if kind == "approval_level":
        data = _dict(answer, kind, '{"approved": true, "approver_id": "alice"}')
        normalized = dict(data)
        normalized.update(approval_level_answer(approved=data.get("approved"),
                                                approver_id=data.get("approver_id", "")))
        return normalized
    if kind == "tool_review":
        data = _dict(answer, kind, '{"approved": true, "approved_tools": [...]}')
        normalized = dict(data)
        normalized["approved"] = _bool(data.get("approved"), "approved")
        tools = data.get("approved_tools")
        if tools is not None:
            if not isinstance(tools, list):
                raise _fail("approved_tools", f"must be a list of tool calls, got {_show(tools)}")
            for index, tool in enumerate(tools):
                if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
                    raise _fail(f"approved_tools[{index}]",
                                f"must be {{\"name\", \"args\"}}, got {_show(tool)}")
                _args(tool.get("args", {}), f"approved_tools[{index}].args")
            _only_proposed(_get(value, "tools"), tools)
        return normalized
    if kind == "state_edit":
        data = _dict(answer, kind, '{"modified": false}')
        normalized = dict(data)
        normalized["modified"] = _bool(data.get("modified"), "modified")
        if normalized["modified"]:
            if "new_output" not in data:
                raise _fail("new_output", "is required when modified is true",
                            hint="Send the new output, or modified: false")
            if "new_metadata" in data and not isinstance(data["new_metadata"], Mapping):
                raise _fail("new_metadata",
                            f"must be a JSON object, got {_show(data['new_metadata'])}")
        return normalized
    if kind == "feedback":
        data = _dict(answer, kind, '{"approved": false, "feedback": "..."}')
        normalized = dict(data)
        normalized["approved"] = _bool(data.get("approved"), "approved")
        _text(data.get("feedback"), "feedback")
        return normalized
    if kind == "hitl_request":
        data = _dict(answer, kind, '{"decisions": [{"type": "approve"}]}')
        return hitl_request_answer(value, data.get("decisions"))
    if kind == "tool_approval":
        return tool_approval_answer(value, response_schema, answer)
    if kind == "agent_inbox":
        return agent_inbox_answer(value, answer)
    if kind == "schema":
        return forms.coerce(response_schema, answer)
    return answer


def validate_answer(kind: Kind, value: Any, answer: Any, response_schema: Any = None) -> Any:
    """Check a raw (JSON) answer against the kind's resume shape and the response schema.

    Args:
        kind: the payload kind.
        value: the interrupt value (needed for hitl_request, tool_approval, agent_inbox).
        answer: the proposed resume value.
        response_schema: the interrupt's JSON Schema, validated with jsonschema when a dict.

    Returns:
        The answer, normalised (e.g. decisions with their tool names pinned).

    Raises:
        InvalidAnswer: naming each bad field in `field_errors`.
    """
    normalized = _shape(kind, value, answer, response_schema)
    _schema_errors(response_schema, normalized)
    return normalized


# --------------------------------------------------------------------------- one-click


_PAST = {"approve": "approved", "reject": "rejected"}
_COMMENT_FIELDS = ("reason", "comment", "feedback", "message")
_REVIEWER_FIELDS = ("approver_id", "reviewer")


def _schema_quick(response_schema: Any, *, approve: bool, comment: str, reviewer: str) -> Any:
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


def _quick(
    kind: Kind, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any
) -> Any:
    if kind == "confirm":
        return approve
    if kind in ("question", "stage", "sensitive_tools"):
        return {"approved": True} if approve else question_answer(approved=False, reason=comment)
    if kind == "edit":
        return {"action": "approve" if approve else "reject"}
    if kind == "approval_level":
        if approve and not reviewer.strip():
            raise _fail("approver_id", "is required to approve",
                        hint="Pass the reviewer's name so it is recorded as approver_id")
        return {"approved": approve, "approver_id": reviewer.strip()}
    if kind == "tool_review":
        tools = _get(value, "tools")
        tools = tools if isinstance(tools, list) else []
        return tool_review_answer(tools=tools, selected=[approve] * len(tools))
    if kind == "state_edit":
        if approve:
            return {"modified": False}
        raise _fail("modified", "a state edit cannot be rejected in one click",
                    hint="Open it to change the state, or approve it unchanged")
    if kind == "feedback":
        return feedback_answer(approved=approve, feedback="" if approve else comment)
    if kind == "hitl_request":
        requests, allowed = _review_configs(value)
        wanted = "approve" if approve else "reject"
        decisions = []
        for index, request in enumerate(requests):
            if wanted not in allowed[index]:
                name = _get(request, "name", "?")
                raise _fail(f"decisions[{index}].type",
                            f"action {index + 1} ({name}) cannot be {_PAST[wanted]} in batch: "
                            f"it allows only {', '.join(allowed[index])}",
                            hint="Open the request and decide that action individually")
            decision: dict[str, Any] = {"type": wanted}
            if not approve and comment:
                decision["message"] = comment
            decisions.append(decision)
        return hitl_request_answer(value, decisions)
    if kind == "tool_approval":
        decision = {"type": "approve"} if approve else {"type": "reject", "message": comment}
        if decision["type"] not in allowed_decisions(response_schema):
            name = _get(value, "name", "?")
            raise _fail("type", f"{name} cannot be {_PAST[decision['type']]} in one click: "
                        "it allows "
                        f"only {', '.join(allowed_decisions(response_schema))}",
                        hint="Open the request to answer it")
        return tool_approval_answer(value, response_schema, decision)
    if kind == "agent_inbox":
        responses = []
        for index, item in enumerate(_interrupts(value)):
            config = _get(item, "config", {})
            action = _get(_get(item, "action_request"), "action", "?")
            if approve:
                if _get(config, "allow_accept") is not True:
                    raise _fail(f"[{index}].type",
                                f"{action!r} cannot be accepted (allow_accept is false)",
                                hint="Open the request to respond or edit")
                responses.append({"type": "accept", "args": None})
            elif _get(config, "allow_ignore") is True:
                responses.append({"type": "ignore", "args": None})
            elif _get(config, "allow_respond") is True and comment.strip():
                responses.append({"type": "response", "args": comment})
            else:
                raise _fail(f"[{index}].type",
                            f"{action!r} cannot be rejected in one click: ignoring is not allowed"
                            + (" and responding needs a comment"
                               if _get(config, "allow_respond") else ""),
                            hint="Add a comment or open the request to answer")
        return agent_inbox_answer(value, responses)
    return _schema_quick(response_schema, approve=approve, comment=comment, reviewer=reviewer)


def quick_answer(
    kind: Kind,
    value: Any,
    *,
    approve: bool,
    comment: str = "",
    reviewer: str = "",
    response_schema: Any = None,
) -> Any:
    """The answer a one-click approve or reject means for a payload of this kind.

    Args:
        kind: the payload kind.
        value: the interrupt value.
        approve: True for approve, False for reject.
        comment: the reviewer's comment; used as the reject reason/feedback/message.
        reviewer: the reviewer's name; used as approval_level's approver_id.
        response_schema: the interrupt's JSON Schema; the answer is validated against it.

    Raises:
        InvalidAnswer: when this kind (or this request's configuration) cannot be
            answered in one click, saying what to do instead.
    """
    comment = (comment or "").strip()
    reviewer = reviewer or ""
    answer = _quick(kind, value, approve=_bool(approve, "approve"), comment=comment,
                    reviewer=reviewer, response_schema=response_schema)
    return validate_answer(kind, value, answer, response_schema)
