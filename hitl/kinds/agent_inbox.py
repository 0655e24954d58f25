"""Agent Inbox `HumanInterrupt` payloads (`action_request`, `config.allow_*`, `description`),
alone or in a list, answered with one `HumanResponse` per interrupt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from hitl.kinds.base import ActionSpec, PayloadKind, register
from hitl.kinds.common import ToolCallInfo, as_args, as_text, calls_phrase, compact, fail, get, show, tool_call
from hitl.kinds.langchain import decided_calls

__all__ = ["AGENT_INBOX_TYPES", "agent_inbox_answer"]


AgentInboxType = Literal["accept", "ignore", "response", "edit"]


AGENT_INBOX_TYPES: tuple[AgentInboxType, ...] = ("accept", "ignore", "response", "edit")


_INBOX_FLAG: dict[str, str] = {
    "accept": "allow_accept",
    "ignore": "allow_ignore",
    "response": "allow_respond",
    "edit": "allow_edit",
}


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
        raise fail("", f"must be a list of responses, got {show(responses)}")
    if len(responses) != len(interrupts):
        raise fail("", f"has {len(responses)} responses for {len(interrupts)} requests",
                    hint="Send one response per request")
    out: list[dict[str, Any]] = []
    for index, (item, response) in enumerate(zip(interrupts, responses, strict=True)):
        field = f"[{index}]"
        action = get(get(item, "action_request"), "action", "")
        config = get(item, "config", {})
        if not isinstance(response, Mapping):
            raise fail(field,
                        f'must be an object like {{"type": "accept"}}, got {show(response)}')
        kind = response.get("type")
        permitted = [t for t in AGENT_INBOX_TYPES if get(config, _INBOX_FLAG[t]) is True]
        if kind not in AGENT_INBOX_TYPES:
            raise fail(f"{field}.type",
                        f"must be one of {', '.join(permitted)}, got {show(kind)}")
        if kind not in permitted:
            raise fail(f"{field}.type", f"{kind!r} is not allowed for {action!r} "
                        f"({_INBOX_FLAG[kind]} is false)",
                        hint=f"Allowed: {', '.join(permitted) or 'nothing'}")
        args = response.get("args")
        if kind in ("accept", "ignore"):
            out.append({"type": kind, "args": None})
        elif kind == "response":
            text = as_text(args, f"{field}.args").strip()
            if not text:
                raise fail(f"{field}.args", "is required for a response",
                            hint="Write the reply to send to the agent")
            out.append({"type": "response", "args": text})
        else:
            if isinstance(args, Mapping) and "args" in args and "action" in args:
                if args["action"] != action:
                    raise fail(f"{field}.args.action",
                                f"must stay {action!r}, got {show(args['action'])}",
                                hint="An edit changes the arguments, not the action")
                args = args["args"]
            new_args = as_args(args if args is not None else {}, f"{field}.args.args")
            out.append({"type": "edit", "args": {"action": action, "args": new_args}})
    return out

def _is_human_interrupt(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("action_request"), Mapping) and isinstance(
        value.get("config"), Mapping
    )


@register
class AgentInbox(PayloadKind):
    """One `HumanInterrupt`, or a list of them."""

    name = "agent_inbox"
    title = "Agent Inbox request"
    priority = 3
    standard = True

    def recognise(self, value: Any, response_schema: Any) -> bool:
        if isinstance(value, (list, tuple)):
            return bool(value) and all(_is_human_interrupt(v) for v in value)
        return _is_human_interrupt(value)

    def tool_calls(self, value: Any) -> list[ToolCallInfo]:
        calls = []
        for item in _interrupts(value):
            request = get(item, "action_request")
            calls.append(tool_call(get(request, "action"), get(request, "args")))
        return [call for call in calls if call is not None]

    def summary(self, value: Any) -> str:
        calls = self.tool_calls(value)
        if len(calls) == 1:
            item = value[0] if isinstance(value, (list, tuple)) else value
            description = get(item, "description")
            if isinstance(description, str) and description.strip():
                return f"{calls[0]['name']}: {description}"
        if not calls:
            return f"0 actions: {compact(get(value, 'message', ''))}"
        return calls_phrase(calls, "action")

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        return agent_inbox_answer(value, answer)

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        responses = []
        for index, item in enumerate(_interrupts(value)):
            config = get(item, "config", {})
            action = get(get(item, "action_request"), "action", "?")
            if approve:
                if get(config, "allow_accept") is not True:
                    raise fail(f"[{index}].type", f"{action!r} cannot be accepted (allow_accept is false)",
                               hint="Open the request to respond or edit")
                responses.append({"type": "accept", "args": None})
            elif get(config, "allow_ignore") is True:
                responses.append({"type": "ignore", "args": None})
            elif get(config, "allow_respond") is True and comment.strip():
                responses.append({"type": "response", "args": comment})
            else:
                raise fail(f"[{index}].type",
                           f"{action!r} cannot be rejected in one click: ignoring is not allowed"
                           + (" and responding needs a comment" if get(config, "allow_respond") else ""),
                           hint="Add a comment or open the request to answer")
        return agent_inbox_answer(value, responses)

    def actions(self, value: Any, response_schema: Any) -> list[ActionSpec]:
        specs = []
        for item in _interrupts(value):
            request = get(item, "action_request", {})
            config = get(item, "config", {})
            args = get(request, "args")
            specs.append(ActionSpec(
                name=str(get(request, "action", "")), args=dict(args) if isinstance(args, Mapping) else {},
                description=str(get(item, "description") or ""), markdown=True,
                allowed=tuple(t for t in ("accept", "edit", "response", "ignore") if get(config, _INBOX_FLAG[t]) is True),
            ))  # fmt: skip
        return specs

    def approved_calls(self, value: Any, answer: Any) -> list[dict[str, Any]] | None:
        responses = answer if isinstance(answer, list) else [answer]
        return decided_calls([dict(c) for c in self.tool_calls(value)], responses, "args", "action")
