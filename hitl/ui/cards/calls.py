"""Cards that carry tool calls: tool_review (ticks), sensitive_tools (all or nothing) and the
per-call decisions of hitl_request, tool_approval and agent_inbox."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st

from hitl import decisions
from hitl.kinds.base import ActionSpec
from hitl.kinds.impact import calls_impact
from hitl.kinds.langchain import APPROVING_DECISIONS as APPROVING
from hitl.ui.cards.card import (
    Card,
    Submission,
    call_row,
    calls_page,
    editor_hidden,
    editor_height,
    json_errors,
    kept_choices,
    show_args,
    show_edit,
)
from hitl.ui.cards.helpers import (
    CALLS_PER_PAGE,
    DECISION_LABELS,
    NO_REASON,
    SEND_LABELS,
    combine_reason,
    edit_args_schema,
    get,
    review_actions,
)
from hitl.ui.context import json_view, md_escape, pretty_json, safe_markdown, show_alert, show_hidden_note, show_text
from hitl.ui.schema_form import keep_untouched, render_schema_form

def tool_review_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    tools = get(value, "tools") or []
    if get(value, "message"):
        st.markdown(f"**{md_escape(get(value, 'message'))}**")
    # Ticks and edits live in `kept`, not only in the widgets: a call on another page has no
    # widget this run, and its tick or edit must still count.
    kept = kept_choices(card, "tools", ticks={}, texts={})
    shown = calls_page(card, [call_row(tool) for tool in tools] if len(tools) > CALLS_PER_PAGE else [],
                        total=len(tools), scope=lambda n: (
                            f"Approve selected sends every ticked call, on every page: the {n:,} calls not shown here "
                            "stay ticked unless you untick them on their page. Reject all rejects all of them."))
    broken = False
    for index in shown:
        ticked, text, start, problem = _tool_call_editor(card, index, tools[index], kept)
        broken = broken or problem
        kept["ticks"][index] = ticked
        if text == start:
            kept["texts"].pop(index, None)  # unedited: the checkpoint's own args, types and all
        else:
            kept["texts"][index] = text
    ticks = [kept["ticks"].get(index, True) for index in range(len(tools))]
    texts = [kept["texts"].get(index) for index in range(len(tools))]
    elsewhere = sorted(i for i, text in kept["texts"].items()
                       if i not in shown and ticks[i] and isinstance(text, str) and json_errors(text))
    if elsewhere:
        broken = True
        show_alert("error", f"Tool call{'s' if len(elsewhere) > 1 else ''} {', '.join(str(i + 1) for i in elsewhere[:10])} "
                            "(on another page) hold invalid JSON. Fix or untick them there.")
    reason = card.reason(label="Reason (for Reject all)")
    count = sum(ticks)
    running = [call_row(tool) for tool, ticked in zip(tools, ticks, strict=True) if ticked]
    card.will_run = (calls_impact(running, verb="Approve selected").line if running
                     else "Nothing is ticked: Approve selected would run no tool call.")
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
        return Submission(interrupt_id=card.id, answer=answer, comment=reason, verb="rejected all tool calls",
                          approving=False)
    return None


def _tool_call_editor(card: Card, index: int, tool: Any, kept: dict[str, Any]) -> tuple[bool, Any, str, bool]:
    """One proposed call's tick and arguments (a form, or JSON text): (ticked, the arguments
    as edited, as the checkpoint has them (pretty JSON), whether they are broken)."""
    name = str(get(tool, "name", "?"))
    with st.container(border=True):
        ticked = st.checkbox(f"Run **{md_escape(name)}**", value=kept["ticks"].get(index, True),
                             key=card.key("tick", index), **card.on_change())
        show_hidden_note(name, what="This tool name")
        original = get(tool, "args", {})
        start = pretty_json(original)
        as_form = flat_args(original) and not st.toggle(
            "Edit as JSON", value=False, key=card.key("asjson", index), disabled=not ticked, **card.on_change())
        if as_form:
            text, problem = _args_form(card, index, name, original, kept["texts"].get(index), disabled=not ticked)
            problem = problem if ticked else None
        else:
            typed = kept["texts"].get(index, start)
            text = st.text_area(f"Arguments of {md_escape(name)} (JSON, editable)",
                                value=typed if isinstance(typed, str) else pretty_json(typed),
                                key=card.key("args", index), height=editor_height(start), disabled=not ticked,
                                **card.on_change())
            problem = json_errors(text) if ticked else None
        if as_form and text == original:
            text = start  # the form left every field as the checkpoint has it
        if problem:
            if not as_form:  # a form's problem is already shown under its field
                show_alert("error", f"{name}: {problem} Fix it or untick this call.")
        elif ticked and text != start:
            st.caption("Edited: this call runs with your arguments.")
            show_edit(get(tool, "args", {}), text, what=f"arguments of {name}")
        elif not ticked:
            st.caption("Unticked: this call will not run.")
        card.field_errors(f"tools[{index}]", strip=f"tools[{index}]")
    return ticked, text, start, bool(problem)


def flat_args(args: Any) -> bool:
    """Tool args a form can edit field by field: a non-empty object of text, numbers and
    yes/no values (exactly those types: a Decimal or a nested value keeps the JSON editor)."""
    return (isinstance(args, Mapping) and bool(args) and all(isinstance(k, str) for k in args)
            and all(type(v) in (str, int, float, bool) for v in args.values()))


def _args_form(card: Card, index: int, name: str, original: Mapping[str, Any], typed: Any, *,
               disabled: bool) -> tuple[dict[str, Any], str | None]:
    """One widget per argument of a flat args object; (the args, a problem or None).

    A field left as shown is the checkpoint's own value (never re-parsed from its display).
    Numbers are typed as text (exact: no rounding, no precision lost on large integers) and
    parsed only when changed; text keeps its line breaks in a text area.
    """
    before = typed if isinstance(typed, Mapping) else original
    out: dict[str, Any] = {}
    problem = None
    st.caption(md_escape(f"Arguments of {name} (editable)"))
    for field_index, (key, value) in enumerate(original.items()):
        wkey = card.key("arg", index, field_index)
        label = md_escape(key)
        current = before.get(key, value)
        if type(value) is bool:
            out[key] = st.checkbox(label, value=bool(current), key=wkey, disabled=disabled, **card.on_change())
        elif type(value) is str:
            text = current if isinstance(current, str) else str(current)
            widget = st.text_area if "\n" in text or len(text) > 120 else st.text_input
            out[key] = widget(label, value=text, key=wkey, disabled=disabled, **card.on_change())
            editor_hidden(out[key], what=f"The value of {key}")
        else:
            shown = json.dumps(value)
            raw = st.text_input(label, value=json.dumps(current) if _is_number(current) else shown, key=wkey,
                                disabled=disabled, **card.on_change()).strip()
            if raw == shown:
                out[key] = value
                continue
            try:
                number = json.loads(raw)
            except ValueError:
                number = None
            if not _is_number(number):
                problem = f"{key}: {raw!r} is not a number."
                show_alert("error", f"{problem} Fix it or untick this call.")
                out[key] = value
                continue
            out[key] = int(number) if type(value) is int and float(number).is_integer() else number
    # Fields left as they were are the checkpoint's values themselves.
    return {key: (original[key] if out[key] == original[key] and type(out[key]) is type(original[key]) else out[key])
            for key in out}, problem


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def sensitive_tools_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    calls = get(value, "sensitive_tools") or []
    if get(value, "message"):
        st.markdown(f"**{md_escape(get(value, 'message'))}**")
    shown = calls_page(card, [call_row(call) for call in calls] if len(calls) > CALLS_PER_PAGE else [],
                        total=len(calls), scope=lambda n: (
                            f"Approve all runs every call, the {n:,} not shown here included; Reject runs none of them."))
    for index in shown:
        call = calls[index]
        with st.container(border=True):
            name = str(get(call, "name", "?"))
            st.markdown(f"**{md_escape(name)}**")
            show_hidden_note(name, what="This tool name")
            show_args(get(call, "args", {}))
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
                          verb="approved" if approved else "rejected", approving=approved)
    return None




def _args_editor(card: Card, index: int, spec: ActionSpec, schema: Mapping[str, Any] | None,
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
                            key=card.key("argsjson", index), height=editor_height(start), **card.on_change())
        kept["argsjson"] = text
        problem = json_errors(text)
        if problem:
            card.broken = True
            show_alert("error", problem)
        card.field_errors(f"[{index}].args", strip=f"[{index}].args")
        if text != start:
            show_edit(spec.args, text, what=f"arguments of {spec.name}")
        return text
    filled = kept.get("argsform")
    data = render_schema_form(schema, key=card.key("argsform", index), initial=filled if filled is not None else spec.args,
                              errors=card.errors, shown=card.shown, prefix=f"[{index}].args")
    kept["argsform"] = data
    kept.setdefault("argsshown", data)  # what the form made of the agent's args, before any edit
    card.field_errors(f"[{index}].args", strip=f"[{index}].args")
    args = keep_untouched(spec.args, kept["argsshown"], data)
    show_edit(spec.args, args, what=f"arguments of {spec.name}")
    return args


def _action_block(card: Card, index: int, spec: ActionSpec, *, total: int,
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
        show_args(spec.args)
        if not spec.allowed:
            show_alert("warning", "This request allows no decision; it can only be marked resolved.")
            return "", None, ""
        options = list(spec.allowed)
        choice = st.radio("Decision", options, key=card.key("decision", index), horizontal=True,
                          index=options.index(kept["choice"]) if kept.get("choice") in options else 0,
                          format_func=lambda t: DECISION_LABELS.get(t, t), **card.on_change())
        kept["choice"] = choice
        card.field_errors(f"[{index}].type", strip=f"[{index}]")
        args: Any = None
        message = ""
        schema = card.schemas.get(spec.name)
        if choice == "edit":
            args = _args_editor(card, index, spec, schema, kept)
        elif choice == "reject":
            left, right = st.columns([2, 3])
            presets = [NO_REASON, *card.options.reject_reasons]
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


def _kept_decision(card: Card, spec: ActionSpec, kept: Mapping[str, Any]) -> tuple[str, Any, str]:
    """(decision type, args, message) of a call not drawn this run: what the reviewer chose on
    its page, else the first decision it allows (what its page would show preselected)."""
    choice = kept.get("choice") if kept.get("choice") in spec.allowed else (spec.allowed[0] if spec.allowed else "")
    if choice == "edit":
        if kept.get("asjson") or card.schemas.get(spec.name) is None:
            text = kept.get("argsjson")
            if isinstance(text, str) and json_errors(text):
                card.broken = True
            return choice, text if isinstance(text, str) else None, ""
        filled = kept.get("argsform")
        return choice, None if filled is None else keep_untouched(spec.args, kept.get("argsshown", filled), filled), ""
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


def actions_card(card: Card, value: Any, response_schema: Any) -> Submission | None:
    kind = card.item.kind
    specs = review_actions(kind, value, response_schema)
    if kind == "tool_approval":
        own = edit_args_schema(response_schema)
        if own is not None and specs:
            card.schemas = {**card.schemas, specs[0].name: own}
    if not specs:
        show_alert("warning", "This request lists no actions.")
        show_args(value)
        return None
    inbox = kind == "agent_inbox"
    yes, no = ("accept", "ignore") if inbox else ("approve", "reject")
    kept = kept_choices(card, "actions", calls={})["calls"]
    first = next(iter(specs[0].allowed), "") if specs else ""
    shown = calls_page(card, [{"name": s.name, "args": s.args} for s in specs] if len(specs) > CALLS_PER_PAGE else [],
                        total=len(specs), scope=lambda n: (
                            f"Submit decisions sends a decision for every call: your choice where you made one, on any page, "
                            f"and the preselected one ({DECISION_LABELS.get(first, first).lower()}, where allowed) for the "
                            f"others, {n:,} of them not shown here. {DECISION_LABELS[yes]} all and {DECISION_LABELS[no]} "
                            f"all apply to all {len(specs):,} calls."))
    chosen = [
        _action_block(card, index, spec, total=len(specs), kept=kept.setdefault(index, {})) if index in shown
        else _kept_decision(card, spec, kept.get(index, {}))
        for index, spec in enumerate(specs)
    ]
    # A (the approve key) sends what the card shows as chosen, never "approve all": on a card
    # with per-call choices a rejected call stays rejected. Approve all has no shortcut.
    if len(specs) == 1:
        choice, allowed = chosen[0][0], specs[0].allowed
        buttons = [("submit", SEND_LABELS.get(choice, "Submit decision"), "approve", card.broken or not choice)]
        if choice != yes and yes in allowed:
            buttons.append((yes, DECISION_LABELS[yes], "", False))
        if choice != no and no in allowed:
            buttons.append((no, DECISION_LABELS[no], "reject", False))
    else:
        types = [c[0] for c in chosen]
        tally = ", ".join(f"{types.count(t):,} {DECISION_LABELS.get(t, t).lower()}" for t in dict.fromkeys(types) if t)
        buttons = [
            ("submit", f"Submit decisions ({tally})" if tally else "Submit decisions", "approve",
             card.broken or any(not c[0] for c in chosen)),
            (yes, f"{DECISION_LABELS[yes]} all", "", not all(yes in s.allowed for s in specs)),
            (no, f"{DECISION_LABELS[no]} all", "reject", not all(no in s.allowed for s in specs)),
        ]
    card.will_run = _will_run(specs, chosen)
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
    verb = past_decisions(types, [s.name for s in specs])
    comment = "; ".join(c[2] for c in chosen if c[2])
    return Submission(interrupt_id=card.id, answer=answer, comment=comment, verb=verb,
                      approving=False if clicked == no else None)


def _will_run(specs: list[ActionSpec], chosen: list[tuple[str, Any, str]]) -> str:
    """ "Submitting your choices runs 2 tool calls: send_email …; … — 1 not run"."""
    running = [{"name": s.name, "args": s.args} for s, c in zip(specs, chosen, strict=True) if c[0] in APPROVING]
    if len(specs) == 1:
        return ""
    held = len(specs) - len(running)
    if not running:
        return f"Submitting your choices runs no tool call ({held:,} not run)."
    line = calls_impact(running, verb="Submitting your choices").line
    return line + (f" — {held:,} not run" if held else "")


PAST_DECISIONS = {
    "approve": "approved {}", "edit": "approved {} with edited args", "reject": "rejected {}",
    "respond": "answered {} instead of running it", "accept": "accepted {}",
    "response": "answered {} instead of running it", "ignore": "ignored {}",
}
"""What the reviewer did to one call, in the past tense, for the outcome banner."""
PAST_COUNTS = {"approve": "approved", "edit": "edited", "reject": "rejected", "respond": "answered",
               "accept": "accepted", "response": "answered", "ignore": "ignored"}


def past_decisions(types: list[str], names: list[str]) -> str:
    """ "approved send_email, rejected make_payment"; counted for more than five calls."""
    if len(types) <= 5:
        return ", ".join(PAST_DECISIONS.get(t, t + " {}").format(n) for t, n in zip(types, names, strict=True))
    counts = {t: types.count(t) for t in dict.fromkeys(types)}
    return ", ".join(f"{PAST_COUNTS.get(t, t)} {n:,}" for t, n in counts.items()) + f" of {len(types):,} calls"


