"""Review's flow through a queue: the queue scope in the URL, J/K and "next after a decision"
within that scope, and the undo window's bar.

The pure parts live in `hitl.ui.review_queue` (scope, window) and `hitl.ui.held` (the holds);
this module binds them to the page: query parameters, session_state and the widgets.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from hitl.ui import cards
from hitl.ui.context import md_escape, show_alert
from hitl.ui.held import HELD, Hold, undo_seconds
from hitl.ui.review_queue import SCOPE_PARAMS, QueueScope, QueueWindow, queue_window

__all__ = [
    "current_scope",
    "open_thread",
    "window_for",
    "send_decision",
    "render_held",
    "held_thread_ids",
    "advance_after_decision",
    "HOLDS_KEY",
    "AHEAD_KEY",
]

HOLDS_KEY = "review_holds"
"""session_state: the (thread, interrupt) keys of this session's held decisions, newest last."""
AHEAD_KEY = "review_ahead"
"""session_state: thread id -> the threads that followed it in its queue when last shown."""
SCOPE_KEY = "review_scope"
"""session_state: the scope's query parameters, kept when the URL loses them (a page switch)."""


def current_scope() -> QueueScope:
    """The queue scope of this Review run, from the URL (else the last one this session used)."""
    st.session_state.setdefault(SCOPE_KEY, {})
    given = {name: st.query_params.get(name) for name in SCOPE_PARAMS if st.query_params.get(name)}
    if given or st.query_params.get("thread"):
        st.session_state[SCOPE_KEY] = given
    scope = QueueScope.from_params(st.session_state[SCOPE_KEY])
    for name, text in scope.params().items():
        if st.query_params.get(name) != text:
            st.query_params[name] = text
    return scope


def open_thread(thread_id: str | None, *, carry: bool = False) -> None:
    """Show another thread (or the picker), keeping the scope's parameters in the URL.

    Args:
        carry: keep the last decision's banner above the thread opened (after a decision, the
            next thread opens with the banner saying what happened to the one decided).
    """
    st.session_state["review_thread"] = thread_id
    if thread_id:
        if not carry:
            st.session_state[cards.OUTCOME_KEY] = None
        st.query_params["thread"] = thread_id
    else:
        st.query_params.pop("thread", None)


def window_for(inbox: Any, scope: QueueScope, thread_id: str, principal: Any = None) -> QueueWindow:
    """Where `thread_id` sits in `scope`'s queue; remembers what follows it for after a decision."""
    ahead = st.session_state.setdefault(AHEAD_KEY, {})
    window = queue_window(inbox, scope, thread_id, after=ahead.get(thread_id, ()), skip=held_thread_ids(),
                          principal=principal)  # fmt: skip
    if window.position is not None:
        ahead[thread_id] = window.ahead
        if len(ahead) > 200:  # a long session: keep the recent ones
            for old in list(ahead)[:100]:
                ahead.pop(old, None)
    return window


def held_thread_ids() -> set[str]:
    """Threads with a decision of this session in its undo window (left out of the queue)."""
    keys = st.session_state.get(HOLDS_KEY) or []
    return {held.thread_id for key in keys if (held := HELD.get(tuple(key))) is not None and held.state in ("held", "sending")}


def advance_after_decision(view: Any, window: QueueWindow) -> str | None:
    """The thread to open now that `view`'s thread was decided, if it should move on: the
    decision finished the thread (or someone else had), and the queue has another one."""
    outcome = st.session_state.get(cards.OUTCOME_KEY)
    if not outcome or outcome.get("thread_id") != view.thread_id or outcome.get("carried"):
        return None
    if outcome.get("status") not in ("completed", "already", "resolved"):
        return None
    if any(not item.failed_error for item in view.interrupts):
        return None  # it paused again, or other requests of the thread still wait: stay
    following = window.following
    if not following or following == view.thread_id:
        return None
    st.session_state[cards.OUTCOME_KEY] = {**outcome, "carried": True}
    return following


