"""Cards of the one-decision kinds (confirm, question, edit, stage, approval level, state edit,
feedback), of unrecognised payloads, of contracts that are not the kind's own shape, and of
response schemas."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st

from hitl import contracts, decisions
from hitl.contracts import Contract
from hitl.ui.cards.card import (
    Card,
    Submission,
    editor_hidden,
    editor_height,
    json_errors,
    show_args,
    show_changes,
    show_edit,
    show_fields,
)
from hitl.ui.cards.helpers import combine_reason, get
from hitl.ui.context import md_escape, pretty_json, show_alert, show_json, show_text
from hitl.ui.schema_form import render_schema_form
from hitl.ui.text import jsonable



def confirm_card(card: Card, value: Any) -> Submission | None:
    with st.container(border=True):
        show_text(value)
    note = st.text_input("Note (optional, recorded with your decision)", key=card.key("note"))
    clicked = card.buttons([("yes", "Yes, proceed", "approve", False), ("no", "No, cancel", "reject", False)])
    card.rest()
    if clicked:
        return Submission(interrupt_id=card.id, answer=decisions.confirm_answer(clicked == "yes"),
                          comment=note.strip(), verb="confirmed" if clicked == "yes" else "declined",
                          approving=clicked == "yes")
    return None


def question_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    question = get(value, "question")
    if question:
        st.markdown(f"**{md_escape(question)}**")
    if get(value, "action"):
        st.caption(md_escape(f"Action: {get(value, 'action')}"))
    details = get(value, "details")
    if isinstance(details, str):
        show_text(details)
    elif details is not None:
        show_args(details)
    show_fields(value, skip=("question", "action", "details"))
    reason = card.reason(label="Reject reason")
    card.field_errors("reason")
    clicked = card.buttons([("approve", "Approve", "approve", False), ("reject", "Reject", "reject", False)])
    card.rest()
    if clicked == "approve":
        return Submission(interrupt_id=card.id, answer=decisions.question_answer(approved=True), verb="approved",
                          approving=True)
    if clicked == "reject":
        return Submission(interrupt_id=card.id, answer=decisions.question_answer(approved=False, reason=reason),
                          comment=reason, verb="rejected", approving=False)
    return None


def stage_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    st.caption(md_escape(f"Stage: {get(value, 'stage', '')}"))
    if get(value, "message"):
        st.markdown(f"**{md_escape(get(value, 'message'))}**")
    with st.container(border=True):
        show_text(get(value, "result", ""))
    show_fields(value, skip=("stage", "message", "result"))
    reason = card.reason(label="Reject reason", details_label="Notes (sent with approve or reject)", area=True)
    clicked = card.buttons([("approve", "Approve stage", "approve", False), ("reject", "Reject stage", "reject", False)])
    card.rest()
    if clicked:
        approved = clicked == "approve"
        notes = reason if not approved else combine_reason(None, st.session_state.get(card.key("reason")))
        return Submission(interrupt_id=card.id, answer=decisions.stage_answer(approved=approved, reason=notes),
                          comment=notes, verb="approved" if approved else "rejected", approving=approved)
    return None


def edit_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    draft = get(value, "draft", "")
    if get(value, "instructions"):
        st.caption(md_escape(get(value, "instructions")))
    text_draft = draft if isinstance(draft, str) else pretty_json(draft)
    edited = st.text_area("Draft (edit it here)", value=text_draft, key=card.key("draft"),
                          height=editor_height(text_draft, low=200), **card.on_change())
    editor_hidden(edited, what="The draft")
    changed = edited != text_draft
    if changed:
        show_edit(draft, edited, what="draft")
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
        edited_value = json.loads(edited) if not json_errors(edited) and edited.strip() else edited
    answer = decisions.edit_answer(action=clicked, edited=edited_value if clicked == "approve" else None, draft=draft)
    if clicked == "reject" and reason:
        answer["reason"] = reason
    verbs = {"approve": "approved (edited)" if changed else "approved", "reject": "rejected", "regenerate": "sent back for a new version"}
    return Submission(interrupt_id=card.id, answer=answer, comment=reason if clicked == "reject" else "", verb=verbs[clicked],
                      approving=clicked == "approve")


def approval_level_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    level = str(get(value, "level", "")) or "approver"
    st.caption(md_escape(f"Level: {level}"))
    with st.container(border=True):
        show_text(get(value, "message", ""))
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
                      verb=f"approved as {level}" if clicked == "approve" else f"rejected as {level}",
                      approving=clicked == "approve")


def state_edit_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    state = get(value, "current_state") or {}
    if get(value, "message"):
        st.markdown(f"**{md_escape(get(value, 'message'))}**")
    output = get(state, "output", "")
    output_text = output if isinstance(output, str) else pretty_json(output)
    new_output = st.text_area("Output", value=output_text, key=card.key("output"), height=editor_height(output_text), **card.on_change())
    editor_hidden(new_output, what="The output")
    card.field_errors("new_output")
    metadata_text = pretty_json(get(state, "metadata", {}) or {})
    new_metadata = st.text_area("Metadata (JSON object)", value=metadata_text, key=card.key("metadata"),
                                height=editor_height(metadata_text), **card.on_change())
    problem = json_errors(new_metadata)
    if problem:
        show_alert("error", f"Metadata: {problem}")
    card.field_errors("new_metadata")
    other = {k: v for k, v in state.items() if k not in ("output", "metadata")} if isinstance(state, Mapping) else {}
    if other:
        st.caption("Other state (not editable here)")
        show_args(other)
    # Unedited fields are the checkpoint's own values, not a re-parse of what was displayed.
    if new_output == output_text:
        out_value: Any = output
    elif isinstance(output, str):
        out_value = new_output
    else:
        out_value = json.loads(new_output) if not json_errors(new_output) else new_output
    metadata_answer = None if new_metadata.strip() == metadata_text else new_metadata
    changed = new_output != output_text or metadata_answer is not None
    if changed and isinstance(state, Mapping):
        edited_metadata = (json.loads(metadata_answer) if metadata_answer.strip() else {}) if metadata_answer is not None \
            and not problem else get(state, "metadata", {})
        show_changes(dict(state), {**state, "output": out_value, "metadata": edited_metadata}, what="state")
    # A Reject only where the contract says what a rejection is (a state edit has none of its own).
    contract = card.options.contract
    rejects = contract is not None and contract.has_values[1] and not contract.no_reject_reason
    reason = card.reason(label="Reject reason") if rejects else ""
    buttons = [("approve", "Approve with my edits" if changed else "Approve unchanged", "approve", bool(problem))]
    if rejects:
        buttons.append(("reject", f"Reject (sends {short_json(contract.reject_value)})", "reject", False))
    clicked = card.buttons(buttons)
    card.rest()
    if clicked == "reject" and contract is not None:
        answer = contracts.quick(contract, card.item.kind, value, approve=False, comment=reason)
        return Submission(interrupt_id=card.id, answer=answer, comment=reason, verb="rejected the state edit",
                          approving=False)
    if clicked == "approve":
        answer = decisions.state_edit_answer(current_state=state, new_output=out_value, new_metadata=metadata_answer)
        return Submission(interrupt_id=card.id, answer=answer, approving=True,
                          verb="approved with edits" if answer.get("modified") else "approved unchanged")
    return None


def feedback_card(card: Card, value: Mapping[str, Any]) -> Submission | None:
    iteration = get(value, "iteration")
    if get(value, "message"):
        st.markdown(f"**{md_escape(get(value, 'message'))}**")
    if iteration is not None:
        st.caption(md_escape(f"Iteration {iteration}"))
    with st.container(border=True):
        show_text(get(value, "output", ""))
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
                          verb="approved" if approved else "sent feedback", approving=approved)
    return None


def json_card(card: Card, value: Any) -> Submission | None:
    st.caption("Unrecognised payload, shown as JSON. Type the answer the graph expects as JSON.")
    show_json(value, expanded=2, what="This payload")
    text = st.text_area("Answer (JSON)", key=card.key("json"), placeholder='e.g. true, "text" or {"approved": true}',
                        **card.on_change())
    problem = json_errors(text)
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


TYPED_EDITORS = ("Text", "Number", "Yes/No", "JSON")


def typed_answer(card: Card, editor: str) -> tuple[Any, str | None]:
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
    problem = json_errors(text)
    if problem:
        show_alert("error", problem)
        return None, problem
    return json.loads(text), None


def contract_card(card: Card, value: Any, contract: Contract) -> Submission | None:
    """A payload whose answer is not the kind's own shape: the payload, then an editor for the contract."""
    if isinstance(value, str):
        with st.container(border=True):
            show_text(value)
    elif isinstance(value, Mapping):
        show_fields(value)
    else:
        show_args(value)
    if contract.answer == "boolean":
        note = st.text_input("Note (optional, recorded with your decision)", key=card.key("note"))
        clicked = card.buttons([("yes", "Yes (sends true)", "approve", False), ("no", "No (sends false)", "reject", False)])
        card.rest()
        if clicked:
            return Submission(interrupt_id=card.id, answer=clicked == "yes", comment=note.strip(),
                              verb="answered yes" if clicked == "yes" else "answered no", approving=clicked == "yes")
        return None
    quick: list[tuple[str, str, str, bool]] = []
    has_approve, has_reject = contract.has_values
    if contract.can_approve and has_approve:
        quick.append(("approve", f"Approve (sends {short_json(contract.approve_value)})", "approve", False))
    if contract.can_reject and has_reject:
        quick.append(("reject", f"Reject (sends {short_json(contract.reject_value)})", "reject", False))
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
                              verb="approved" if clicked == "approve" else "rejected", approving=clicked == "approve")
        st.caption("Or type the answer yourself:")
    fixed = {"text": "Text", "number": "Number", "object": "JSON"}.get(contract.answer)
    if fixed is None:
        st.caption("The desk cannot tell what this graph expects: pick the answer's type and check what will be sent.")
        default = 0 if isinstance(value, str) else 3
        editor = st.radio("Answer type", TYPED_EDITORS, index=default, key=card.key("typed", "editor"),
                          horizontal=True, **card.on_change())
    else:
        editor = fixed
    answer, problem = typed_answer(card, editor)
    if problem is None:
        st.caption(md_escape(f"Will send: {short_json(answer, 300)}"))
    card.field_errors("")
    clicked = card.buttons([("submit", "Send answer", "", problem is not None)])
    card.rest()
    if clicked and problem is None:
        return Submission(interrupt_id=card.id, answer=answer, verb="answered")
    return None


def short_json(value: Any, limit: int = 60) -> str:
    text = json.dumps(jsonable(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def schema_card(card: Card, value: Any, response_schema: Mapping[str, Any]) -> Submission | None:
    if isinstance(value, Mapping):
        show_fields(value)
    elif value is not None:
        show_text(value if isinstance(value, str) else pretty_json(value))
    st.markdown("**Your answer**")
    about = [response_schema.get(k) for k in ("title", "description")] if isinstance(response_schema, Mapping) else []
    if any(about):
        st.caption(md_escape(" — ".join(str(part) for part in about if part)))
    # Each field's error under its widget (`card.shown` records them); the rest, once, in `card.rest`.
    data = render_schema_form(response_schema, key=card.key("form"), errors=card.errors, shown=card.shown)
    clicked = card.buttons([("submit", "Submit", "approve", False)])
    card.rest()
    if clicked:
        answer = decisions.schema_answer(response_schema, data)
        return Submission(interrupt_id=card.id, answer=answer, verb="submitted the form")
    return None


