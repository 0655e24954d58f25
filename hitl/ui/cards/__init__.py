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

from collections.abc import Callable
from typing import Any

import streamlit as st

from hitl.errors import HitlError, InvalidAnswer
from hitl.kinds.base import ActionSpec
from hitl.ui.cards.calls import actions_card, sensitive_tools_card, tool_review_card
from dataclasses import replace

from hitl.kinds.impact import read_impact
from hitl.ui.cards.card import (
    Card,
    CardOptions,
    Submission,
    confirm_key,
    forget_confirmation,
    keep_errors,
    settle_stale_click,
)
from hitl.ui.cards.helpers import (
    CALLS_PER_PAGE,
    CLICK_KEY,
    KIND_TITLES,
    OUTCOME_KEY,
    SHORTCUTS,
    combine_reason,
    confirmation_line,
    edit_args_schema,
    errors_key,
    neighbours,
    normalize_error_path,
    review_actions,
    tool_arg_schemas,
)
from hitl.ui.cards.outcome import render_failure_panel, render_outcome, render_resolve, submit
from hitl.ui.cards.simple import (
    approval_level_card,
    confirm_card,
    contract_card,
    edit_card,
    feedback_card,
    json_card,
    question_card,
    schema_card,
    stage_card,
    state_edit_card,
)
from hitl.ui.context import md_escape, show_alert
from hitl.ui.auth import login_configured
from hitl.ui.desk import get_inbox
from hitl.ui.duties import duty_warnings, last_round

