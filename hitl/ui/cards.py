"""One card per pending interrupt: the request drawn for its kind, the reviewer's widgets, submit.

`render_card` draws one interrupt and returns a `Submission` when the reviewer clicked a
decision and the answer built cleanly (answers come from the pure builders in
`hitl.decisions`); `submit` resumes the graph with it and keeps the outcome for the page to
show after the rerun (`render_outcome`). Errors from a builder or from the graph
(`InvalidAnswer.field_errors`) are kept per interrupt and drawn next to their fields on the
next run; editing a widget clears them.

Every widget key starts with `review:<interrupt id>:`, so several interrupts of one thread
(parallel branches) can be answered on one page. Only the first answerable card takes the
page's keyboard shortcuts (A approve, X reject, S submit), so a key never triggers two buttons.

The pure helpers (`combine_reason`, `review_actions`, `edit_args_schema`,
`normalize_error_path`, `tool_arg_schemas`) are unit-tested without Streamlit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import streamlit as st

from hitl import contracts, decisions
from hitl.contracts import Contract
from hitl.kinds import kind_of, titles
from hitl.kinds.base import ActionSpec
from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer
from hitl.ui.context import (
    calls_frame,
    clip,
    json_view,
    md_escape,
    pretty_json,
    safe_markdown,
    show_alert,
    show_code_json,
    show_hidden_note,
    show_json,
    show_text,
)
from hitl.ui.text import hidden_note, jsonable, visible_controls
from hitl.ui.schema_form import render_schema_form

__all__ = [
    "KIND_TITLES",
    "SHORTCUTS",
    "ActionSpec",
    "CardOptions",
    "Submission",
    "combine_reason",
    "review_actions",
    "edit_args_schema",
    "normalize_error_path",
    "tool_arg_schemas",
    "errors_key",
    "neighbours",
    "render_card",
    "submit",
    "render_outcome",
    "render_failure_panel",
    "render_resolve",
    "settle_stale_click",
    "OUTCOME_KEY",
    "CLICK_KEY",
]

KIND_TITLES: dict[str, str] = titles()
"""Card titles per payload kind."""

SHORTCUTS = {"approve": "a", "reject": "x", "submit": "s", "next": "j", "previous": "k"}
"""Keyboard shortcuts of the review page (Streamlit reserves C and R)."""

OUTCOME_KEY = "review_outcome"
"""session_state key of the last submit's outcome, shown after the rerun."""

CLICK_KEY = "review_click"
"""session_state key of the last decision click, noted by the button's callback so a click on a
request that another session answered meanwhile (its card is gone on the rerun) is explained."""

_DECISION_LABELS = {
    "approve": "Approve",
    "edit": "Edit args",
    "reject": "Reject",
    "respond": "Respond instead",
    "accept": "Accept",
    "response": "Respond",
    "ignore": "Ignore",
}
_SEND_LABELS = {
    "approve": "Approve",
    "accept": "Accept",
    "edit": "Run with edited args",
    "reject": "Reject",
    "ignore": "Ignore",
    "respond": "Send response",
    "response": "Send response",
}
_NO_REASON = "—"

CALLS_PER_PAGE = 100
"""Tool calls one card draws at a time. A longer list is paged (all of it is also one table);
the card's decisions still cover every call, and it says so."""

FIELDS_SHOWN = 100
"""Fields of one object drawn one per row; the rest follow as one JSON block."""


# --------------------------------------------------------------------------- pure helpers


def combine_reason(preset: str | None, details: str | None) -> str:
    """One reason from a preset reason and free text: "Wrong recipient: use legal@".

    Either part may be empty; the result is stripped.
    """
    preset = (preset or "").strip()
    details = (details or "").strip()
    if preset == _NO_REASON:
        preset = ""
    if preset and details:
        return f"{preset}: {details}"
    return preset or details


def _get(value: Any, key: str, default: Any = None) -> Any:
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


# --------------------------------------------------------------------------- card plumbing


@dataclass(frozen=True, kw_only=True)
class CardOptions:
    """What a card needs besides the interrupt."""

    thread_id: str
    reject_reasons: Sequence[str] = ()
    reviewer: str = ""
    shortcuts: bool = False
    """This card takes the page's keyboard shortcuts (only one card per page does)."""
    tool_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Argument schemas of the graph's tools, by tool name."""
    position: str = ""
    """"1 of 3" when the thread has several pending interrupts."""
    contract: Contract | None = None
    """What the graph expects back (`Inbox.contract`); None draws the kind's own card."""


@dataclass(frozen=True, kw_only=True)
class Submission:
    """A reviewer's built answer to one interrupt."""

    interrupt_id: str
    answer: Any
    comment: str = ""
    verb: str = "decided"
    """What the reviewer did ("approved", "rejected", ...), for the outcome message."""


