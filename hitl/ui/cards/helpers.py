"""Constants and pure helpers of the review cards (unit-tested without Streamlit)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from hitl import decisions
from hitl.kinds import kind_of, titles
from hitl.kinds.base import ActionSpec
from hitl.kinds.impact import Impact, calls_impact, read_impact

KIND_TITLES: dict[str, str] = titles()
"""Card titles per payload kind."""

SHORTCUTS = {"approve": "a", "reject": "x", "submit": "s", "next": "j", "previous": "k"}
"""Keyboard shortcuts of the review page (Streamlit reserves C and R)."""

OUTCOME_KEY = "review_outcome"
"""session_state key of the last submit's outcome, shown after the rerun."""

CLICK_KEY = "review_click"
"""session_state key of the last decision click, noted by the button's callback so a click on a
request that another session answered meanwhile (its card is gone on the rerun) is explained."""

DECISION_LABELS = {
    "approve": "Approve",
    "edit": "Edit args",
    "reject": "Reject",
    "respond": "Respond instead",
    "accept": "Accept",
    "response": "Respond",
    "ignore": "Ignore",
}
SEND_LABELS = {
    "approve": "Approve",
    "accept": "Accept",
    "edit": "Run with edited args",
    "reject": "Reject",
    "ignore": "Ignore",
    "respond": "Send response",
    "response": "Send response",
}
NO_REASON = "—"

CALLS_PER_PAGE = 100
"""Tool calls one card draws at a time. A longer list is paged (all of it is also one table);
the card's decisions still cover every call, and it says so."""

FIELDS_SHOWN = 100
"""Fields of one object drawn one per row; the rest follow as one JSON block."""




def combine_reason(preset: str | None, details: str | None) -> str:
    """One reason from a preset reason and free text: "Wrong recipient: use legal@".

    Either part may be empty; the result is stripped.
    """
    preset = (preset or "").strip()
    details = (details or "").strip()
    if preset == NO_REASON:
        preset = ""
    if preset and details:
        return f"{preset}: {details}"
    return preset or details


def get(value: Any, key: str, default: Any = None) -> Any:
    return value.get(key, default) if isinstance(value, Mapping) else default


def review_actions(kind: str, value: Any, response_schema: Any = None) -> list[ActionSpec]:
    """The actions of a hitl_request, tool_approval or agent_inbox payload, with the decisions
    each allows (`PayloadKind.actions`). Never raises."""
    try:
        return kind_of(kind).actions(value, response_schema)
    except Exception:
        return []


def _resolve_ref(schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any]:
    for _ in range(16):
        if not isinstance(schema, Mapping) or not isinstance(schema.get("$ref"), str):
            break
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        schema = target
    return schema if isinstance(schema, Mapping) else {}


def edit_args_schema(response_schema: Any) -> dict[str, Any] | None:
    """The tool's argument schema inside a per-call response schema (its edit decision's
    `edited_action.args`), standalone with the root `$defs`; None when there is none.
    """
    if not isinstance(response_schema, Mapping):
        return None
    root = response_schema
    variants = root.get("oneOf") or root.get("anyOf") or [root]
    for variant in variants if isinstance(variants, list) else []:
        branch = _resolve_ref(variant, root)
        props = branch.get("properties") if isinstance(branch.get("properties"), Mapping) else {}
        tag = _resolve_ref(props.get("type"), root)
        if tag.get("const") != "edit" and tag.get("enum") != ["edit"]:
            continue
        edited = _resolve_ref(props.get("edited_action"), root)
        edited_props = edited.get("properties") if isinstance(edited.get("properties"), Mapping) else {}
        args = _resolve_ref(edited_props.get("args"), root)
        if args.get("type") == "object" or isinstance(args.get("properties"), Mapping):
            standalone = dict(args)
            for key in ("$defs", "definitions"):
                if key in root and key not in standalone:
                    standalone[key] = root[key]
            return standalone
    return None


def tool_arg_schemas(graph: Any) -> dict[str, dict[str, Any]]:
    """JSON Schemas of the arguments of the tools a compiled graph's ToolNodes hold, by name.

    Used to edit a tool call's args as form fields when its request carries no schema.
    Never raises; an empty dict when the graph has no ToolNode.
    """
    schemas: dict[str, dict[str, Any]] = {}
    try:
        nodes = dict(getattr(graph, "nodes", {}) or {})
    except Exception:
        return schemas
    for node in nodes.values():
        tools = getattr(getattr(node, "bound", None), "tools_by_name", None)
        if not isinstance(tools, Mapping):
            continue
        for name, tool in tools.items():
            try:
                model = getattr(tool, "tool_call_schema", None) or getattr(tool, "args_schema", None)
                if isinstance(model, Mapping):
                    schema = dict(model)
                elif hasattr(model, "model_json_schema"):
                    schema = model.model_json_schema()
                else:
                    continue
                if isinstance(schema.get("properties"), Mapping):
                    schemas[str(name)] = schema
            except Exception:
                continue
    return schemas


