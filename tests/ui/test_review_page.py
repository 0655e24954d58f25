"""The Review page around the cards: picking a thread, context, outcomes, races, failures, safety.

Driven through AppTest on the whole app (`app("pages/review.py", query={"thread": ...})`),
plus plain tests of the pure rendering helpers in `hitl.ui.context`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from hitl.ui import context
from tests.conftest import start
from tests.ui.confirming import confirm
from tests.ui.conftest import inert_texts, markdown_texts, plain, seed, open_review as _open, review_key as _key

HOSTILE = (
    '<script>alert("x")</script> <img src=x onerror=alert(1)> [click](https://evil.example/steal) '
    "![pix](https://evil.example/pixel.png) see https://evil.example/raw or mail a@evil.example "
    "שלום مرحبا \u202egnp.exe :red[alarm] $\\href{https://evil.example}{x}$"
)
BIG = "A" * 1_000_000

HOSTILE_SOURCE = f'''
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt

HOSTILE = {HOSTILE!r}
BIG = "A" * 1_000_000


def inbox_gate(state):
    interrupt([{{
        "action_request": {{"action": "send_<b>mail</b>", "args": {{"to": HOSTILE, "body": HOSTILE}}}},
        "config": {{"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": True}},
        "description": "### Request\\n\\n" + HOSTILE + "\\n\\n[ref link][1]\\n\\n[1]: https://evil.example/ref",
    }}])
    return {{}}


def edit_gate(state):
    answer = interrupt({{"type": "edit", "draft": HOSTILE, "instructions": HOSTILE}})
    return {{}} if answer.get("action") == "approve" else {{}}


def question_gate(state):
    answer = interrupt({{"action": "<img src=x onerror=alert(2)>", "details": {{"note": HOSTILE, "blob": BIG}}, "question": HOSTILE}})
    return {{}} if answer.get("approved") else {{}}


hostile = StateGraph(MessagesState)
for name, node in (("inbox_gate", inbox_gate), ("edit_gate", edit_gate), ("question_gate", question_gate)):
    hostile.add_node(name, node)
    hostile.add_edge(START, name)
    hostile.add_edge(name, END)
'''


@pytest.fixture
def graphs_file(graphs_file, tmp_path):
    """The UI registry plus `hostile`, three parallel gates full of hostile text."""
    data = json.loads(graphs_file.read_text())
    module = tmp_path / "review_hostile.py"
    module.write_text(HOSTILE_SOURCE)
    data["graphs"]["hostile"] = f"{module}:hostile"
    graphs_file.write_text(json.dumps(data))
    return graphs_file


def _seen(texts: list[str]) -> list[str]:
    return [plain(t).replace("\u2060", "") for t in texts]


def _texts(at: AppTest, name: str) -> list[str]:
    return _seen([str(e.value) for e in getattr(at, name)])


def _captions(at: AppTest) -> str:
    return " | ".join(_texts(at.main, "caption"))


# --------------------------------------------------------------------------- opening a thread


def test_without_a_thread_the_page_offers_the_pending_queue(inbox: Inbox, app) -> None:
    seed(inbox, "simple_confirm", 2)
    at = _open(app)
    picker = at.selectbox(key="review_pick")
    first, label = picker.options  # shown as "thread · graph · kinds · summary · waiting"
    assert first.startswith("simple_confirm-0 · ")
    assert label.startswith("simple_confirm-1 · simple_confirm · confirm · Proceed with this action?")
    assert re.search(r" · waiting \d+ s$", label), label  # seconds: seeding may take more than one
    picker.set_value("simple_confirm-1").run()
    assert at.query_params.get("thread") in ("simple_confirm-1", ["simple_confirm-1"])
    assert "Thread simple_confirm-1" in _captions(at)


def test_empty_queue_says_so(app) -> None:
    at = _open(app)
    assert any("Nothing is waiting for review" in t for t in _texts(at, "info"))


def test_session_state_thread_from_the_inbox_is_opened_and_put_in_the_url(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "email_approval")
    at = app()
    at.session_state["review_thread"] = thread_id
    at.switch_page("pages/review.py").run()
    assert not at.exception
    assert f"Thread {thread_id}" in _captions(at)
    assert at.query_params.get("thread") in (thread_id, [thread_id])


def test_unknown_thread_is_an_error_message_not_a_traceback(app) -> None:
    at = _open(app, "no-such-thread")
    assert any("'no-such-thread' was not found" in t for t in _texts(at, "error"))
    assert any("Nothing is waiting for review" in t for t in _texts(at, "info"))  # the picker, empty here


def test_context_shows_graph_node_waiting_time_diagram_and_conversation(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "tool_review")
    at = _open(app, thread_id)
    captions = _captions(at)
    assert f"Thread {thread_id} · graph tool_review · paused at review_tool_calls · waiting " in captions
    dot = at.get("graphviz_chart")[0].proto.spec
    assert '"review_tool_calls" [label="review_tool_calls", fillcolor="#ffb347"' in dot
    assert '"agent" -> "review_tool_calls" [style=dashed]' in dot  # conditional edge
    assert '"tools" -> "agent";' in dot
    # The conversation: the user's request, then the agent's message with its tool calls as JSON.
    assert len(at.chat_message) == 2
    assert "Look up open invoices for Acme GmbH" in at.chat_message[0].text[0].value
    codes = [json.loads(c.value) for c in at.chat_message[1].code]
    assert codes[0] == {"query": "open invoices for Acme GmbH"}
    assert [e.label for e in at.expander if e.label.startswith("State")] == [
        "State: 3 other keys (sent\\_emails, payments, deleted\\_records)"
    ]


def test_previous_and_next_walk_the_queue_with_keyboard_shortcuts(inbox: Inbox, app) -> None:
    threads = seed(inbox, "simple_confirm", 3)
    at = _open(app, threads[1])
    previous, following = at.button(key="review:nav:previous"), at.button(key="review:nav:next")
    assert (previous.proto.shortcut, following.proto.shortcut) == ("k", "j")
    following.click().run()
    assert f"Thread {threads[2]}" in _captions(at)
    at.button(key="review:nav:previous").click().run()
    assert f"Thread {threads[1]}" in _captions(at)
    item = inbox.thread(threads[1]).interrupts[0]
    assert at.button(key=_key(item.id, "btn", "yes")).proto.shortcut == "a"
    assert at.button(key=_key(item.id, "btn", "no")).proto.shortcut == "x"


def test_after_completing_a_thread_next_pending_opens_the_queue_head(inbox: Inbox, app) -> None:
    # Issue 17: the next thread opens at once (no "Next pending thread" button any more); past
    # the queue's end that is its head. The banner stays, naming the thread it belongs to.
    first, second = seed(inbox, "simple_confirm", 2)
    at = _open(app, second)
    item = inbox.thread(second).interrupts[0]
    at.button(key=_key(item.id, "btn", "yes")).click().run()
    confirm(at, item.id, asks="deletes")  # a deletion: a second step (issue 17)
    assert f"Thread {first}" in _captions(at)
    # The banner, on the next thread of the queue, says what the graph did (issue 17).
    assert any(t.startswith("You confirmed. The run completed.") for t in _texts(at, "success"))
    assert f"Thread {second}:" in _captions(at)
    at.button(key="review:nav:pick").click().run()  # moving on drops the banner
    assert not at.success


def test_decision_trail_and_history_link(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "approval_chain")
    inbox.decide(thread_id, approve=True, reviewer="bob", comment="ok")
    at = _open(app, thread_id)
    trail = at.main.dataframe[-1].value
    assert list(trail["reviewer"]) == ["bob"] and list(trail["outcome"]) == ["waiting"]
    assert json.loads(trail["answer"][0]) == {"approved": True, "approver_id": "bob"}
    link = at.main.get("page_link")[-1].proto
    assert link.page.endswith("history") and link.query_string == f"thread={thread_id}"


# --------------------------------------------------------------------------- who decides


def test_a_reviewer_name_is_required_and_can_be_typed_on_the_page(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "simple_confirm")
    item = inbox.thread(thread_id).interrupts[0]
    at = _open(app, thread_id, reviewer="")
    assert "Enter your name to decide: it is recorded with every decision." in _texts(at, "warning")
    at.button(key=_key(item.id, "btn", "yes")).click().run()
    assert any(t.startswith("Enter your reviewer name first") for t in _texts(at, "error"))
    assert inbox.history(thread_id=thread_id).empty

    at.text_input(key="review_name").input("carol").run()
    # A deletion now waits for a confirming second step (issue 17), one run more than the name
    # typed here lasts (a name typed on the page is lost on the run after: see the sidebar's
    # reviewer cookie); so the deletion is confirmed under a name typed in the session.
    at.button(key=_key(item.id, "btn", "yes")).click().run()
    at.session_state["reviewer"] = "carol"
    confirm(at, item.id)
    assert list(inbox.history(thread_id=thread_id)["reviewer"]) == ["carol"]


def test_answering_what_another_session_just_answered_names_who_and_when(inbox: Inbox, app) -> None:
    (thread_id,) = seed(inbox, "email_approval")
    item = inbox.thread(thread_id).interrupts[0]
    at = _open(app, thread_id)  # alice has the card open...
    inbox.resume(thread_id, {item.id: {"approved": True}}, reviewer="bob")  # ...bob answers first
    at.button(key=_key(item.id, "btn", "reject")).click().run()

    assert not at.exception
    (warning,) = _texts(at, "warning")
    assert re.fullmatch(r"Already decided by bob \d+ s ago \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\. Your answer was not sent; "
                        r"the page now shows the thread as it is\.", warning), warning
    history = inbox.history(thread_id=thread_id)
    assert list(history["reviewer"]) == ["bob"]
    assert len(inbox.graph("email_approval").get_state({"configurable": {"thread_id": thread_id}}).values["sent_emails"]) == 1


def test_losing_the_claim_race_mid_submit_shows_who_won(inbox: Inbox, app, monkeypatch) -> None:
    """The other reviewer's claim lands between this page's render and its resume call."""
    from hitl.errors import AlreadyDecided
    from hitl.inbox import Inbox as InboxClass

    (thread_id,) = seed(inbox, "simple_confirm")
    item = inbox.thread(thread_id).interrupts[0]
    at = _open(app, thread_id)
    won_at = datetime.now(timezone.utc)

    def lost(self, thread_id, answers, **kwargs):
        raise AlreadyDecided(next(iter(answers)), reviewer="dave", decided_at=won_at, thread_id=thread_id)

    monkeypatch.setattr(InboxClass, "resume", lost)
    at.button(key=_key(item.id, "btn", "yes")).click().run()
    confirm(at, item.id)
    assert not at.exception
    (warning,) = _texts(at, "warning")
    assert warning.startswith(f"Already decided by dave 0 s ago ({won_at:%Y-%m-%d %H:%M:%S} UTC).")


# --------------------------------------------------------------------------- several interrupts, failures


def test_parallel_interrupts_get_one_card_each_and_are_answered_separately(inbox: Inbox, app) -> None:
    thread_id = start(inbox, "parallel")
    items = {i.node: i for i in inbox.thread(thread_id).interrupts}
    at = _open(app, thread_id)
    assert "Decisions needed (3)" in _texts(at, "subheader")
    # One card each, every widget keyed by its interrupt id (AppTest raises on duplicate keys).
    assert at.button(key=_key(items["left_review"].id, "btn", "approve"))
    assert at.button(key=_key(items["right_review"].id, "btn", "approve"))
    assert at.button(key=_key(items["nested"].id, "btn", "yes"))
    assert any(t.startswith("Each request is answered on its own") for t in _texts(at, "caption"))
    left = items["left_review"]
    at.text_input(key=_key(left.id, "reason")).input("left is wrong")
    at.button(key=_key(left.id, "btn", "reject")).click().run()

    assert not at.exception
    assert "Decisions needed (2)" in _texts(at, "subheader")
    log = inbox.graph("parallel").get_state({"configurable": {"thread_id": thread_id}}).values["log"]
    assert "left:rejected" in log
    assert {i.node for i in inbox.thread(thread_id).interrupts} == {"right_review", "nested"}


def test_a_failed_run_explains_nothing_is_lost_and_retry_completes_it(inbox: Inbox, app) -> None:
    thread_id = start(inbox, "fragile", {"topic": "ui-retry"})
    item = inbox.thread(thread_id).interrupts[0]
    at = _open(app, thread_id)
    at.text_input(key=_key(item.id, "reason")).input("flaky")  # fragile raises once for this reason
    at.button(key=_key(item.id, "btn", "reject")).click().run()

    assert not at.exception
    assert any(t.startswith("You rejected, then the graph raised: ConnectionError: deploy API timed out") for t in _texts(at, "error"))
    assert any(t.startswith("Nothing is lost") for t in _texts(at, "caption"))
    assert "The run failed" in [t.strip("# ") for t in _texts(at, "markdown")]
    at.button(key=f"review:{thread_id}:retry").click().run()

    assert "You retried. The run completed." in _texts(at, "success")
    assert inbox.graph("fragile").get_state({"configurable": {"thread_id": thread_id}}).values["log"] == ["deployed:False"]
    assert list(inbox.history(thread_id=thread_id)["action"]) == ["decision", "retry"]


def test_mark_resolved_needs_a_reason_and_closes_the_thread(inbox: Inbox, app) -> None:
    ui_graph_thread = "explode-1"
    inbox.graph("explosive").invoke({"topic": "db"}, {"configurable": {"thread_id": ui_graph_thread}, "metadata": {"graph_id": "explosive"}})
    item = inbox.thread(ui_graph_thread).interrupts[0]
    at = _open(app, ui_graph_thread)
    at.button(key=_key(item.id, "btn", "approve")).click().run()
    assert any("cluster API refused the restart" in t for t in _texts(at, "error"))
    assert any("then the graph raised" in t for t in _texts(at, "error"))

    button = at.button(key=f"review:{ui_graph_thread}:resolve")
    assert button.disabled
    at.text_input(key=f"review:{ui_graph_thread}:resolve_reason").input("restarted by hand").run()
    at.button(key=f"review:{ui_graph_thread}:resolve").click().run()

    assert "You marked the thread resolved; it was closed without resuming the graph." in _texts(at, "success")
    assert inbox.thread(ui_graph_thread).status == "resolved"
    rows = inbox.history(thread_id=ui_graph_thread)
    assert list(rows["outcome"]) == ["failed", "resolved"]
    assert rows["comment"].iloc[-1] == "restarted by hand"


def test_a_thread_whose_graph_is_ambiguous_is_read_only(inbox: Inbox, app) -> None:
    thread_id = start(inbox, "twin_a", tag=False)
    at = _open(app, thread_id)
    assert any(t.startswith("Read-only:") for t in _texts(at, "warning"))
    labels = [b.label for b in at.main.button]
    assert not any(label in labels for label in ("Yes, proceed", "No, cancel", "Mark resolved"))


# --------------------------------------------------------------------------- hostile text


_CODE_SPAN = re.compile(r"`[^`]*`")


def _assert_inert_markdown(text: str) -> None:
    outside_code = _CODE_SPAN.sub("", text)
    assert not re.search(r"(?<!\\)<", outside_code), text[:300]
    assert not re.search(r"(?<!\\)!\[", outside_code), text[:300]
    assert not re.search(r"(?<!\\)\]\(", outside_code), text[:300]
    assert not re.search(r"(?<!\\)\$", outside_code), text[:300]
    assert not re.search(r"(?<!\\):red\[", outside_code), text[:300]
    assert "://" not in outside_code, text[:300]
    assert not re.search(r"\w@\w", outside_code), text[:300]
    assert not re.search(r"^\s{0,3}\[[^\]]+\]:", outside_code, re.MULTILINE), text[:300]
    assert "\u202e" not in text


def _widget_labels(at: AppTest) -> list[str]:
    labels = []
    for name in ("button", "checkbox", "radio", "text_area", "text_input", "selectbox", "toggle", "number_input"):
        for widget in getattr(at, name):
            labels.append(str(widget.label))
            labels.extend(str(option) for option in getattr(widget, "options", []) if name == "radio")
            if widget.help:
                labels.append(str(widget.help))
    return labels


def test_hostile_payload_and_message_text_renders_inert(inbox: Inbox, app) -> None:
    thread_id = "hostile-1"
    inbox.graph("hostile").invoke(
        {"messages": [HumanMessage(HOSTILE), AIMessage(HOSTILE, tool_calls=[{"name": "x<y", "args": {"q": HOSTILE}, "id": "c1"}]),
                      ToolMessage(HOSTILE, tool_call_id="c1")]},
        {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": "hostile"}},
    )
    assert {i.kind for i in inbox.thread(thread_id).interrupts} == {"agent_inbox", "edit", "question"}
    at = _open(app, thread_id)

    shown = markdown_texts(at) + _widget_labels(at)
    assert shown
    for text in shown:
        _assert_inert_markdown(text)
    # The words are all there, as text: HTML and markdown shown literally, bidi overrides visible.
    seen = " ".join(_seen(markdown_texts(at)))
    assert "<script>alert(\"x\")</script>" in seen and "<img src=x onerror=alert(1)>" in seen
    assert "[U+202E]gnp.exe" in seen and "שלום مرحبا" in seen
    inert = " ".join(inert_texts(at))
    assert '<script>alert("x")</script>' in inert and "[U+202E]gnp.exe" in inert
    assert "more characters not shown" in inert  # the 1 MB string is clipped for display
    assert max(len(t) for t in inert_texts(at)) < 100_000
    # Hostile draft text sits in the edit box exactly as the agent wrote it.
    edit = next(i for i in inbox.thread(thread_id).interrupts if i.kind == "edit")
    assert at.text_area(key=_key(edit.id, "draft")).value == HOSTILE


# --------------------------------------------------------------------------- pure helpers


def test_safe_markdown_shows_markdown_as_text_line_by_line() -> None:
    """Formatting is shown, not applied (tests/ui/test_hostile_markdown.py has the hostile corpus)."""
    source = ("### Title\n- **to**: a@b.example\n<b>bold</b>\n[x](javascript:alert(1)) ![p](https://e.example/p.png)\n"
              "[r]: https://e.example\n:red[x] $y$\n> quote\n```\n<raw>\n```")
    out = context.safe_markdown(source)
    assert out.splitlines()[:3] == [
        "\\#\\#\\# Title  ",  # two trailing spaces: a hard line break, so lines stay lines
        "\\- \\*\\*to\\*\\*: a@\u2060b\\.example  ",  # a word joiner after "@": no mailto link
        "\\<b\\>bold\\</b\\>  ",
    ]
    assert [plain(line).replace("\u2060", "").rstrip() for line in out.splitlines()] == source.splitlines()
    assert not re.search(r"[\\`*_{}\[\]()#+\-.!|<>~$&=]", re.sub(r"\\.", "", out)), "every markdown character is escaped"
    assert context.safe_markdown("```\nunclosed") == "\\`\\`\\`  \nunclosed"  # a fence is text: nothing to swallow
    assert context.safe_markdown("\u202eabc") == "\\[U\\+202E\\]abc"


def test_md_escape_makes_one_literal_line() -> None:
    escaped = context.md_escape("a_b <i>x</i>\n[y](https://z.example) me@x.example")
    assert "\n" not in escaped
    assert plain(escaped).replace("\u2060", "") == "a_b <i>x</i> [y](https://z.example) me@x.example"
    assert "://" not in escaped and "@x" not in escaped


def test_graph_dot_highlights_paused_nodes_and_dashes_conditional_and_subgraph_edges() -> None:
    nodes = [
        context.DiagramNode(id="__start__", label="start"),
        context.DiagramNode(id="plan", label="plan"),
        context.DiagramNode(id="nested", label="nested", subgraph=True),
        context.DiagramNode(id='we"ird', label='we"ird'),
        context.DiagramNode(id="__end__", label="end"),
    ]
    edges = [
        context.DiagramEdge(source="__start__", target="plan"),
        context.DiagramEdge(source="plan", target="nested"),
        context.DiagramEdge(source="plan", target='we"ird', conditional=True, label="maybe"),
        context.DiagramEdge(source="nested", target="__end__"),
    ]
    dot = context.graph_dot(nodes, edges, highlight={"nested"})
    assert '"nested" [label="nested", peripheries=2, fillcolor="#ffb347"' in dot
    assert '"plan" [label="plan"];' in dot
    assert '"__start__" -> "plan";' in dot
    assert '"plan" -> "nested" [style=dashed];' in dot
    assert '"plan" -> "we\\"ird" [style=dashed, label="maybe", fontsize=9];' in dot
    assert '"nested" -> "__end__" [style=dashed];' in dot
    assert dot.startswith("digraph G {") and dot.endswith("}")


def test_diagram_of_a_real_graph_marks_subgraph_nodes(inbox: Inbox) -> None:
    nodes, edges = context.diagram_of(inbox.graph("parallel").get_graph())
    assert {n.id: n.subgraph for n in nodes}["nested"] is True
    assert {n.id: n.subgraph for n in nodes}["plan"] is False
    assert ("plan", "left_review") in {(e.source, e.target) for e in edges}


def test_chat_turns_reads_messages_objects_and_dicts() -> None:
    turns = context.chat_turns([
        HumanMessage("hi"),
        AIMessage([{"type": "text", "text": "calling"}], tool_calls=[{"name": "pay", "args": {"amount": 1}, "id": "t1"}]),
        ToolMessage("declined", tool_call_id="t1", status="error", name="pay"),
        {"role": "assistant", "content": "done"},
        object(),
    ])
    assert [(t.role, t.text) for t in turns[:4]] == [("human", "hi"), ("ai", "calling"), ("tool", "declined"), ("ai", "done")]
    assert turns[1].tool_calls == ({"name": "pay", "args": {"amount": 1}, "id": "t1"},)
    assert (turns[2].status, turns[2].name, turns[2].tool_call_id) == ("error", "pay", "t1")
    assert turns[4].role


def test_trail_rows_and_clip() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
    (row,) = context.trail_rows([{"decided_at": moment, "reviewer": "bob", "answer": '{"approved": true}', "outcome": "completed",
                                  "interrupt_id": "abcdef0123456789"}])
    assert row["decided at"] == "2026-01-02 03:04:05 UTC"
    assert (row["answer"], row["interrupt"]) == ('{"approved": true}', "abcdef012345")
    assert context.clip("x" * 10, 4) == "xxxx\n… [6 more characters not shown]"
    assert context.clip("short", 10) == "short"