__all__ = [
    "KIND_TITLES",
    "SHORTCUTS",
    "CALLS_PER_PAGE",
    "ActionSpec",
    "CardOptions",
    "Submission",
    "combine_reason",
    "confirmation_line",
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



RENDERERS: dict[str, Callable[..., Submission | None]] = {
    "confirm": confirm_card,
    "question": question_card,
    "edit": edit_card,
    "stage": stage_card,
    "approval_level": approval_level_card,
    "tool_review": tool_review_card,
    "sensitive_tools": sensitive_tools_card,
    "state_edit": state_edit_card,
    "feedback": feedback_card,
    "json": json_card,
}




ACTION_BAR_CSS = """
/* The action bar of every review card stays in view: it sticks to the bottom of the window
   while its card is on screen, however tall the card is. */
div[class*="st-key-review-actions-"] {
  position: sticky; bottom: 0; z-index: 5;
  background: var(--st-background-color, #fff);
  padding: 0.5rem 0 0.6rem; border-top: 1px solid rgba(49, 51, 63, 0.2);
  box-shadow: 0 -6px 10px -8px rgba(49, 51, 63, 0.35);
}
div[class*="st-key-review-impact-"] {
  background: rgba(28, 131, 225, 0.1); border-radius: 0.5rem; padding: 0.5rem 0.75rem;
}
div[class*="st-key-review-impact-"][class*="-risky"] { background: rgba(255, 164, 33, 0.18); }
div[data-testid="stLayoutWrapper"]:has(> div[class*="st-key-review-actions-"]),
div[data-testid="stElementContainer"]:has(> div[class*="st-key-review-actions-"]) {
  position: sticky; bottom: 0; z-index: 5;
}
"""
_action_bar_style = st.components.v2.component("hitl_review_action_bar", css=ACTION_BAR_CSS, isolate_styles=False)
"""Trusted, constant CSS (no payload text) applied to the page, not an HTML element."""


def render_card(item: Any, options: CardOptions) -> Submission | None:
    """Draw one pending interrupt for its kind; the reviewer's built answer when they decided.

    The card opens with one line that says what approving does (`hitl.kinds.impact`) and
    ends with a sticky action bar. A decode error or a failed run shows the reason instead of
    answer widgets. An answer the builder refuses is kept as the card's errors (shown next to
    the fields after the rerun) and None is returned. A decision that moves money, deletes or
    lets more than one call run is not returned at once: it waits in the action bar for a
    confirming second step (Confirm, key Y; Cancel, Esc) and is returned when confirmed.
    """
    card = Card(item, options)
    _action_bar_style(key=f"review-bar-style-{card.id}")
    submission = _draw(card, item, options)
    if card.confirmed and card.pending is not None:
        forget_confirmation(card.id)
        return card.pending
    if submission is None or not options.reviewer.strip():
        return submission  # without a name nothing is sent, and `submit` says why
    contract = options.contract
    line = confirmation_line(item.kind, item.value, item.response_schema, submission.answer,
                             approving=submission.approving,
                             kind_shape=contract is None or bool(contract.kind_shape))
    if item.kind == "feedback" and submission.approving is False and not (contract is not None and not contract.kind_shape):
        rounds = last_round(item.value)
        if rounds is not None and rounds.is_last:
            line = f"Confirm: {rounds.warning()}"
    if not line:
        return submission
    st.session_state[confirm_key(card.id)] = replace(submission, confirm_line=line)
    st.rerun()
    return None


def _duties(item: Any, options: CardOptions) -> list[str]:
    """Separation-of-duties warnings for this card (`hitl.ui.duties`), local mode only."""
    login = options.login_mode if options.login_mode is not None else login_configured()
    if login or not options.reviewer.strip():
        return []
    decisions, metadata = options.decisions, options.metadata
    if decisions is None or metadata is None:
        try:
            view = get_inbox().thread(options.thread_id, history=1)
        except HitlError:
            return []
        decisions = view.decisions if decisions is None else decisions
        metadata = view.metadata if metadata is None else metadata
    return duty_warnings(kind=item.kind, reviewer=options.reviewer, decisions=decisions, metadata=metadata)


def _draw(card: Card, item: Any, options: CardOptions) -> Submission | None:
    with st.container(border=True, key=f"review-card-{card.id}"):
        title = KIND_TITLES.get(item.kind, item.kind)
        contract = options.contract
        if contract is not None and not contract.kind_shape and contract.answer != "boolean":
            # Not the kind's own answer: a title promising "approve" would mislead.
            title = "Question" if isinstance(item.value, str) else "Answer a request"
        head = f"{title}" + (f" ({options.position})" if options.position else "")
        node = f"node {item.node}" if item.node else "node unknown"
        st.markdown(f"#### {md_escape(head)}")
        if not item.decode_error and not item.failed_error:
            impact = read_impact(item.value, item.response_schema, kind=item.kind)
            risky = impact.moves_money or impact.deletes
            # A plain line in a tinted box (CSS on its key), not an alert: alerts are the page's
            # messages about what happened.
            with st.container(key=f"review-impact-{card.id}" + ("-risky" if risky else "")):
                st.markdown(f"**{md_escape(impact.line)}**")
        st.caption(md_escape(f"{node} · kind {item.kind} · interrupt {card.id}"))
        for warning in _duties(item, options):
            st.warning(md_escape(warning), icon=":material/group:")
        if item.kind == "feedback" and not item.decode_error:
            rounds = last_round(item.value)
            if rounds is not None and rounds.is_last:
                st.warning(md_escape(rounds.warning()), icon=":material/last_page:")
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
                return schema_card(card, item.value, item.response_schema or {})
            if contract is not None and not contract.kind_shape:
                if item.kind == "confirm" and contract.answer == "boolean":
                    return confirm_card(card, item.value)
                return contract_card(card, item.value, contract)
            if item.kind in ("hitl_request", "tool_approval", "agent_inbox"):
                return actions_card(card, item.value, item.response_schema)
            if item.kind == "schema":
                return schema_card(card, item.value, item.response_schema or {})
            renderer = RENDERERS.get(item.kind, json_card)
            return renderer(card, item.value)
        except InvalidAnswer as error:
            keep_errors(card.id, error)
            st.rerun()
    return None