def send_decision(inbox: Any, view: Any, submission: Any, *, reviewer: str, window: QueueWindow,
                  principal: Any = None) -> None:
    """Send a card's decision: at once (HITL_UNDO_SECONDS=0, or no name yet: cards.submit says
    why), else held for the undo window while the next thread of the queue opens."""
    seconds = undo_seconds()
    if seconds <= 0 or not reviewer.strip():
        cards.submit(inbox, view.thread_id, submission, reviewer=reviewer)
        return
    held = HELD.hold(inbox, thread_id=view.thread_id, interrupt_id=submission.interrupt_id, answer=submission.answer,
                     reviewer=reviewer, comment=submission.comment, verb=submission.verb, principal=principal,
                     seconds=seconds)  # fmt: skip
    keys = [key for key in st.session_state.get(HOLDS_KEY) or [] if tuple(key) != held.key]
    st.session_state[HOLDS_KEY] = [*keys, held.key][-20:]
    following = window.following if window.following != view.thread_id else None
    others_pending = any(item.id != submission.interrupt_id and not item.failed_error for item in view.interrupts)
    if following and not others_pending:
        open_thread(following)
    st.rerun()


def _undo(key: tuple[str, str]) -> None:
    held = HELD.get(key)
    if held is None:
        return
    if HELD.undo(key):
        st.session_state["review_undo_note"] = ("info", f"Undone: nothing was sent for thread {held.thread_id}; it is "
                                                        "waiting for you again.")
        open_thread(held.thread_id)
        st.session_state[cards.OUTCOME_KEY] = None
    else:
        st.session_state["review_undo_note"] = ("warning", f"Too late to undo: your decision on {held.thread_id} was "
                                                           "already being sent.")


def _send_now(key: tuple[str, str]) -> None:
    HELD.send(key)


def render_held() -> None:
    """The undo bar of this session's held decisions: a countdown, Undo (U) and Send now; once
    sent, the outcome banner (shown once)."""
    note = st.session_state.pop("review_undo_note", None)
    if note:
        show_alert(note[0], note[1])
    keys = [tuple(key) for key in st.session_state.get(HOLDS_KEY) or []]
    if not keys:
        return
    kept = []
    newest_held = next((key for key in reversed(keys) if (h := HELD.get(key)) is not None and h.state == "held"), None)
    for key in keys:
        held = HELD.get(key)
        if held is None or held.state == "undone":
            continue
        if held.state == "sent":
            if held.outcome:
                st.caption(md_escape(f"Thread {held.thread_id}:"))
                cards.render_outcome(held.outcome, held.thread_id)
            HELD.forget(key)
            continue
        kept.append(key)
        _held_bar(held, shortcut=key == newest_held)
    st.session_state[HOLDS_KEY] = kept


def _held_bar(held: Hold, *, shortcut: bool) -> None:
    left = held.seconds_left()
    safe = md_escape(f"You {held.verb} thread {held.thread_id}: sending in {left:.0f} s")
    token = "".join(ch if ch.isalnum() else "-" for ch in f"{held.thread_id}-{held.interrupt_id}")
    with st.container(border=True, key=f"review-held-{token}"):
        text, undo, now = st.columns([6, 1.2, 1.4], vertical_alignment="center")
        text.markdown(f"**{safe}**" if held.state == "held" else md_escape(f"Sending your decision on {held.thread_id}…"))
        # The countdown is drawn by the browser (no rerun per second): a bar that empties in the time left.
        text.html(
            f'<div class="hitl-undo-track" role="progressbar" aria-label="undo window">'
            f'<div class="hitl-undo-fill" style="animation-duration:{left:.2f}s;'
            f'width:{100 * left / max(held.held_for, 0.01):.1f}%"></div></div>'
            f"<style>.hitl-undo-track{{height:6px;background:#e5e7eb;border-radius:3px;overflow:hidden}}"
            f".hitl-undo-fill{{height:6px;background:#f59e0b;animation-name:hitl-undo;animation-timing-function:linear;"
            f"animation-fill-mode:forwards}}@keyframes hitl-undo{{to{{width:0%}}}}</style>"
        )
        disabled = held.state != "held"
        undo.button("Undo", key=f"review:held:{token}:undo", icon=":material/undo:", disabled=disabled, width="stretch",
                    shortcut="U" if shortcut else None, help="Keyboard shortcut: U" if shortcut else None,
                    on_click=_undo, args=(held.key,))  # fmt: skip
        now.button("Send now", key=f"review:held:{token}:send", icon=":material/send:", disabled=disabled,
                   width="stretch", on_click=_send_now, args=(held.key,))  # fmt: skip
