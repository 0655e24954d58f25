"""LangChain's HumanInTheLoopMiddleware payloads: the batched `HITLRequest` (`hitl_request`) and
the per-call `ToolApprovalRequest` (`tool_approval`). Their format defines their answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from hitl import forms
from hitl.kinds.base import ActionSpec, PayloadKind, register
from hitl.kinds.common import (
    ToolCallInfo,
    as_args,
    as_text,
    calls_phrase,
    check_schema,
    compact,
    fail,
    get,
    show,
    sub,
    tool_call,
)

__all__ = [
    "DECISION_TYPES", "APPROVING_DECISIONS", "allowed_decisions", "decided_calls", "hitl_request_answer", "tool_approval_answer",
]

APPROVING_DECISIONS = ("approve", "edit", "accept")
"""HumanInTheLoopMiddleware / Agent Inbox decision types that let a tool call run."""

_PAST = {"approve": "approved", "reject": "rejected"}


DecisionType = Literal["approve", "edit", "reject", "respond"]


DECISION_TYPES: tuple[DecisionType, ...] = ("approve", "edit", "reject", "respond")


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
        raise fail(field, f'must be an object like {{"type": "approve"}}, got {show(decision)}')
    kind = decision.get("type")
    if kind not in DECISION_TYPES:
        raise fail(sub(field, "type"), f"must be one of {', '.join(allowed)}, got {show(kind)}")
    if kind not in allowed:
        raise fail(sub(field, "type"), f"{kind!r} is not allowed for {label}",
                    hint=f"Allowed: {', '.join(allowed)}")
    if kind == "approve":
        return {"type": "approve"}
    if kind == "edit":
        edited = decision.get("edited_action")
        if isinstance(edited, Mapping):
            edited_name = edited.get("name", name)
            if edited_name != name:
                raise fail(sub(field, "edited_action.name"),
                            f"must stay {name!r}, got {show(edited_name)}",
                            hint="An edit changes the arguments, not the tool")
            raw_args = edited.get("args", {})
        else:
            raw_args = decision.get("args", {})
        args = as_args(raw_args, sub(field, "edited_action.args"))
        return {"type": "edit", "edited_action": {"name": name, "args": args}}
    message = as_text(decision.get("message"), sub(field, "message")).strip()
    if kind == "respond":
        if not message:
            raise fail(sub(field, "message"), "is required for a respond decision",
                        hint="Write the answer the tool should return")
        return {"type": "respond", "message": message}
    return {"type": "reject", "message": message} if message else {"type": "reject"}


def _review_configs(value: Any) -> tuple[list[Any], list[Sequence[str]]]:
    requests = get(value, "action_requests")
    configs = get(value, "review_configs")
    requests = list(requests) if isinstance(requests, list) else []
    configs = list(configs) if isinstance(configs, list) else []
    by_name = {get(c, "action_name"): c for c in configs}
    allowed: list[Sequence[str]] = []
    for index, request in enumerate(requests):
        config = None
        # The middleware emits one config per request, in order; others may share configs.
        aligned = len(configs) == len(requests)
        if aligned and get(configs[index], "action_name") == get(request, "name"):
            config = configs[index]
        config = config or by_name.get(get(request, "name"))
        decisions = get(config, "allowed_decisions")
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
        raise fail("decisions", f"must be a list, got {show(decisions)}")
    if len(decisions) != len(requests):
        raise fail("decisions", f"got {len(decisions)} decisions for {len(requests)} actions",
                    hint="Send exactly one decision per action, in the order shown")
    out = []
    for index, (request, decision) in enumerate(zip(requests, decisions, strict=True)):
        name = str(get(request, "name", ""))
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
    name = str(get(value, "name", ""))
    answer = _decision(decision, name=name, allowed=allowed_decisions(response_schema),
                       field="", label=f"the tool call {name}")
    check_schema(response_schema, answer)
    return answer

def _args_of(request: Any) -> dict[str, Any]:
    args = get(request, "args")
    return dict(args) if isinstance(args, Mapping) else {}


def decided_calls(proposed: list[dict[str, Any]], decisions: Any, edited_key: str, name_key: str) -> list[dict[str, Any]]:
    """The calls a list of decisions lets run: approved ones as proposed, edited ones with their new args."""
    if not isinstance(decisions, Sequence) or isinstance(decisions, (str, bytes)):
        return []
    out = []
    for call, decision in zip(proposed, decisions):
        if not isinstance(decision, Mapping) or decision.get("type") not in APPROVING_DECISIONS:
            continue
        change = decision.get(edited_key)
        if decision.get("type") == "edit" and isinstance(change, Mapping):
            args = change.get("args")
            out.append({"name": change.get(name_key) or call["name"], "args": dict(args) if isinstance(args, Mapping) else {}})
        else:
            out.append(call)
    return out


@register
class HitlRequest(PayloadKind):
    """`{"action_requests", "review_configs"}`: several tool calls, one decision each."""

    name = "hitl_request"
    title = "Review tool calls"
    priority = 2
    standard = True

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return (isinstance(value, Mapping) and isinstance(value.get("action_requests"), list)
                and isinstance(value.get("review_configs"), list))

    def tool_calls(self, value: Any) -> list[ToolCallInfo]:
        items = get(value, "action_requests")
        calls = [tool_call(get(item, "name"), get(item, "args")) for item in items] if isinstance(items, list) else []
        return [call for call in calls if call is not None]

    def summary(self, value: Any) -> str:
        calls = self.tool_calls(value)
        if len(calls) == 1:
            requests = get(value, "action_requests")
            description = get(requests[0], "description") if requests else None
            if isinstance(description, str) and description.strip():
                return f"{calls[0]['name']}: {description}"
        if not calls:
            return f"0 tool calls: {compact(get(value, 'message', ''))}"
        return calls_phrase(calls, "tool call")

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        if not isinstance(answer, Mapping):
            raise fail("", f"must be a JSON object for a {self.name} request, got {show(answer)}",
                       hint='Send e.g. {"decisions": [{"type": "approve"}]}')
        return hitl_request_answer(value, answer.get("decisions"))

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        requests, allowed = _review_configs(value)
        wanted = "approve" if approve else "reject"
        decisions = []
        for index, request in enumerate(requests):
            if wanted not in allowed[index]:
                raise fail(f"decisions[{index}].type",
                           f"action {index + 1} ({get(request, 'name', '?')}) cannot be {_PAST[wanted]} in batch: "
                           f"it allows only {', '.join(allowed[index])}",
                           hint="Open the request and decide that action individually")
            decision: dict[str, Any] = {"type": wanted}
            if not approve and comment:
                decision["message"] = comment
            decisions.append(decision)
        return hitl_request_answer(value, decisions)

    def actions(self, value: Any, response_schema: Any) -> list[ActionSpec]:
        requests, allowed = _review_configs(value)
        return [
            ActionSpec(name=str(get(request, "name", "")), args=_args_of(request),
                       description=str(get(request, "description") or ""),
                       allowed=tuple(a for a in DECISION_TYPES if a in allowed[index]))
            for index, request in enumerate(requests)
        ]

    def approved_calls(self, value: Any, answer: Any) -> list[dict[str, Any]] | None:
        decisions = answer.get("decisions") if isinstance(answer, Mapping) else None
        return decided_calls([dict(c) for c in self.tool_calls(value)], decisions, "edited_action", "name")


@register
class ToolApproval(PayloadKind):
    """`{"type": "tool_approval", "name", "args", ...}` with a response_schema: one decision."""

    name = "tool_approval"
    title = "Approve a tool call"
    priority = 1
    standard = True

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(value, Mapping) and value.get("type") == "tool_approval" and isinstance(value.get("name"), str)

    def tool_calls(self, value: Any) -> list[ToolCallInfo]:
        call = tool_call(get(value, "name"), get(value, "args"))
        return [call] if call is not None else []

    def summary(self, value: Any) -> str:
        name = compact(get(value, "name", ""))
        description = get(value, "description")
        if isinstance(description, str) and description.strip():
            return f"{name}: {description}"
        return f"{name}: {compact(get(value, 'args', {}))}"

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        return tool_approval_answer(value, response_schema, answer)

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        decision = {"type": "approve"} if approve else {"type": "reject", "message": comment}
        if decision["type"] not in allowed_decisions(response_schema):
            raise fail("type", f"{get(value, 'name', '?')} cannot be {_PAST[decision['type']]} in one click: it allows "
                       f"only {', '.join(allowed_decisions(response_schema))}", hint="Open the request to answer it")
        return tool_approval_answer(value, response_schema, decision)

    def actions(self, value: Any, response_schema: Any) -> list[ActionSpec]:
        allowed = allowed_decisions(response_schema)
        return [ActionSpec(name=str(get(value, "name", "")), args=_args_of(value),
                           description=str(get(value, "description") or ""),
                           allowed=tuple(a for a in DECISION_TYPES if a in allowed))]

    def approved_calls(self, value: Any, answer: Any) -> list[dict[str, Any]] | None:
        return decided_calls([dict(c) for c in self.tool_calls(value)], [answer], "edited_action", "name")