class _Card:
    """Keys, errors and buttons of one card."""

    def __init__(self, item: Any, options: CardOptions) -> None:
        self.item = item
        self.id = str(item.id)
        self.options = options
        stored = st.session_state.get(errors_key(self.id)) or {}
        self.message: str = stored.get("message", "")
        self.errors: dict[str, str] = {
            normalize_error_path(path, item.kind): text for path, text in (stored.get("fields") or {}).items()
        }
        self.shown: set[str] = set()
        self.schemas: dict[str, Mapping[str, Any]] = dict(options.tool_schemas)
        self.broken = False
        """A JSON editor on this card holds invalid JSON (submit stays disabled)."""

    def key(self, *parts: Any) -> str:
        return ":".join(["review", self.id, *(str(p) for p in parts)])

    def clear_errors(self) -> None:
        st.session_state.pop(errors_key(self.id), None)

    def on_change(self) -> dict[str, Any]:
        """Widget kwargs that clear this card's errors when the reviewer edits anything."""
        return {"on_change": _clear_errors, "args": (self.id,)}

    def take(self, prefix: str) -> dict[str, str]:
        """Errors at `prefix` or below it, not shown yet."""
        out = {}
        for path, text in self.errors.items():
            if path in self.shown:
                continue
            if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[") or (
                not prefix
            ):
                out[path] = text
                self.shown.add(path)
        return out

    def field_errors(self, prefix: str, *, strip: str | None = None) -> None:
        """Draw the errors at `prefix` next to the widget about to follow or just drawn."""
        for path, text in self.take(prefix).items():
            where = path[len(strip):].lstrip(".") if strip is not None and path.startswith(strip) else path
            show_alert("error", f"{where}: {text}" if where else text)

    def rest(self) -> None:
        """The overall message and any error not shown next to a field."""
        leftover = self.take("")
        if self.message or leftover:
            lines = [self.message] if self.message else []
            lines += [f"{path}: {text}" if path else text for path, text in leftover.items() if text not in self.message]
            st.error("\n\n".join(md_escape(line) for line in lines), icon="⚠️")

    def buttons(self, specs: Sequence[tuple[str, str, str, bool]]) -> str | None:
        """A row of buttons (action, label, shortcut action, disabled); the clicked action."""
        clicked = None
        with st.container(horizontal=True, gap="small"):
            for index, (action, label, shortcut_for, disabled) in enumerate(specs):
                shortcut = SHORTCUTS.get(shortcut_for) if self.options.shortcuts and shortcut_for else None
                if st.button(
                    label,
                    key=self.key("btn", action),
                    type="primary" if index == 0 else "secondary",
                    shortcut=shortcut.upper() if shortcut else None,
                    help=f"Keyboard shortcut: {shortcut.upper()}" if shortcut else None,
                    disabled=disabled,
                    on_click=_note_click,
                    args=(self.options.thread_id, self.id, label),
                ):
                    clicked = action
        return clicked

    def reason(self, *, label: str = "Reason", details_label: str = "Details (optional)", area: bool = False) -> str:
        """Preset reasons in a select plus free text; the combined reason."""
        left, right = st.columns([2, 3])
        presets = [_NO_REASON, *self.options.reject_reasons]
        preset = left.selectbox(label, presets, key=self.key("preset"), help="Preset reasons come from HITL_CONFIG [review] reject_reasons.", **self.on_change())
        widget = right.text_area if area else right.text_input
        details = widget(details_label, key=self.key("reason"), **self.on_change())
        return combine_reason(preset, details)


def _note_click(thread_id: str, interrupt_id: str, label: str) -> None:
    st.session_state[CLICK_KEY] = {"thread_id": thread_id, "interrupt_id": interrupt_id, "label": label}


def settle_stale_click(view: Any) -> None:
    """Explain a decision click whose request is no longer pending (answered elsewhere).

    Call at the top of the page, before the cards: a click on a card that is still pending
    is left to that card.
    """
    click = st.session_state.pop(CLICK_KEY, None)
    if not click or click.get("thread_id") != view.thread_id:
        return
    if any(item.id == click["interrupt_id"] and not item.failed_error for item in view.interrupts):
        return
    rows = [row for row in view.decisions if row.get("interrupt_id") == click["interrupt_id"]]
    last = rows[-1] if rows else {}
    st.session_state[OUTCOME_KEY] = {
        "thread_id": view.thread_id,
        "status": "already",
        "reviewer": last.get("reviewer"),
        "decided_at": float(last["decided_at"]) if last.get("decided_at") is not None else None,
        "verb": str(click.get("label", "decided")).lower(),
        "at": time.time(),
    }


def _clear_errors(interrupt_id: str) -> None:
    st.session_state.pop(errors_key(interrupt_id), None)


def _keep_errors(interrupt_id: str, error: InvalidAnswer) -> None:
    st.session_state[errors_key(interrupt_id)] = {"message": str(error), "fields": dict(error.field_errors)}


def _show_args(args: Any) -> None:
    """Tool arguments one per row, strings as plain text (line breaks kept), others as JSON.

    Invisible characters in names and values are shown and flagged. At most `FIELDS_SHOWN`
    rows are drawn; the rest of a larger object follows as one JSON block, and the card says so.
    """
    if not isinstance(args, Mapping) or not args:
        show_code_json(args, what="These arguments")
        return
    items = list(args.items())
    for name, value in items[:FIELDS_SHOWN]:
        left, right = st.columns([1, 4], gap="small")
        left.caption(md_escape(name))
        with right:
            show_hidden_note(str(name), what="This field name")
            if isinstance(value, str):
                show_text(value, what=f"The value of {name}")
            elif isinstance(value, (dict, list, tuple)):
                show_code_json(value, what=f"The value of {name}")
            else:
                show_text(json.dumps(jsonable(value), ensure_ascii=False))  # numbers, true/false, null as JSON spells them
    if len(items) > FIELDS_SHOWN:
        st.caption(f"Showing {FIELDS_SHOWN} of {len(items):,} fields one per row; the other {len(items) - FIELDS_SHOWN:,} "
                   "follow as JSON.")
        show_code_json(dict(items[FIELDS_SHOWN:]), what="These fields")


def _editor_hidden(text: str, *, what: str) -> None:
    """Under an editor that holds the agent's exact text: when the text has invisible characters
    (a text area applies bidi overrides and hides zero-width ones), say so and show it with them
    written out. The editor's value is never altered: unedited, it is sent as it was."""
    note = hidden_note(text, what=what)
    if note:
        st.warning(md_escape(f"{note} The editor holds the exact text; here it is with them shown:"),
                   icon=":material/visibility:")
        st.text(visible_controls(clip(text)))


def _kept(card: _Card, name: str, **parts: dict[int, Any]) -> dict[str, dict[int, Any]]:
    """Per-call choices of a card that outlive the widgets drawn for them (paged lists)."""
    kept = st.session_state.setdefault(card.key("kept", name), {})
    for part, empty in parts.items():
        kept.setdefault(part, empty)
    return kept


def _call_row(call: Any) -> dict[str, Any]:
    return {"name": str(_get(call, "name", "?")), "args": _get(call, "args", {}), "id": str(_get(call, "id", "") or "")}