def normalize_error_path(path: str, kind: str) -> str:
    """An answer's error path in the card's terms: `[i].args.<field>`, `[i].message`, `[i].type`.

    Builders and LangGraph name fields differently ("decisions[1].edited_action.args.to",
    "edit.edited_action.args.to" from a pydantic tagged union, "[0].args.args.to" for the
    Agent Inbox); the card shows each error under the widget it is about.
    """
    path = path or ""
    if kind == "hitl_request" and path.startswith("decisions["):
        path = path[len("decisions"):]
    if kind == "tool_approval":
        head, _, rest = path.partition(".")
        if head in decisions.DECISION_TYPES or head.endswith("Decision"):
            path = rest
        path = f"[0].{path}" if path else "[0]"
    path = path.replace(".edited_action.args", ".args").replace(".edited_action", "")
    if kind == "agent_inbox":
        path = path.replace(".args.args", ".args")
    return path


def neighbours(queue: Sequence[str], current: str) -> tuple[str | None, str | None]:
    """The previous and next thread around `current` in the queue's order, wrapping around.

    When `current` has left the queue (it was just completed), there is no previous one and
    the next is the queue's first thread. A thread is never its own neighbour.
    """
    queue = list(queue)
    if current not in queue:
        return None, (queue[0] if queue else None)
    if len(queue) == 1:
        return None, None
    index = queue.index(current)
    return queue[index - 1], queue[(index + 1) % len(queue)]


def errors_key(interrupt_id: str) -> str:
    """session_state key of the errors kept for one interrupt's card."""
    return f"review:{interrupt_id}:errors"



def confirmation_line(kind: str, value: Any, response_schema: Any, answer: Any, *, approving: bool | None,
                      kind_shape: bool = True) -> str:
    """What the confirming second step asks ("Confirm: runs make_payment: 1,250.00 EUR to Acme
    GmbH · moves money · irreversible"), or "" when the decision may be sent at once.

    Asked for an answer that lets money move, a deletion happen or more than one call run. A
    rejection never needs it. What the answer approves is read from the answer itself (the
    calls it lets run, edited args included) where the kind knows its shape; otherwise, for an
    approving click or an answer the card cannot judge, from the payload (the strict way).
    """
    if approving is False:
        return ""
    impact: Impact | None = None
    if kind_shape:
        try:
            calls = kind_of(kind).approved_calls(value, answer)
            if calls is None and approving is None and not kind_of(kind).approves(value, answer):
                return ""
        except Exception:
            calls = None
        if calls is not None:
            impact = calls_impact(calls, kind=kind)
    if impact is None:
        impact = read_impact(value, response_schema, kind=kind)
    if not impact.needs_confirmation:
        return ""
    line = impact.line
    for head in ("Approving all ", "Approving ", "Submitting "):
        if line.startswith(head):
            line = line[len(head):]
            break
    return f"Confirm: {line}"


_ABSENT: Any = object()


def changed_fields(before: Any, after: Any, *, path: str = "") -> list[tuple[str, Any, Any]]:
    """What an edit changed: (field path, before, after) per changed field, nested objects by
    dotted path ("metadata.priority"); a field that is new or gone has `ABSENT` on its missing side.
    Two values that are not both objects are one row (path "" at the top)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        rows: list[tuple[str, Any, Any]] = []
        for key in [*before, *(k for k in after if k not in before)]:
            sub = f"{path}.{key}" if path else str(key)
            rows += changed_fields(before.get(key, _ABSENT), after.get(key, _ABSENT), path=sub)
        return rows
    if before is not _ABSENT and after is not _ABSENT and type(before) is type(after) and before == after:
        return []
    return [(path, before, after)]


ABSENT = _ABSENT
"""The missing side of a field an edit added or removed (`changed_fields`)."""


def diff_cell(value: Any) -> str:
    """One side of a changed field as short text: strings as they are, other values as JSON."""
    if value is _ABSENT:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def text_diff(before: str, after: str, *, what: str = "text") -> str:
    """A unified diff of two texts ("--- text (current)", "+++ text (yours)"); "" when equal."""
    if before == after:
        return ""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), fromfile=f"{what} (current)",
                                 tofile=f"{what} (yours)", lineterm="", n=2)
    return "\n".join(lines)
