"""The Start a run page: start any registered graph with a chat message or JSON input.

The run executes in the background (`Inbox.start_run(..., background=True)`); the page then
follows the new thread until it pauses, finishes or fails, and links to where it went.
Demo graphs get a realistic example input prefilled (from `hitl.demo`, when installed).
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from hitl import HitlError, Inbox, InvalidAnswer, ThreadNotFound
from hitl.ui.desk import reviewer_name
from hitl.ui.guard import open_desk, show_problem
from hitl.ui.queue import open_review
from hitl.ui.state import bound, defaults
from hitl.ui.text import escape_markdown

try:
    from hitl.demo.inputs import DEMO_INPUTS
except ImportError:  # a desk installed without its demo graphs
    DEMO_INPUTS = None

__all__ = ["render_start_page", "example_input", "chat_text", "parse_input", "MODES"]

MODES = ("Chat message", "JSON")
FOLLOW_SECONDS = 2.0


def example_input(graph_id: str, index: int = 0) -> dict[str, Any] | None:
    """A demo graph's example input (None for other graphs, or when hitl.demo is absent)."""
    if DEMO_INPUTS is None:
        return None
    make = DEMO_INPUTS.get(graph_id)
    return make(index) if make else None


def chat_text(graph_input: Any) -> str | None:
    """The message text when `graph_input` is exactly one user chat message, else None."""
    if not isinstance(graph_input, dict) or set(graph_input) != {"messages"}:
        return None
    messages = graph_input["messages"]
    if not (isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], dict)):
        return None
    message = messages[0]
    if message.get("role") in ("user", "human") and isinstance(message.get("content"), str):
        return message["content"]
    return None


def parse_input(mode: str, text: str) -> dict[str, Any]:
    """The graph input the form describes.

    Raises:
        InvalidAnswer: the message is empty, or the JSON is invalid or not an object.
    """
    if mode == MODES[0]:
        if not text.strip():
            raise InvalidAnswer("Type a message for the agent, or switch the input to JSON.")
        return {"messages": [{"role": "user", "content": text.strip()}]}
    if not text.strip():
        raise InvalidAnswer('Type the input as a JSON object, e.g. {"messages": [{"role": "user", "content": "Hi"}]}.')
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"The input is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    if not isinstance(value, dict):
        raise InvalidAnswer(
            f"The input must be a JSON object (the graph's state keys), got {type(value).__name__}: "
            'wrap it, e.g. {"messages": [...]}.'
        )
    return value


def _load_example() -> None:
    state = st.session_state
    graph_id = state.get("start_graph")
    example = example_input(graph_id, state.get("start_example_index", 0)) if graph_id else None
    if example is None:
        state["start_message"] = ""
        state["start_json"] = "{}"
        return
    text = chat_text(example)
    state["start_message"] = text or ""
    state["start_json"] = json.dumps(example, indent=2, ensure_ascii=False)
    state["start_mode"] = MODES[0] if text is not None else MODES[1]


def _new_graph() -> None:
    st.session_state["start_example_index"] = 0
    _load_example()


def _another_example() -> None:
    st.session_state["start_example_index"] = st.session_state.get("start_example_index", 0) + 1
    _load_example()