def _calls_page(card: _Card, rows: Sequence[Mapping[str, Any]], *, total: int, scope: Callable[[int], str]) -> range:
    """The indices of the calls to draw: all of them, or one page of `CALLS_PER_PAGE`.

    A longer list gets a page picker, "Showing 100 of 10,000 tool calls", what the card's
    decisions do to the calls not shown (`scope(not_shown)`), and every call in one table.
    """
    if total <= CALLS_PER_PAGE:
        return range(total)
    pages = [range(first, min(first + CALLS_PER_PAGE, total)) for first in range(0, total, CALLS_PER_PAGE)]
    with st.container(border=True):
        page = st.selectbox(f"Page ({len(pages):,} pages of {CALLS_PER_PAGE} calls)", range(len(pages)),
                            format_func=lambda i: f"calls {pages[i].start + 1:,}–{pages[i].stop:,}", key=card.key("page"))
        shown = pages[page or 0]
        st.caption(f"Showing {len(shown):,} of {total:,} tool calls (calls {shown.start + 1:,}–{shown.stop:,}); the card "
                   f"draws at most {CALLS_PER_PAGE} at a time.")
        show_alert("info", scope(total - len(shown)))
        with st.expander(f"All {total:,} tool calls as a table"):
            st.dataframe(calls_frame(rows), hide_index=True, width="stretch", height=320)
    return shown


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or key


def _show_fields(value: Mapping[str, Any], *, skip: Sequence[str] = ()) -> None:
    """A payload's other fields, each under its name; invisible characters shown and flagged."""
    for key, item in value.items():
        if key in skip or item is None or item == "":
            continue
        st.caption(md_escape(_label(str(key))))
        show_hidden_note(str(key), what="This field name")
        if isinstance(item, str):
            show_text(item, what=f"The {_label(str(key)).lower()}")
        else:
            _show_args(item)


