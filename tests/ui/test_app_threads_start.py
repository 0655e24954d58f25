"""The Threads and Start a run pages, driven through AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from hitl import Inbox
from tests.ui.conftest import inert_texts, markdown_texts, plain, seed, wait_for


def _tab(at: AppTest, status: str):
    return next(tab for tab in at.tabs if tab.label.lower().startswith(status))


def _tab_threads(at: AppTest, status: str) -> list[str]:
    tab = _tab(at, status)
    return list(tab.dataframe[0].value["Thread"]) if tab.dataframe else []


def _metrics(at: AppTest) -> dict[str, str]:
    """The thread detail's facts: each column holding a caption (label) over a bold value."""
    facts = {}
    for column in at.main.columns:
        if len(column.caption) == 1 and len(column.markdown) == 1:
            facts[column.caption[0].value] = plain(column.markdown[0].value).strip("*")
    return facts


def _threads_page(app, thread_id: str | None = None) -> AppTest:
    return app("pages/threads.py", query={"thread": thread_id} if thread_id else None)


def _seed_every_status(inbox: Inbox) -> dict[str, str]:
    waiting = seed(inbox, "simple_confirm", 1)[0]
    completed = seed(inbox, "two_stage", 1)[0]
    inbox.decide(completed, approve=False, reviewer="bob", comment="out of scope")
    failed = inbox.start_run("explosive", {"topic": "billing-db"}, thread_id="explosive-0")
    inbox.decide(failed, approve=True, reviewer="bob")
    resolved = seed(inbox, "draft_edit", 1)[0]
    inbox.resolve(resolved, reviewer="bob", reason="answered by phone")
    return {"waiting": waiting, "completed": completed, "failed": failed, "resolved": resolved}


def test_threads_tabs_list_threads_by_status_with_counts(inbox: Inbox, app) -> None:
    threads = _seed_every_status(inbox)

    at = _threads_page(app)

    assert not at.exception
    assert [tab.label for tab in at.tabs] == ["Waiting", "Running", "Completed", "Failed", "Resolved"]
    for status, thread_id in threads.items():
        assert _tab_threads(at, status) == [thread_id]
        assert _tab(at, status).caption[0].value.startswith(f"1 {status}.")
    assert "No running threads." in [text.value for text in _tab(at, "running").text]


def test_thread_detail_shows_timeline_with_decisions_state_and_open_in_review(inbox: Inbox, app) -> None:
    thread_id = seed(inbox, "email_approval", 1)[0]

    at = _threads_page(app, thread_id)

    assert not at.exception
    assert _metrics(at)["Status"] == "waiting"
    assert _metrics(at)["Graph"] == "email_approval"
    assert _metrics(at)["Paused at"] == "review_email"
    timeline = next(d.value for d in at.main.dataframe if "Event" in d.value.columns)
    assert set(timeline["Event"]) == {"checkpoint"}
    assert [e.label for e in at.expander if e.label.startswith("Interrupt")] == ["Interrupt at review\\_email · question"]
    assert "messages" in [e.label for e in at.expander]
    assert any(b.label == "Open in review" for b in at.button)

    at.button(key="threads_open_review").click().run()
    assert at.session_state["review_thread"] == thread_id


def test_timeline_interleaves_decisions_with_checkpoints(inbox: Inbox, app) -> None:
    thread_id = seed(inbox, "approval_chain", 1)[0]
    inbox.decide(thread_id, approve=True, reviewer="bob", comment="within budget")

    at = _threads_page(app, thread_id)

    assert at.session_state["threads_tab"] == "Waiting"  # the linked thread's tab is open
    timeline = next(d.value for d in at.main.dataframe if "Event" in d.value.columns)
    decision = timeline.index[timeline["Event"] == "decision (approval_level)"][0]
    assert timeline.loc[decision, "By"] == "bob"
    assert "within budget" in timeline.loc[decision, "Detail"]
    assert (timeline.loc[: decision - 1, "Event"] == "checkpoint").all()  # the checkpoints it answered
    assert (timeline.loc[decision + 1 :, "Event"] == "checkpoint").any()  # and the ones the resume wrote
    assert timeline["When"].is_monotonic_increasing


def test_retry_runs_a_failed_thread_again(inbox: Inbox, app) -> None:
    thread_id = inbox.start_run("fragile", {"topic": "retry-from-threads-page"}, thread_id="fragile-flaky")
    assert inbox.decide(thread_id, approve=False, reviewer="bob", comment="flaky").status == "failed"

    at = _threads_page(app, thread_id)
    assert _metrics(at)["Status"] == "failed"
    assert at.session_state["threads_tab"] == "Failed"
    assert any("deploy API timed out" in code.value for code in at.main.code)
    at.button(key="threads_retry").click().run()

    assert not at.exception
    assert "the graph ran to its end" in plain(at.success[0].value)
    assert inbox.thread(thread_id).status == "completed"
    retry = inbox.history(thread_id=thread_id).iloc[-1]
    assert (retry["action"], retry["reviewer"], retry["outcome"]) == ("retry", "alice", "completed")


def test_mark_resolved_needs_a_reason_and_is_audited(inbox: Inbox, app) -> None:
    thread_id = seed(inbox, "feedback_loop", 1)[0]
    at = _threads_page(app, thread_id)
    assert at.button(key="threads_resolve").disabled

    at.text_input(key="threads_resolve_reason").set_value("duplicate of an older request").run()
    at.button(key="threads_resolve").click().run()

    assert not at.exception
    assert plain(at.success[0].value) == f"Marked {thread_id} resolved."
    assert inbox.thread(thread_id).status == "resolved"
    row = inbox.history(thread_id=thread_id).iloc[-1]
    assert (row["action"], row["reviewer"], row["comment"]) == ("resolve", "alice", "duplicate of an older request")
    assert _metrics(at)["Status"] == "resolved"
    assert not any(b.label == "Mark resolved" for b in at.button)


