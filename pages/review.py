"""Review one thread: the context that led to the pause, then one card per pending interrupt.

Deep link: `?thread=ID`, plus the Inbox's queue scope (`graph`, `kind`, `q`, `waiting`,
`order`; see `hitl.ui.review_queue`): J/K and the thread opened after a decision stay in that
queue. Without a thread, a picker over the first page of the queue. Keyboard: A approve, X reject,
S submit, J next thread, K previous thread, U undo, ? every shortcut.
"""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st
from streamlit.errors import StreamlitAPIException

from hitl.durations import humanize_age
from hitl.errors import HitlError
from hitl.ui import auth, cards, context, deadlines, keys, review_flow, unknown
from hitl.ui.desk import reviewer_name
from hitl.ui.guard import open_desk
from hitl.ui.review_queue import QueueScope, QueueWindow

# Never run unrouted from a first-request URL (the link a webhook sends, right after a restart):
# an unrouted run skips app.py, so no navigation names, no sidebar, and in login mode the desk
# would not act as the signed-in reviewer.
auth.route_through_app()
st.session_state.setdefault("review_thread", None)
st.session_state.setdefault(cards.OUTCOME_KEY, None)


def _open(thread_id: str | None) -> None:
    """Show another thread (or the picker) and keep the URL shareable (with the queue scope)."""
    review_flow.open_thread(thread_id)


def _picked() -> None:
    _open(st.session_state.get("review_pick"))
    st.session_state["review_pick"] = None


def _use_name() -> None:
    st.session_state["reviewer"] = str(st.session_state.get("review_name", "")).strip()


def _current_thread() -> str | None:
    from_url = st.query_params.get("thread")
    if from_url:
        if from_url != st.session_state["review_thread"]:
            st.session_state["review_thread"] = from_url
        return from_url
    chosen = st.session_state["review_thread"]
    if chosen:
        st.query_params["thread"] = chosen
    return chosen


def _link(page: str, url_path: str, label: str, thread_id: str | None = None) -> None:
    params = {"thread": thread_id} if thread_id else None
    try:
        st.page_link(page, label=label, query_params=params)
    except StreamlitAPIException:  # run outside the app's navigation (a single-page test)
        target = f"/{url_path}" + (f"?thread={quote(thread_id)}" if thread_id else "")
        st.markdown(f"[{context.md_escape(label)}]({target})")


def _picker(inbox, scope: QueueScope) -> None:
    st.title("Review")
    page = inbox.pending(limit=50, **scope.query())
    if not page.items:
        st.info("Nothing is waiting for review. New requests appear here and in the Inbox as agents pause."
                if not scope.filtered else f"Nothing is waiting in: {scope.describe()}.")
        return
    waiting = f"{page.total} thread{'s' if page.total != 1 else ''} waiting in: {scope.describe()}"
    if len(page.items) < page.total:
        waiting += f"; the {'newest' if scope.newest_first else 'oldest'} {len(page.items)} are listed"
    st.caption(context.md_escape(waiting + "."))
    labels = {
        item.thread_id: " · ".join(
            [item.thread_id, item.graph_id or "unknown graph", ", ".join(item.kinds) or "?", item.summary or "",
             f"waiting {humanize_age(item.waiting_since)}"]
        )
        for item in page.items
    }
    st.selectbox("Pick a thread to review", list(labels), index=None, placeholder="Choose a waiting thread…",
                 format_func=labels.get, key="review_pick", on_change=_picked)
    if st.button("Open the oldest", type="primary", shortcut=cards.SHORTCUTS["next"].upper(),
                 help="Keyboard shortcut: J"):
        _open(page.items[0].thread_id)
        st.rerun()


def _header(view, window: QueueWindow, scope: QueueScope) -> None:
    previous, following = window.previous, window.following if window.position is not None else None
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        st.title("Review")
        nodes = sorted({i.node for i in view.interrupts if i.node} or set(view.next_nodes))
        facts = [
            f"Thread {view.thread_id}",
            f"graph {view.graph_id or 'unknown'}",
            f"paused at {', '.join(nodes) or '—'}",
        ]
        if view.waiting_since:
            facts.append(f"waiting {humanize_age(view.waiting_since)}")
        facts.append(f"status {view.status}")
        st.caption(context.md_escape(" · ".join(facts)))
        with st.container(key="review-queue-line"):
            st.caption(context.md_escape(window.line(scope)))
        if scope.ignored:
            st.caption(context.md_escape("Ignored in the link: " + "; ".join(scope.ignored)))
    with right, st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        if st.button("Previous", key="review:nav:previous", icon=":material/arrow_back:", disabled=previous is None,
                     shortcut=cards.SHORTCUTS["previous"].upper(), help="Previous thread in this queue (K)"):
            _open(previous)
            st.rerun()
        if st.button("Next", key="review:nav:next", icon=":material/arrow_forward:", disabled=following is None,
                     shortcut=cards.SHORTCUTS["next"].upper(), help=f"Next thread in this queue (J); {window.total} in it"):
            _open(following)
            st.rerun()
        if st.button("Pick another", key="review:nav:pick", icon=":material/list:"):
            _open(None)
            st.rerun()