def render_start_page() -> None:
    """The whole Start a run page."""
    inbox = open_desk()
    graph_ids = inbox.registry.ids()
    st.title("Start a run")
    st.caption(
        "Start a new run of a registered graph, as an agent process would. It runs in the "
        "background; when it pauses at `interrupt()` it appears in the Inbox."
    )
    if not graph_ids:
        st.info("No graphs are registered. List them in langgraph.json (HITL_GRAPHS) and restart the desk.")
        return
    fresh = "start_graph" not in st.session_state
    defaults({"start_graph": graph_ids[0], "start_mode": MODES[0], "start_example_index": 0, "start_last": None})
    if st.session_state["start_graph"] not in graph_ids:
        st.session_state["start_graph"] = graph_ids[0]
    if fresh:
        _load_example()

    left, right = st.columns([3, 2], gap="large")
    with left:
        bound(st.selectbox, "Graph", "start_graph", options=graph_ids, on_change=_new_graph)
        st.caption(escape_markdown(_outline(inbox, st.session_state["start_graph"])))
        bound(st.radio, "Input", "start_mode", options=list(MODES), horizontal=True,
              help="A chat message becomes {\"messages\": [{\"role\": \"user\", \"content\": ...}]}.")  # fmt: skip
        if st.session_state["start_mode"] == MODES[0]:
            bound(st.text_area, "Message", "start_message", height=110, placeholder="What should the agent do?")
        else:
            bound(st.text_area, "Input (JSON object)", "start_json", height=220)
        st.text_input("Thread id", key="start_thread_id", placeholder="leave empty to generate one",
                      help="Must not exist yet. Generated ids look like <graph>-1a2b3c4d.")  # fmt: skip
        start, another, _ = st.columns([1, 1.4, 2])
        clicked = start.button("Start", type="primary", icon=":material/play_arrow:", key="start_run", width="stretch")
        if example_input(st.session_state["start_graph"]) is not None:
            another.button("Another example", icon=":material/shuffle:", key="start_another",
                           on_click=_another_example, width="stretch")  # fmt: skip
        if clicked:
            _start(inbox)
    with right:
        last = st.session_state.get("start_last")
        if last:
            st.fragment(_render_started, run_every=FOLLOW_SECONDS)()
        else:
            st.markdown("##### How it works")
            st.write(
                "1. Pick a graph and describe the task.\n"
                f"2. **Start**: the run executes in the background {_where_runs(inbox)}.\n"
                "3. When the graph calls `interrupt()`, the thread shows up in the **Inbox**.\n"
                "4. Review it; the graph resumes with your answer."
            )


def _where_runs(inbox: Inbox) -> str:
    server = inbox.store.threads_at
    return f"on the LangGraph server at {escape_markdown(server)} (one of its assistants)" if server else "on this desk's database"


def _outline(inbox: Inbox, graph_id: str) -> str:
    """'Steps: agent → review_email → tools' for the chosen graph (its nodes, in order)."""
    try:
        nodes = [name for name in inbox.graph(graph_id).get_graph().nodes if not name.startswith("__")]
    except HitlError as exc:
        return f"This graph cannot be loaded: {exc}"
    except Exception:  # drawing is a convenience; a graph that cannot describe itself still runs
        return ""
    return "Steps: " + " → ".join(nodes) if nodes else ""


def _start(inbox: Inbox) -> None:
    state = st.session_state
    text = state.get("start_message", "") if state["start_mode"] == MODES[0] else state.get("start_json", "")
    try:
        graph_input = parse_input(state["start_mode"], text)
        thread_id = inbox.start_run(
            state["start_graph"],
            graph_input,
            thread_id=state.get("start_thread_id", "").strip() or None,
            background=True,
            requested_by=reviewer_name() or None,
        )
    except HitlError as exc:
        show_problem(exc)
        return
    state["start_last"] = {"thread_id": thread_id, "graph_id": state["start_graph"]}
    state.pop("start_thread_id", None)
    st.rerun()


def _status(inbox: Inbox, thread_id: str) -> str:
    try:
        inbox.refresh()
        return inbox.thread(thread_id).status
    except ThreadNotFound:
        return "starting"


_STATUS_TEXT = {
    "starting": "starting…",
    "running": "running…",
    "waiting": "paused: waiting for a review in the Inbox",
    "completed": "completed without needing a review",
    "failed": "failed; see it on the Threads page",
    "resolved": "resolved",
}


def _render_started() -> None:
    inbox = open_desk()
    last = st.session_state["start_last"]
    thread_id = last["thread_id"]
    with st.container(border=True):
        st.success(
            f"Started thread {escape_markdown(thread_id)} — it will appear in the Inbox when it pauses.",
            icon=":material/rocket_launch:",
        )
        try:
            status = _status(inbox, thread_id)
        except HitlError as exc:
            show_problem(exc)
            return
        st.text(f"Graph: {last['graph_id']}\nStatus: {_STATUS_TEXT.get(status, status)}")
        inbox_col, review_col = st.columns(2)
        if inbox_col.button("Open the Inbox", icon=":material/inbox:", key="start_open_inbox", width="stretch"):
            st.switch_page("pages/inbox.py")
        if status == "waiting" and review_col.button(
            "Review it now", type="primary", icon=":material/rate_review:", key="start_open_review", width="stretch"
        ):
            open_review(thread_id)
        if status in ("failed", "completed", "resolved"):
            if review_col.button("See it in Threads", key="start_open_threads", width="stretch"):
                st.session_state["threads_selected"] = thread_id
                st.switch_page("pages/threads.py", query_params={"thread": thread_id})