def test_unknown_thread_link_says_so(app) -> None:
    at = _threads_page(app, "no-such-thread")

    assert not at.exception
    assert "was not found" in plain(at.error[0].value)


def test_hostile_state_text_on_the_threads_page_is_inert(inbox: Inbox, app) -> None:
    hostile = "مرحبا <script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3)) ![p](http://e.example/p.png) \u202egnp.exe"
    thread_id = inbox.start_run("fragile", {"topic": hostile}, thread_id="hostile-0")
    inbox.decide(thread_id, approve=False, reviewer="<img src=x onerror=alert(4)>", comment=hostile)
    inbox.start_run("fragile", {"topic": "y" * 1_000_000}, thread_id="huge-0")

    at = _threads_page(app, thread_id)
    assert not at.exception
    shown = "\n".join(inert_texts(at))
    assert "<script>alert(1)</script>" in shown
    assert "مرحبا" in shown
    assert "[U+202E]gnp.exe" in shown  # a bidi override is shown, not applied, in table cells

    at = _threads_page(app, "huge-0")
    assert not at.exception
    assert any("y" * 100_000 in text for text in inert_texts(at))
    for text in markdown_texts(at) + markdown_texts(_threads_page(app, thread_id)):
        for needle in ("<script", "onerror", "](javascript", "![p]", "\u202e"):
            assert needle not in text


# --------------------------------------------------------------------------- Start a run


def _start_page(app) -> AppTest:
    return app("pages/start.py")


def test_start_a_run_prefills_a_demo_example_and_the_thread_reaches_the_inbox(inbox: Inbox, app) -> None:
    at = _start_page(app)
    at.selectbox(key="_w_start_graph").set_value("email_approval").run()
    assert at.radio(key="_w_start_mode").value == "Chat message"
    assert at.text_area(key="_w_start_message").value == "Email the Q3 revenue report to finance@acme.example."
    at.text_input(key="start_thread_id").set_value("qa-email-1")

    at.button(key="start_run").click().run()

    assert not at.exception
    assert plain(at.success[0].value) == "Started thread qa-email-1 — it will appear in the Inbox when it pauses."
    assert wait_for(lambda: inbox.pending(search="qa-email-1").total == 1)
    view = inbox.thread("qa-email-1")
    assert view.metadata["requested_by"] == "alice"
    assert view.metadata["graph_id"] == "email_approval"
    at.run()  # the status line follows the run
    assert "paused: waiting for a review" in "\n".join(t.value for t in at.text)

    at.button(key="start_open_inbox").click().run()
    assert "qa-email-1" in list(at.main.dataframe[0].value["Thread"])


def test_start_with_a_typed_message_and_generated_thread_id(inbox: Inbox, app) -> None:
    at = _start_page(app)
    at.selectbox(key="_w_start_graph").set_value("simple_confirm").run()
    at.text_area(key="_w_start_message").set_value("Delete the duplicate record REC-9001.")
    at.button(key="start_run").click().run()

    thread_id = at.session_state["start_last"]["thread_id"]
    assert thread_id.startswith("simple_confirm-")
    assert wait_for(lambda: inbox.pending(search=thread_id).total == 1)
    first = inbox.thread(thread_id).messages[0]
    assert first.content == "Delete the duplicate record REC-9001."


def test_start_with_json_input_is_validated(inbox: Inbox, app) -> None:
    at = _start_page(app)
    at.selectbox(key="_w_start_graph").set_value("fragile").run()
    at.radio(key="_w_start_mode").set_value("JSON").run()

    at.text_area(key="_w_start_json").set_value('{"topic": "q4",}').run()
    at.button(key="start_run").click().run()
    assert "not valid JSON" in plain(at.error[0].value)
    assert "line 1, column 16" in plain(at.error[0].value)

    at.text_area(key="_w_start_json").set_value('["q4"]').run()
    at.button(key="start_run").click().run()
    assert "must be a JSON object" in plain(at.error[0].value)
    assert inbox.counts(refresh=True) == {}

    at.text_area(key="_w_start_json").set_value('{"topic": "q4"}').run()
    at.text_input(key="start_thread_id").set_value("fragile-q4")
    at.button(key="start_run").click().run()
    assert wait_for(lambda: inbox.pending(search="fragile-q4").total == 1)
    assert inbox.thread("fragile-q4").values["topic"] == "q4"


def test_start_refuses_an_existing_thread_id(inbox: Inbox, app) -> None:
    seed(inbox, "simple_confirm", 1)
    at = _start_page(app)
    at.selectbox(key="_w_start_graph").set_value("simple_confirm").run()
    at.text_input(key="start_thread_id").set_value("simple_confirm-0")
    at.button(key="start_run").click().run()

    assert "already exists" in plain(at.error[0].value)
    assert at.session_state["start_last"] is None


def test_another_example_cycles_demo_inputs(app) -> None:
    at = _start_page(app)
    at.selectbox(key="_w_start_graph").set_value("email_approval").run()
    first = at.text_area(key="_w_start_message").value
    at.button(key="start_another").click().run()
    assert at.text_area(key="_w_start_message").value != first


def test_completed_threads_say_what_their_last_decision_was(inbox: Inbox, app) -> None:
    threads = _seed_every_status(inbox)
    at = _threads_page(app)
    completed = next(d.value for d in _tab(at, "completed").dataframe)
    row = completed.set_index("Thread").loc[threads["completed"]]
    assert row["Kind"] not in ("", "—")
    assert row["Summary"] not in ("", "—")
    assert row["Node"].startswith("ended · last ")