def _context(inbox, view) -> None:
    st.subheader("Context")
    highlight = {i.node for i in view.interrupts if i.node} | set(view.next_nodes)
    if view.graph_id and not view.read_only_reason:
        try:
            drawable = inbox.registry.graph(view.graph_id).get_graph()
        except HitlError as error:
            st.caption(context.md_escape(f"No diagram: {error}"))
        else:
            context.render_diagram(drawable, highlight=highlight,
                                   caption="Orange: where the graph is paused. Dashed: conditional or subgraph edges.")
    context.render_conversation(view.messages, key=f"review:{view.thread_id}:chat")
    context.render_state(view.values)


def _decisions(inbox, view, window: QueueWindow) -> None:
    pending = [item for item in view.interrupts if not item.failed_error]
    st.subheader(f"Decision{'s' if len(pending) != 1 else ''} needed ({len(pending)})" if pending else "Decision")
    reviewer = reviewer_name()
    if view.read_only_reason and view.interrupts:
        context.show_alert("warning", f"Read-only: {view.read_only_reason}. The desk cannot resume this thread, so "
                                      "no answer can be sent from here.")
        for item in view.interrupts:
            with st.container(border=True):
                st.caption(context.md_escape(f"{cards.KIND_TITLES.get(item.kind, item.kind)} · node {item.node or '?'}"))
                st.json(context.jsonable(item.value), expanded=2)
        return
    if not view.interrupts:
        message = {"completed": "This thread is not waiting: the run completed.",
                   "resolved": "This thread was marked resolved.",
                   "running": "This thread is running; nothing is waiting for a human.",
                   "failed": "This thread failed; see above."}.get(view.status, f"Status: {view.status}.")
        st.info(context.md_escape(message))
        return
    if not reviewer:
        st.warning("Enter your name to decide: it is recorded with every decision.")
        st.text_input("Reviewer name", key="review_name", on_change=_use_name, placeholder="e.g. alice")
    if len(pending) > 1:
        st.caption("Each request is answered on its own: the graph resumes as soon as you submit one, and the "
                   "others stay here.")
    first = next((item.id for item in view.interrupts if not item.failed_error and not item.decode_error), None)
    voted = {vote.interrupt_id for vote in getattr(view, "votes", None) or [] if vote.voter == reviewer}
    for number, item in enumerate(view.interrupts, start=1):
        if item.id in voted:  # a quorum vote of this reviewer is recorded: a second one would not count
            st.info(context.md_escape(
                f"You voted on this request ({cards.KIND_TITLES.get(item.kind, item.kind)}); it waits for other "
                "approvers. A second vote from you would not be counted."
            ))
            continue
        options = cards.CardOptions(
            thread_id=view.thread_id,
            reject_reasons=tuple(inbox.settings.reject_reasons),
            reviewer=reviewer,
            shortcuts=item.id == first,
            tool_schemas=_tool_schemas(inbox, view.graph_id) if item.kind in ("hitl_request", "agent_inbox") else {},
            position=f"{number} of {len(view.interrupts)}" if len(view.interrupts) > 1 else "",
            contract=inbox.contract(item, view.graph_id),
        )
        submission = cards.render_card(item, options)
        if submission is not None:
            review_flow.send_decision(inbox, view, submission, reviewer=reviewer, window=window,
                                      principal=auth.current_principal())


def _tool_schemas(inbox, graph_id: str | None) -> dict:
    try:
        return cards.tool_arg_schemas(inbox.registry.graph(graph_id)) if graph_id else {}
    except HitlError:
        return {}


def _load(inbox, thread_id: str):
    try:
        return inbox.thread(thread_id)
    except HitlError as error:
        context.show_alert("error", str(error))
        _open(None)
        _picker(inbox, scope)
        st.stop()


st.set_page_config(page_title="Review · HITL desk", layout="wide")
inbox = open_desk()
keys.keyboard("review")
scope = review_flow.current_scope()
review_flow.render_held()
thread_id = _current_thread()
if not thread_id:
    _picker(inbox, scope)
    st.stop()

view = _load(inbox, thread_id)
cards.settle_stale_click(view)
window = review_flow.window_for(inbox, scope, view.thread_id)
following = review_flow.advance_after_decision(view, window)
if following:  # decided: the next thread of this queue opens in this same run
    review_flow.open_thread(following, carry=True)
    view = _load(inbox, following)
    window = review_flow.window_for(inbox, scope, view.thread_id)
_header(view, window, scope)
review_flow.prefetch(inbox, window.following)
outcome = st.session_state[cards.OUTCOME_KEY]
if outcome and outcome.get("carried"):
    st.caption(context.md_escape(f"Thread {outcome.get('thread_id')}:"))
    cards.render_outcome(outcome, outcome.get("thread_id"))
else:
    cards.render_outcome(outcome, view.thread_id)
cards.render_failure_panel(inbox, view, reviewer=reviewer_name())

left, right = st.columns([5, 6], gap="large")
with left:
    _context(inbox, view)
with right:
    auth.render_votes(inbox, view)  # quorum: approvals recorded so far
    # A decision whose node may have run: its panel (retry / resolve) instead of the cards.
    if not unknown.render_unknown(inbox, view, reviewer=reviewer_name()):
        if view.interrupts and not view.read_only_reason:
            deadlines.render_deadline(inbox, view.thread_id, reviewer=reviewer_name())
        _decisions(inbox, view, window)
        if view.interrupts and not view.read_only_reason:
            cards.render_resolve(inbox, view, reviewer=reviewer_name())

st.divider()
st.subheader("Decision trail")
context.render_trail(view.decisions)
_link("pages/history.py", "history", "Open this thread in History", view.thread_id)