def _json_errors(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
    return None


def _height(text: str, *, low: int = 120, high: int = 420) -> int:
    return max(low, min(high, 26 * (text.count("\n") + 2)))


# --------------------------------------------------------------------------- kinds


def _confirm(card: _Card, value: Any) -> Submission | None:
    with st.container(border=True):
        show_text(value)
    note = st.text_input("Note (optional, recorded with your decision)", key=card.key("note"))
    clicked = card.buttons([("yes", "Yes, proceed", "approve", False), ("no", "No, cancel", "reject", False)])
    card.rest()
    if clicked:
        return Submission(interrupt_id=card.id, answer=decisions.confirm_answer(clicked == "yes"),
                          comment=note.strip(), verb="confirmed" if clicked == "yes" else "declined")
    return None


def _question(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    question = _get(value, "question")
    if question:
        st.markdown(f"**{md_escape(question)}**")
    if _get(value, "action"):
        st.caption(md_escape(f"Action: {_get(value, 'action')}"))
    details = _get(value, "details")
    if isinstance(details, str):
        show_text(details)
    elif details is not None:
        _show_args(details)
    _show_fields(value, skip=("question", "action", "details"))
    reason = card.reason(label="Reject reason")
    card.field_errors("reason")
    clicked = card.buttons([("approve", "Approve", "approve", False), ("reject", "Reject", "reject", False)])
    card.rest()
    if clicked == "approve":
        return Submission(interrupt_id=card.id, answer=decisions.question_answer(approved=True), verb="approved")
    if clicked == "reject":
        return Submission(interrupt_id=card.id, answer=decisions.question_answer(approved=False, reason=reason),
                          comment=reason, verb="rejected")
    return None


def _stage(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    st.caption(md_escape(f"Stage: {_get(value, 'stage', '')}"))
    if _get(value, "message"):
        st.markdown(f"**{md_escape(_get(value, 'message'))}**")
    with st.container(border=True):
        show_text(_get(value, "result", ""))
    _show_fields(value, skip=("stage", "message", "result"))
    reason = card.reason(label="Reject reason", details_label="Notes (sent with approve or reject)", area=True)
    clicked = card.buttons([("approve", "Approve stage", "approve", False), ("reject", "Reject stage", "reject", False)])
    card.rest()
    if clicked:
        approved = clicked == "approve"
        notes = reason if not approved else combine_reason(None, st.session_state.get(card.key("reason")))
        return Submission(interrupt_id=card.id, answer=decisions.stage_answer(approved=approved, reason=notes),
                          comment=notes, verb="approved" if approved else "rejected")
    return None


def _edit(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    draft = _get(value, "draft", "")
    if _get(value, "instructions"):
        st.caption(md_escape(_get(value, "instructions")))
    text_draft = draft if isinstance(draft, str) else pretty_json(draft)
    edited = st.text_area("Draft (edit it here)", value=text_draft, key=card.key("draft"),
                          height=_height(text_draft, low=200), **card.on_change())
    _editor_hidden(edited, what="The draft")
    changed = edited != text_draft
    st.caption("Edited: **Approve** sends your version." if changed else "Unchanged: **Approve** accepts the draft as written.")
    card.field_errors("edited")
    reason = card.reason(label="Reject reason")
    clicked = card.buttons([
        ("approve", "Approve edited draft" if changed else "Approve draft", "approve", False),
        ("reject", "Reject", "reject", False),
        ("regenerate", "Ask for a new version", "", False),
    ])
    card.rest()
    if not clicked:
        return None
    edited_value: Any = edited
    if not isinstance(draft, str):
        edited_value = json.loads(edited) if not _json_errors(edited) and edited.strip() else edited
    answer = decisions.edit_answer(action=clicked, edited=edited_value if clicked == "approve" else None, draft=draft)
    if clicked == "reject" and reason:
        answer["reason"] = reason
    verbs = {"approve": "approved (edited)" if changed else "approved", "reject": "rejected", "regenerate": "sent back for a new version"}
    return Submission(interrupt_id=card.id, answer=answer, comment=reason if clicked == "reject" else "", verb=verbs[clicked])


def _approval_level(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    level = str(_get(value, "level", "")) or "approver"
    st.caption(md_escape(f"Level: {level}"))
    with st.container(border=True):
        show_text(_get(value, "message", ""))
    reviewer = card.options.reviewer
    if reviewer:
        st.caption(md_escape(f"Your decision is recorded with approver_id = {reviewer} (your reviewer name)."))
    card.field_errors("approver_id")
    reason = card.reason(label="Reject reason")
    clicked = card.buttons([("approve", f"Approve as {level}", "approve", False),
                            ("reject", f"Reject as {level}", "reject", False)])
    card.rest()
    if not clicked:
        return None
    answer = decisions.approval_level_answer(approved=clicked == "approve", approver_id=reviewer)
    if clicked == "reject" and reason:
        answer["reason"] = reason
    return Submission(interrupt_id=card.id, answer=answer, comment=reason if clicked == "reject" else "",
                      verb=f"approved as {level}" if clicked == "approve" else f"rejected as {level}")


def _tool_review(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    tools = _get(value, "tools") or []
    if _get(value, "message"):
        st.markdown(f"**{md_escape(_get(value, 'message'))}**")
    # Ticks and edits live in `kept`, not only in the widgets: a call on another page has no
    # widget this run, and its tick or edit must still count.
    kept = _kept(card, "tools", ticks={}, texts={})
    shown = _calls_page(card, [_call_row(tool) for tool in tools] if len(tools) > CALLS_PER_PAGE else [],
                        total=len(tools), scope=lambda n: (
                            f"Approve selected sends every ticked call, on every page: the {n:,} calls not shown here "
                            "stay ticked unless you untick them on their page. Reject all rejects all of them."))
    broken = False
    for index in shown:
        tool = tools[index]
        name = str(_get(tool, "name", "?"))
        with st.container(border=True):
            ticked = st.checkbox(f"Run **{md_escape(name)}**", value=kept["ticks"].get(index, True),
                                 key=card.key("tick", index), **card.on_change())
            show_hidden_note(name, what="This tool name")
            start = pretty_json(_get(tool, "args", {}))
            text = st.text_area(f"Arguments of {md_escape(name)} (JSON, editable)", value=kept["texts"].get(index, start),
                                key=card.key("args", index), height=_height(start), disabled=not ticked, **card.on_change())
            problem = _json_errors(text) if ticked else None
            if problem:
                broken = True
                show_alert("error", f"{name}: {problem} Fix it or untick this call.")
            elif ticked and text != start:
                st.caption("Edited: this call runs with your arguments.")
            elif not ticked:
                st.caption("Unticked: this call will not run.")
            card.field_errors(f"tools[{index}]", strip=f"tools[{index}]")
        kept["ticks"][index] = ticked
        if text == start:
            kept["texts"].pop(index, None)  # unedited: the checkpoint's own args, types and all
        else:
            kept["texts"][index] = text
    ticks = [kept["ticks"].get(index, True) for index in range(len(tools))]
    texts = [kept["texts"].get(index) for index in range(len(tools))]
    elsewhere = sorted(i for i, text in kept["texts"].items() if i not in shown and ticks[i] and _json_errors(text))
    if elsewhere:
        broken = True
        show_alert("error", f"Tool call{'s' if len(elsewhere) > 1 else ''} {', '.join(str(i + 1) for i in elsewhere[:10])} "
                            "(on another page) hold invalid JSON. Fix or untick them there.")
    reason = card.reason(label="Reason (for Reject all)")
    count = sum(ticks)
    clicked = card.buttons([
        ("approve", f"Approve selected ({count:,} of {len(tools):,})", "approve", broken),
        ("reject", "Reject all", "reject", False),
    ])
    card.rest()
    if clicked == "approve":
        if not count:
            show_alert("error", "No tool call is ticked. Tick the calls that may run, or use Reject all.")
            return None
        answer = decisions.tool_review_answer(tools=tools, selected=ticks, edited_args=texts, display=json_view)
        return Submission(interrupt_id=card.id, answer=answer, verb=f"approved {count:,} of {len(tools):,} tool calls")
    if clicked == "reject":
        answer: dict[str, Any] = {"approved": False}
        if reason:
            answer["reason"] = reason
        return Submission(interrupt_id=card.id, answer=answer, comment=reason, verb="rejected all tool calls")
    return None


def _sensitive_tools(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    calls = _get(value, "sensitive_tools") or []
    if _get(value, "message"):
        st.markdown(f"**{md_escape(_get(value, 'message'))}**")
    shown = _calls_page(card, [_call_row(call) for call in calls] if len(calls) > CALLS_PER_PAGE else [],
                        total=len(calls), scope=lambda n: (
                            f"Approve all runs every call, the {n:,} not shown here included; Reject runs none of them."))
    for index in shown:
        call = calls[index]
        with st.container(border=True):
            name = str(_get(call, "name", "?"))
            st.markdown(f"**{md_escape(name)}**")
            show_hidden_note(name, what="This tool name")
            _show_args(_get(call, "args", {}))
    st.caption("All or nothing: this graph runs every call listed above when you approve and none when you reject "
               "(its answer carries no per-call choice). Other, non-sensitive calls run without review.")
    reason = card.reason(label="Reject reason")
    many = len(calls) > 1
    clicked = card.buttons([("approve", f"Approve all {len(calls):,}" if many else "Approve", "approve", False),
                            ("reject", "Reject all" if many else "Reject", "reject", False)])
    card.rest()
    if clicked:
        approved = clicked == "approve"
        answer = decisions.sensitive_tools_answer(approved=approved, reason="" if approved else reason)
        return Submission(interrupt_id=card.id, answer=answer, comment="" if approved else reason,
                          verb="approved" if approved else "rejected")
    return None


def _state_edit(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    state = _get(value, "current_state") or {}
    if _get(value, "message"):
        st.markdown(f"**{md_escape(_get(value, 'message'))}**")
    output = _get(state, "output", "")
    output_text = output if isinstance(output, str) else pretty_json(output)
    new_output = st.text_area("Output", value=output_text, key=card.key("output"), height=_height(output_text), **card.on_change())
    _editor_hidden(new_output, what="The output")
    card.field_errors("new_output")
    metadata_text = pretty_json(_get(state, "metadata", {}) or {})
    new_metadata = st.text_area("Metadata (JSON object)", value=metadata_text, key=card.key("metadata"),
                                height=_height(metadata_text), **card.on_change())
    problem = _json_errors(new_metadata)
    if problem:
        show_alert("error", f"Metadata: {problem}")
    card.field_errors("new_metadata")
    other = {k: v for k, v in state.items() if k not in ("output", "metadata")} if isinstance(state, Mapping) else {}
    if other:
        st.caption("Other state (not editable here)")
        _show_args(other)
    changed = new_output != output_text or new_metadata.strip() != metadata_text
    clicked = card.buttons([("approve", "Approve with my edits" if changed else "Approve unchanged", "approve", bool(problem))])
    card.rest()
    if clicked:
        # Unedited fields are the checkpoint's own values, not a re-parse of what was displayed.
        if new_output == output_text:
            out_value: Any = output
        elif isinstance(output, str):
            out_value = new_output
        else:
            out_value = json.loads(new_output) if not _json_errors(new_output) else new_output
        metadata_answer = None if new_metadata.strip() == metadata_text else new_metadata
        answer = decisions.state_edit_answer(current_state=state, new_output=out_value, new_metadata=metadata_answer)
        return Submission(interrupt_id=card.id, answer=answer, verb="approved with edits" if answer.get("modified") else "approved unchanged")
    return None


def _feedback(card: _Card, value: Mapping[str, Any]) -> Submission | None:
    iteration = _get(value, "iteration")
    if _get(value, "message"):
        st.markdown(f"**{md_escape(_get(value, 'message'))}**")
    if iteration is not None:
        st.caption(md_escape(f"Iteration {iteration}"))
    with st.container(border=True):
        show_text(_get(value, "output", ""))
    text = st.text_area("Feedback for the next version", key=card.key("feedback"), **card.on_change(),
                        placeholder="What should change? Required to send feedback.")
    card.field_errors("feedback")
    clicked = card.buttons([("approve", "Approve this version", "approve", False),
                            ("feedback", "Send feedback", "reject", False)])
    card.rest()
    if clicked:
        approved = clicked == "approve"
        answer = decisions.feedback_answer(approved=approved, feedback="" if approved else text)
        return Submission(interrupt_id=card.id, answer=answer, comment="" if approved else text.strip(),
                          verb="approved" if approved else "sent feedback")
    return None


def _json(card: _Card, value: Any) -> Submission | None:
    st.caption("Unrecognised payload, shown as JSON. Type the answer the graph expects as JSON.")
    show_json(value, expanded=2, what="This payload")
    text = st.text_area("Answer (JSON)", key=card.key("json"), placeholder='e.g. true, "text" or {"approved": true}',
                        **card.on_change())
    problem = _json_errors(text)
    if problem:
        show_alert("error", problem)
    elif text.strip():
        st.caption("Valid JSON.")
    card.field_errors("")
    clicked = card.buttons([("submit", "Submit answer", "approve", bool(problem) or not text.strip())])
    card.rest()
    if clicked:
        return Submission(interrupt_id=card.id, answer=decisions.json_answer(text), verb="answered")
    return None


_TYPED_EDITORS = ("Text", "Number", "Yes/No", "JSON")


def _typed_answer(card: _Card, editor: str) -> tuple[Any, str | None]:
    """One typed answer from the chosen editor: (value, problem)."""
    if editor == "Text":
        return st.text_area("Your answer (text)", key=card.key("typed", "text"), **card.on_change()), None
    if editor == "Number":
        raw = st.text_input("Your answer (a number)", key=card.key("typed", "number"), placeholder="e.g. 30 or 12.5",
                            **card.on_change()).strip()
        if not raw:
            return None, "Type a number."
        try:
            return (int(raw) if raw.lstrip("+-").isdigit() else float(raw)), None
        except ValueError:
            show_alert("error", f"{raw!r} is not a number.")
            return None, f"{raw!r} is not a number."
    if editor == "Yes/No":
        choice = st.radio("Your answer", ["Yes (true)", "No (false)"], key=card.key("typed", "bool"), horizontal=True,
                          **card.on_change())
        return choice.startswith("Yes"), None
    text = st.text_area("Your answer (JSON)", key=card.key("json"), placeholder='e.g. {"approved": true}',
                        **card.on_change())
    if not text.strip():
        return None, "Type a JSON value."
    problem = _json_errors(text)
    if problem:
        show_alert("error", problem)
        return None, problem
    return json.loads(text), None


def _contract_card(card: _Card, value: Any, contract: Contract) -> Submission | None:
    """A payload whose answer is not the kind's own shape: the payload, then an editor for the contract."""
    if isinstance(value, str):
        with st.container(border=True):
            show_text(value)
    elif isinstance(value, Mapping):
        _show_fields(value)
    else:
        _show_args(value)
    if contract.answer == "boolean":
        note = st.text_input("Note (optional, recorded with your decision)", key=card.key("note"))
        clicked = card.buttons([("yes", "Yes (sends true)", "approve", False), ("no", "No (sends false)", "reject", False)])
        card.rest()
        if clicked:
            return Submission(interrupt_id=card.id, answer=clicked == "yes", comment=note.strip(),
                              verb="answered yes" if clicked == "yes" else "answered no")
        return None
    quick: list[tuple[str, str, str, bool]] = []
    has_approve, has_reject = contract.has_values
    if contract.can_approve and has_approve:
        quick.append(("approve", f"Approve (sends {_short(contract.approve_value)})", "approve", False))
    if contract.can_reject and has_reject:
        quick.append(("reject", f"Reject (sends {_short(contract.reject_value)})", "reject", False))
    if contract.answer == "object" and not contract.can_reject:
        # Say why there is no Reject: a rejection the graph would misread, or one it has no branch for.
        st.caption(md_escape(contract.no_reject_reason or "No one-click reject: the graph's code has no rejecting "
                             "value for this answer. Type the answer to decline."))
    if quick:
        reason = card.reason(label="Reject reason") if any(q[0] == "reject" for q in quick) else ""
        clicked = card.buttons(quick)
        if clicked:
            answer = contracts.quick(contract, card.item.kind, value, approve=clicked == "approve", comment=reason)
            return Submission(interrupt_id=card.id, answer=answer, comment=reason if clicked == "reject" else "",
                              verb="approved" if clicked == "approve" else "rejected")
        st.caption("Or type the answer yourself:")
    fixed = {"text": "Text", "number": "Number", "object": "JSON"}.get(contract.answer)
    if fixed is None:
        st.caption("The desk cannot tell what this graph expects: pick the answer's type and check what will be sent.")
        default = 0 if isinstance(value, str) else 3
        editor = st.radio("Answer type", _TYPED_EDITORS, index=default, key=card.key("typed", "editor"),
                          horizontal=True, **card.on_change())
    else:
        editor = fixed
    answer, problem = _typed_answer(card, editor)
    if problem is None:
        st.caption(md_escape(f"Will send: {_short(answer, 300)}"))
    card.field_errors("")
    clicked = card.buttons([("submit", "Send answer", "", problem is not None)])
    card.rest()
    if clicked and problem is None:
        return Submission(interrupt_id=card.id, answer=answer, verb="answered")
    return None


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _schema(card: _Card, value: Any, response_schema: Mapping[str, Any]) -> Submission | None:
    if isinstance(value, Mapping):
        _show_fields(value)
    elif value is not None:
        show_text(value if isinstance(value, str) else pretty_json(value))
    st.markdown("**Your answer**")
    about = [response_schema.get(k) for k in ("title", "description")] if isinstance(response_schema, Mapping) else []
    if any(about):
        st.caption(md_escape(" — ".join(str(part) for part in about if part)))
    data = render_schema_form(response_schema, key=card.key("form"))
    if card.errors:
        for path, text in card.take("").items():
            show_alert("error", f"{path or 'Answer'}: {text}")
    clicked = card.buttons([("submit", "Submit", "approve", False)])
    card.rest()
    if clicked:
        answer = decisions.schema_answer(response_schema, data)
        return Submission(interrupt_id=card.id, answer=answer, verb="submitted the form")
    return None


# --------------------------------------------------------------------------- tool-call actions


def _args_editor(card: _Card, index: int, spec: ActionSpec, schema: Mapping[str, Any] | None,
                 kept: dict[str, Any]) -> Any:
    """Edit one call's args: form fields from the tool's schema when known, else JSON.

    What was typed is also kept in `kept` (the call's entry, see `_action_block`)."""
    st.caption(md_escape(f"Tool: {spec.name} (fixed: an edit changes the arguments, not the tool)"))
    as_json = schema is None
    if schema is not None:
        as_json = st.toggle("Edit as JSON", value=bool(kept.get("asjson")), key=card.key("asjson", index), **card.on_change())
        kept["asjson"] = as_json
    if as_json:
        start = pretty_json(spec.args)
        typed = kept.get("argsjson")
        text = st.text_area(f"Arguments of {md_escape(spec.name)} (JSON)", value=typed if isinstance(typed, str) else start,
                            key=card.key("argsjson", index), height=_height(start), **card.on_change())
        kept["argsjson"] = text
        problem = _json_errors(text)
        if problem:
            card.broken = True
            show_alert("error", problem)
        card.field_errors(f"[{index}].args", strip=f"[{index}].args")
        return text
    filled = kept.get("argsform")
    data = render_schema_form(schema, key=card.key("argsform", index), initial=filled if filled is not None else spec.args)
    kept["argsform"] = data
    card.field_errors(f"[{index}].args", strip=f"[{index}].args")
    return data


def _action_block(card: _Card, index: int, spec: ActionSpec, *, total: int,
                  kept: dict[str, Any] | None = None) -> tuple[str, Any, str]:
    """One action's request and decision widgets; returns (decision type, args, message).

    `kept` holds what the reviewer chose for this call; it is updated here and read back
    (`_kept_decision`) when the call is on a page not drawn this run.
    """
    kept = {} if kept is None else kept
    with st.container(border=True):
        heading = f"{index + 1:,} of {total:,}: {spec.name}" if total > 1 else spec.name
        st.markdown(f"**{md_escape(heading)}**")
        show_hidden_note(spec.name, what="This tool name")
        if spec.description:
            if spec.markdown:
                st.markdown(safe_markdown(spec.description))
            else:
                show_text(spec.description)
        st.caption("Arguments")
        _show_args(spec.args)
        if not spec.allowed:
            show_alert("warning", "This request allows no decision; it can only be marked resolved.")
            return "", None, ""
        options = list(spec.allowed)
        choice = st.radio("Decision", options, key=card.key("decision", index), horizontal=True,
                          index=options.index(kept["choice"]) if kept.get("choice") in options else 0,
                          format_func=lambda t: _DECISION_LABELS.get(t, t), **card.on_change())
        kept["choice"] = choice
        card.field_errors(f"[{index}].type", strip=f"[{index}]")
        args: Any = None
        message = ""
        schema = card.schemas.get(spec.name)
        if choice == "edit":
            args = _args_editor(card, index, spec, schema, kept)
        elif choice == "reject":
            left, right = st.columns([2, 3])
            presets = [_NO_REASON, *card.options.reject_reasons]
            preset = left.selectbox("Reason", presets, key=card.key("preset", index),
                                    index=presets.index(kept["preset"]) if kept.get("preset") in presets else 0,
                                    **card.on_change())
            details = right.text_input("Message to the agent (optional)", value=kept.get("details", ""),
                                       key=card.key("message", index), **card.on_change())
            kept.update(preset=preset, details=details)
            message = combine_reason(preset, details)
        elif choice in ("respond", "response"):
            message = st.text_area("Reply (sent instead of running the tool)", value=kept.get("reply", ""),
                                   key=card.key("reply", index), placeholder="Required", **card.on_change())
            kept["reply"] = message
        card.field_errors(f"[{index}].message", strip=f"[{index}]")
        card.field_errors(f"[{index}]", strip=f"[{index}]")
        return str(choice), args, message


def _kept_decision(card: _Card, spec: ActionSpec, kept: Mapping[str, Any]) -> tuple[str, Any, str]:
    """(decision type, args, message) of a call not drawn this run: what the reviewer chose on
    its page, else the first decision it allows (what its page would show preselected)."""
    choice = kept.get("choice") if kept.get("choice") in spec.allowed else (spec.allowed[0] if spec.allowed else "")
    if choice == "edit":
        if kept.get("asjson") or card.schemas.get(spec.name) is None:
            text = kept.get("argsjson")
            if isinstance(text, str) and _json_errors(text):
                card.broken = True
            return choice, text if isinstance(text, str) else None, ""
        return choice, kept.get("argsform"), ""
    if choice == "reject":
        return choice, None, combine_reason(kept.get("preset"), kept.get("details"))
    if choice in ("respond", "response"):
        return choice, None, str(kept.get("reply", ""))
    return str(choice), None, ""


def _langchain_decision(spec: ActionSpec, choice: str, args: Any, message: str) -> dict[str, Any]:
    if choice == "edit":
        return {"type": "edit", "edited_action": {"name": spec.name, "args": args if args is not None else spec.args}}
    if choice in ("reject", "respond"):
        return {"type": choice, "message": message.strip()} if message.strip() or choice == "respond" else {"type": choice}
    return {"type": choice}


def _inbox_response(spec: ActionSpec, choice: str, args: Any, message: str) -> dict[str, Any]:
    if choice == "edit":
        return {"type": "edit", "args": {"action": spec.name, "args": args if args is not None else spec.args}}
    if choice == "response":
        return {"type": "response", "args": message}
    return {"type": choice, "args": None}


def _actions(card: _Card, value: Any, response_schema: Any) -> Submission | None:
    kind = card.item.kind
    specs = review_actions(kind, value, response_schema)
    if kind == "tool_approval":
        own = edit_args_schema(response_schema)
        if own is not None and specs:
            card.schemas = {**card.schemas, specs[0].name: own}
    if not specs:
        show_alert("warning", "This request lists no actions.")
        _show_args(value)
        return None
    inbox = kind == "agent_inbox"
    yes, no = ("accept", "ignore") if inbox else ("approve", "reject")
    kept = _kept(card, "actions", calls={})["calls"]
    first = next(iter(specs[0].allowed), "") if specs else ""
    shown = _calls_page(card, [{"name": s.name, "args": s.args} for s in specs] if len(specs) > CALLS_PER_PAGE else [],
                        total=len(specs), scope=lambda n: (
                            f"Submit decisions sends a decision for every call: your choice where you made one, on any page, "
                            f"and the preselected one ({_DECISION_LABELS.get(first, first).lower()}, where allowed) for the "
                            f"others, {n:,} of them not shown here. {_DECISION_LABELS[yes]} all and {_DECISION_LABELS[no]} "
                            f"all apply to all {len(specs):,} calls."))
    chosen = [
        _action_block(card, index, spec, total=len(specs), kept=kept.setdefault(index, {})) if index in shown
        else _kept_decision(card, spec, kept.get(index, {}))
        for index, spec in enumerate(specs)
    ]
    if len(specs) == 1:
        # One call: the primary button sends the chosen decision; the other one-click
        # decision stays a keystroke away.
        choice, allowed = chosen[0][0], specs[0].allowed
        shortcut_for = "approve" if choice == yes else "reject" if choice == no else "submit"
        buttons = [("submit", _SEND_LABELS.get(choice, "Submit decision"), shortcut_for, card.broken or not choice)]
        if choice != yes and yes in allowed:
            buttons.append((yes, _DECISION_LABELS[yes], "approve", False))
        if choice != no and no in allowed:
            buttons.append((no, _DECISION_LABELS[no], "reject", False))
    else:
        buttons = [
            ("submit", "Submit decisions", "submit", card.broken or any(not c[0] for c in chosen)),
            (yes, f"{_DECISION_LABELS[yes]} all", "approve", not all(yes in s.allowed for s in specs)),
            (no, f"{_DECISION_LABELS[no]} all", "reject", not all(no in s.allowed for s in specs)),
        ]
    clicked = card.buttons(buttons)
    card.rest()
    if not clicked:
        return None
    if clicked != "submit":
        chosen = [(clicked, None, "") for _ in specs]
    if inbox:
        responses = [_inbox_response(spec, *c) for spec, c in zip(specs, chosen, strict=True)]
        answer: Any = decisions.agent_inbox_answer(value, responses)
    else:
        made = [_langchain_decision(spec, *c) for spec, c in zip(specs, chosen, strict=True)]
        if kind == "tool_approval":
            answer = decisions.tool_approval_answer(value, response_schema, made[0])
        else:
            answer = decisions.hitl_request_answer(value, made)
    types = [c[0] for c in chosen]
    if len(specs) <= 5:
        verb = ", ".join(f"{_DECISION_LABELS.get(t, t).lower()} {s.name}" for t, s in zip(types, specs, strict=True))
    else:  # one clause per call would make a banner of thousands
        counts = {t: types.count(t) for t in dict.fromkeys(types)}
        verb = ", ".join(f"{_DECISION_LABELS.get(t, t).lower()} {n:,}" for t, n in counts.items()) + f" of {len(specs):,} calls"
    comment = "; ".join(c[2] for c in chosen if c[2])
    return Submission(interrupt_id=card.id, answer=answer, comment=comment, verb=verb)


_RENDERERS: dict[str, Callable[..., Submission | None]] = {
    "confirm": _confirm,
    "question": _question,
    "edit": _edit,
    "stage": _stage,
    "approval_level": _approval_level,
    "tool_review": _tool_review,
    "sensitive_tools": _sensitive_tools,
    "state_edit": _state_edit,
    "feedback": _feedback,
    "json": _json,
}


# --------------------------------------------------------------------------- public


def render_card(item: Any, options: CardOptions) -> Submission | None:
    """Draw one pending interrupt for its kind; the reviewer's built answer when they decided.

    A decode error or a failed run shows the reason instead of answer widgets. An answer
    the builder refuses is kept as the card's errors (shown next to the fields after the
    rerun) and None is returned.
    """
    card = _Card(item, options)
    with st.container(border=True, key=f"review-card-{card.id}"):
        title = KIND_TITLES.get(item.kind, item.kind)
        contract = options.contract
        if contract is not None and not contract.kind_shape and contract.answer != "boolean":
            # Not the kind's own answer: a title promising "approve" would mislead.
            title = "Question" if isinstance(item.value, str) else "Answer a request"
        head = f"{title}" + (f" ({options.position})" if options.position else "")
        node = f"node {item.node}" if item.node else "node unknown"
        st.markdown(f"#### {md_escape(head)}")
        st.caption(md_escape(f"{node} · kind {item.kind} · interrupt {card.id}"))
        if item.decode_error:
            show_alert("error", f"This request could not be decoded, so it cannot be answered here: {item.decode_error}")
            return None
        if item.failed_error:
            show_alert("error", f"This request was answered, then the graph raised: {item.failed_error}")
            st.caption("Nothing is lost: LangGraph keeps the answer. Use Retry (above) to run the step again with the same "
                       "answer, or Mark resolved to close the thread.")
            return None
        if contract is not None:
            st.caption(md_escape(contract.describe()))
        try:
            if contract is not None and contract.shape_kind == "schema":  # the schema's form fits, not the kind's
                return _schema(card, item.value, item.response_schema or {})
            if contract is not None and not contract.kind_shape:
                if item.kind == "confirm" and contract.answer == "boolean":
                    return _confirm(card, item.value)
                return _contract_card(card, item.value, contract)
            if item.kind in ("hitl_request", "tool_approval", "agent_inbox"):
                return _actions(card, item.value, item.response_schema)
            if item.kind == "schema":
                return _schema(card, item.value, item.response_schema or {})
            renderer = _RENDERERS.get(item.kind, _json)
            return renderer(card, item.value)
        except InvalidAnswer as error:
            _keep_errors(card.id, error)
            st.rerun()
    return None


def _reviewer_missing() -> None:
    show_alert("error", "Enter your reviewer name first (in the sidebar): every decision is recorded with who made "
                        "it. Nothing was sent.")


def submit(inbox: Any, thread_id: str, submission: Submission, *, reviewer: str) -> None:
    """Resume the thread with one answer, keep the outcome for the page, and rerun.

    Without a reviewer name nothing is sent and the reason is shown in place.
    """
    if not reviewer.strip():
        _reviewer_missing()
        return
    outcome: dict[str, Any] = {"thread_id": thread_id, "verb": submission.verb, "at": time.time()}
    try:
        result = inbox.resume(thread_id, {submission.interrupt_id: submission.answer}, reviewer=reviewer,
                              comment=submission.comment)
    except AlreadyDecided as error:
        outcome.update(status="already", reviewer=error.reviewer,
                       decided_at=error.decided_at.timestamp() if error.decided_at else None)
    except InvalidAnswer as error:
        _keep_errors(submission.interrupt_id, error)
        outcome = None  # the card shows the errors next to its fields
    except HitlError as error:
        outcome.update(status="error", error=str(error))
    else:
        _clear_errors(submission.interrupt_id)
        outcome.update(status=result.status, error=result.error, new=len(result.new_interrupts), note=result.note)
    st.session_state[OUTCOME_KEY] = outcome
    st.rerun()


def _ago(timestamp: float | None) -> str:
    if timestamp is None:
        return "at an unknown time"
    moment = datetime.fromtimestamp(float(timestamp), timezone.utc)
    seconds = max(0.0, (datetime.now(timezone.utc) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            ago = f"{int(seconds // size)} {unit} ago"
            break
    else:
        ago = f"{int(seconds)} s ago"
    return f"{ago} ({moment.strftime('%Y-%m-%d %H:%M:%S UTC')})"


def render_outcome(outcome: Mapping[str, Any] | None, thread_id: str) -> str | None:
    """The last submit's outcome for this thread, as a banner; returns its status."""
    if not outcome or outcome.get("thread_id") != thread_id:
        return None
    status = outcome.get("status")
    verb = outcome.get("verb", "decided")
    if outcome.get("note"):  # a quorum vote: recorded, the graph did not run
        show_alert("info", f"You {verb}. {outcome['note']}")
    elif status == "completed":
        show_alert("success", f"You {verb}. The run completed.")
    elif status == "waiting":
        count = outcome.get("new") or 0
        show_alert("info", f"You {verb}. The graph ran and paused again: "
                   + (f"{count} new request{'s' if count != 1 else ''} below." if count else "the remaining requests are below."))
    elif status == "failed":
        show_alert("error", f"You {verb}, then the graph raised: {outcome.get('error')}")
        st.caption("Nothing is lost: your answer is recorded in the audit log and kept by LangGraph. Retry runs the "
                   "failed step again with the same answer; Mark resolved closes the thread.")
    elif status == "already":
        if outcome.get("reviewer") or outcome.get("decided_at"):
            who = outcome.get("reviewer") or "another reviewer"
            show_alert("warning", f"Already decided by {who} {_ago(outcome.get('decided_at'))}. Your answer was not "
                       "sent; the page now shows the thread as it is.")
        else:
            show_alert("warning", "Another reviewer answered this request a moment ago and their decision is being "
                       "applied. Your answer was not sent; reload in a moment to see the result.")
    elif status == "resolved":
        show_alert("success", "You marked the thread resolved; it was closed without resuming the graph.")
    elif status == "error":
        show_alert("error", str(outcome.get("error")))
    return str(status) if status else None


def render_failure_panel(inbox: Any, view: Any, *, reviewer: str) -> None:
    """The thread's failed steps with Retry (same answers) and the "nothing lost" explanation."""
    failed = [item for item in view.interrupts if item.failed_error]
    errors = list(view.errors or [])
    if not failed and not errors and view.status != "failed":
        return
    with st.container(border=True):
        st.markdown("#### The run failed")
        for item in failed:
            show_alert("error", f"After the answer to {item.node or 'a request'}: {item.failed_error}")
        for node, text in errors:
            if not any(text in (item.failed_error or "") for item in failed):
                show_alert("error", f"{node}: {text}")
        st.caption("Nothing is lost: the answers are stored and the thread stays at its last checkpoint. "
                   "Retry runs the failed step again with the same answers.")
        if st.button("Retry", key=f"review:{view.thread_id}:retry", type="primary", icon=":material/replay:"):
            if not reviewer.strip():
                _reviewer_missing()
                return
            outcome: dict[str, Any] = {"thread_id": view.thread_id, "verb": "retried", "at": time.time()}
            try:
                result = inbox.retry(view.thread_id, reviewer=reviewer)
                outcome.update(status=result.status, error=result.error, new=len(result.new_interrupts), note=result.note)
            except HitlError as error:
                outcome.update(status="error", error=str(error))
            st.session_state[OUTCOME_KEY] = outcome
            st.rerun()


def render_resolve(inbox: Any, view: Any, *, reviewer: str) -> None:
    """"Mark resolved": close the thread without resuming it, only with a reason."""
    with st.expander("Mark resolved: close this thread without resuming it", icon=":material/task_alt:"):
        st.caption("The graph is not run; the thread is closed at its current state (update_state as END) and the "
                   "reason is recorded in the audit log.")
        reason = st.text_input("Reason (required)", key=f"review:{view.thread_id}:resolve_reason")
        if st.button("Mark resolved", key=f"review:{view.thread_id}:resolve", disabled=not reason.strip()):
            if not reviewer.strip():
                _reviewer_missing()
                return
            outcome: dict[str, Any] = {"thread_id": view.thread_id, "at": time.time()}
            try:
                inbox.resolve(view.thread_id, reviewer=reviewer, reason=reason.strip())
                outcome.update(status="resolved", verb="marked the thread resolved")
            except HitlError as error:
                outcome.update(status="error", error=str(error))
            st.session_state[OUTCOME_KEY] = outcome
            st.rerun()
