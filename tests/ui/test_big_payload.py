"""A payload with 10,000 tool calls renders (issue 13, item 12): the card draws one page of calls,
says "Showing 100 of 10,000 tool calls", and its decisions still cover every call.

No timed assertions: each page must simply render within AppTest's timeout (tests/ui/conftest.py's
`app` gives it 60 s; the naive card took over 400 s). bench/render.py prints the timings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.ui import cards
from tests.ui.confirming import confirm
from tests.ui.conftest import plain, open_review as _open, review_key as _key

N = 10_000

BIG_SOURCE = f'''
import operator
from typing import Annotated

from langchain_core.messages import AIMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt

N = {N}


def calls():
    return [{{"name": "make_payment" if i % 10 == 0 else "lookup", "args": {{"invoice": f"INV-{{i:05d}}", "amount": i}},
              "id": f"call-{{i}}"}} for i in range(N)]


class State(MessagesState):
    outcome: Annotated[list, operator.add]


def agent(state):
    return {{"messages": [AIMessage("Running these.", tool_calls=calls())]}}


def tool_review_gate(state):
    answer = interrupt({{"type": "tool_review", "message": "Review the calls",
                        "tools": [{{"name": c["name"], "args": c["args"]}} for c in calls()]}})
    if answer.get("approved"):
        return {{"outcome": [[tool["args"]["invoice"] for tool in answer.get("approved_tools") or []]]}}
    return {{"outcome": ["rejected"]}}


def sensitive_gate(state):
    answer = interrupt({{"sensitive_tools": calls(), "message": "Approve the payments"}})
    return {{"outcome": ["approved" if answer.get("approved") else "rejected"]}}


def hitl_gate(state):
    answer = interrupt({{
        "action_requests": [{{"name": c["name"], "args": c["args"], "description": "pay"}} for c in calls()],
        "review_configs": [{{"action_name": name, "allowed_decisions": ["approve", "edit", "reject"]}}
                           for name in ("make_payment", "lookup")],
    }})
    return {{"outcome": [[d["type"] for d in answer["decisions"]]]}}


def graph(gate):
    builder = StateGraph(State)
    builder.add_node("agent", agent)
    builder.add_node("gate", gate)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", "gate")
    builder.add_edge("gate", END)
    return builder


big_tool_review = graph(tool_review_gate)
big_sensitive = graph(sensitive_gate)
big_hitl = graph(hitl_gate)
'''

GRAPHS = ("big_tool_review", "big_sensitive", "big_hitl")


@pytest.fixture
def graphs_file(graphs_file, tmp_path):
    """The UI registry plus three graphs whose interrupt carries 10,000 tool calls."""
    data = json.loads(graphs_file.read_text())
    module = tmp_path / "big_payload_graphs.py"
    module.write_text(BIG_SOURCE)
    for graph_id in GRAPHS:
        data["graphs"][graph_id] = f"{module}:{graph_id}"
    graphs_file.write_text(json.dumps(data))
    return graphs_file


def _start(inbox: Inbox, graph_id: str) -> Any:
    thread_id = f"{graph_id}-1"
    inbox.graph(graph_id).invoke({"messages": []}, {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": graph_id}})
    (item,) = inbox.thread(thread_id).interrupts
    return thread_id, item


def _captions(at: AppTest) -> list[str]:
    return [plain(c.value) for c in at.caption]


def _outcome(inbox: Inbox, graph_id: str, thread_id: str) -> list[Any]:
    return inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values["outcome"]


def test_a_tool_review_of_10000_calls_renders_one_page_and_approves_every_ticked_call(inbox: Inbox, app) -> None:
    thread_id, item = _start(inbox, "big_tool_review")
    at = _open(app, thread_id)

    assert "Showing 100 of 10,000 tool calls (calls 1–100); the card draws at most 100 at a time." in _captions(at)
    assert any(plain(i.value).startswith("Approve selected sends every ticked call, on every page: the 9,900 calls not "
                                         "shown here stay ticked") for i in at.info)
    ticks = [box for box in at.checkbox if box.key and box.key.startswith(_key(item.id, "tick", ""))]
    assert len(ticks) == cards.CALLS_PER_PAGE == 100
    assert at.button(key=_key(item.id, "btn", "approve")).label == "Approve selected (10,000 of 10,000)"
    table = next(frame.value for frame in at.dataframe if "args" in frame.value.columns and len(frame.value) == N)
    assert table["#"].iloc[-1] == N  # every call is in the card's table
    # The conversation draws ten of the agent's calls and lists the rest in one table.
    assert "Showing 10 of 10,000 tool calls; all 10,000 are in the table." in _captions(at)

    # Untick call 150 on page 2; back on page 1, approve: every call but that one is sent.
    at.selectbox(key=_key(item.id, "page")).set_value(1).run()
    assert "Showing 100 of 10,000 tool calls (calls 101–200); the card draws at most 100 at a time." in _captions(at)
    at.checkbox(key=_key(item.id, "tick", 149)).uncheck().run()
    at.selectbox(key=_key(item.id, "page")).set_value(0).run()
    assert at.button(key=_key(item.id, "btn", "approve")).label == "Approve selected (9,999 of 10,000)"
    at.button(key=_key(item.id, "btn", "approve")).click().run()
    confirm(at, item.id, asks="runs 9,999 tool calls")  # several calls: a second step (issue 17)
    assert not at.exception, [e.value for e in at.exception]

    (approved,) = _outcome(inbox, "big_tool_review", thread_id)
    assert len(approved) == N - 1 and "INV-00149" not in approved and approved[-1] == "INV-09999"


def test_sensitive_tools_with_10000_calls_say_approve_covers_all_of_them(inbox: Inbox, app) -> None:
    thread_id, item = _start(inbox, "big_sensitive")
    at = _open(app, thread_id)

    assert "Showing 100 of 10,000 tool calls (calls 1–100); the card draws at most 100 at a time." in _captions(at)
    assert "Approve all runs every call, the 9,900 not shown here included; Reject runs none of them." in [
        plain(i.value) for i in at.info]
    button = at.button(key=_key(item.id, "btn", "approve"))
    assert button.label == "Approve all 10,000"
    button.click().run()
    confirm(at, item.id, asks="runs 10,000 tool calls")
    assert _outcome(inbox, "big_sensitive", thread_id) == ["approved"]


def test_a_hitl_request_of_10000_actions_sends_a_decision_for_each(inbox: Inbox, app) -> None:
    thread_id, item = _start(inbox, "big_hitl")
    at = _open(app, thread_id)

    assert "Showing 100 of 10,000 tool calls (calls 1–100); the card draws at most 100 at a time." in _captions(at)
    (scope,) = [plain(i.value) for i in at.info if i.value.startswith("Submit decisions")]
    assert "the preselected one (approve, where allowed) for the others, 9,900 of them not shown here" in scope
    assert "Approve all and Reject all apply to all 10,000 calls." in scope
    # Reject the first call and call 250 (on page 3); every other call keeps its preselected approve.
    at.radio(key=_key(item.id, "decision", 0)).set_value("reject").run()
    at.selectbox(key=_key(item.id, "page")).set_value(2).run()
    at.radio(key=_key(item.id, "decision", 249)).set_value("reject").run()
    at.button(key=_key(item.id, "btn", "submit")).click().run()
    confirm(at, item.id, asks="runs 9,998 tool calls")
    assert not at.exception, [e.value for e in at.exception]

    (types,) = _outcome(inbox, "big_hitl", thread_id)
    assert len(types) == N
    assert [i for i, t in enumerate(types) if t == "reject"] == [0, 249]
    # The banner counts decisions instead of naming 10,000 calls.
    # Past tense since issue 17 ("You rejected 2, approved ...", was "You reject 2, approve ...").
    assert any(plain(s.value).startswith("You rejected 2, approved 9,998 of 10,000 calls. The run completed.")
               for s in at.success)
