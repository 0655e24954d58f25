"""The Inbox page and the shared sidebar, driven through AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from tests.ui.conftest import APP, inert_texts, markdown_texts, plain, seed


def _queue(at: AppTest):
    """The queue table (the first dataframe on the Inbox page)."""
    return at.main.dataframe[0].value


def _captions(at: AppTest) -> list[str]:
    return [plain(caption.value) for caption in at.caption]


def _batch_table(at: AppTest):
    return next(d.value for d in at.dataframe if "Result" in d.value.columns).set_index("Thread")


def test_inbox_lists_pending_threads_with_kind_summary_and_waiting_time(inbox: Inbox, app) -> None:
    seed(inbox, "email_approval", 2)
    seed(inbox, "simple_confirm", 1)
    seed(inbox, "tool_review", 1)

    at = app()

    assert not at.exception
    assert at.title[0].value == "Inbox"
    table = _queue(at)
    assert sorted(table["Thread"]) == ["email_approval-0", "email_approval-1", "simple_confirm-0", "tool_review-0"]
    rows = table.set_index("Thread")
    assert rows.loc["email_approval-0", "Kind"] == "question"
    assert rows.loc["email_approval-0", "Summary"].startswith("send_email: to=finance@acme.example")
    assert rows.loc["simple_confirm-0", "Kind"] == "confirm"
    assert rows.loc["tool_review-0", "Summary"] == "3 tool calls: search_records, send_email, delete_record"
    assert set(rows["Interrupts"]) == {1}
    assert all(waiting.endswith((" s", " min")) for waiting in rows["Waiting"])
    assert "Showing 1–4 of 4 pending" in _captions(at)
    # The sidebar: the database, the pending count and every status.
    assert at.sidebar.metric[0].value == "4"
    assert any("waiting 4 · running 0 · completed 0 · failed 0 · resolved 0" == c.value for c in at.sidebar.caption)
    assert inbox.store.display_url in [code.value for code in at.sidebar.code]
    assert any("audit chain intact" in c.value for c in at.sidebar.caption)


def test_empty_queue_points_to_start_a_run_and_make_seed(app) -> None:
    at = app()

    assert not at.exception
    assert at.subheader[0].value == "Nothing is waiting for a review"
    assert "make seed" in at.markdown[0].value
    assert at.main.get("page_link")[0].proto.page.endswith("start")


def test_filters_and_search_narrow_the_queue(inbox: Inbox, app) -> None:
    seed(inbox, "email_approval", 3)
    seed(inbox, "simple_confirm", 2)
    seed(inbox, "draft_edit", 1)
    at = app()
    assert len(_queue(at)) == 6

    at.selectbox(key="_w_inbox_kind").set_value("confirm").run()
    assert list(_queue(at)["Thread"]) == ["simple_confirm-0", "simple_confirm-1"]

    at.selectbox(key="_w_inbox_kind").set_value("All kinds").run()
    at.selectbox(key="_w_inbox_graph").set_value("draft_edit").run()
    assert list(_queue(at)["Thread"]) == ["draft_edit-0"]

    at.selectbox(key="_w_inbox_graph").set_value("All graphs").run()
    at.text_input(key="_w_inbox_search").set_value("legal@globex").run()  # the second email's recipient
    assert list(_queue(at)["Thread"]) == ["email_approval-1"]

    at.text_input(key="_w_inbox_search").set_value("").run()
    at.selectbox(key="_w_inbox_waiting").set_value("24 h").run()
    assert not at.main.dataframe
    assert at.info[0].value == "No pending thread matches these filters."
    next(b for b in at.button if b.label == "Clear filters").click().run()
    assert len(_queue(at)) == 6
    assert at.selectbox(key="_w_inbox_waiting").value == "any time"

    at.selectbox(key="_w_inbox_sort").set_value("Newest first").run()
    assert list(_queue(at)["Thread"])[0] == "draft_edit-0"


def test_filters_survive_a_visit_to_another_page(inbox: Inbox, app) -> None:
    seed(inbox, "email_approval", 1)
    seed(inbox, "simple_confirm", 1)
    at = app()
    at.selectbox(key="_w_inbox_kind").set_value("confirm").run()

    at.switch_page("pages/history.py").run()
    at.switch_page("pages/inbox.py").run()

    assert at.selectbox(key="_w_inbox_kind").value == "confirm"
    assert list(_queue(at)["Thread"]) == ["simple_confirm-0"]


def test_pagination_walks_the_queue_with_cursors_and_decodes_only_the_visible_page(
    inbox: Inbox, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(inbox, "simple_confirm", 30)
    from hitl.store import Store

    decoded: list[int] = []
    original = Store.pending_interrupts

    def spy(self, thread_ids):
        thread_ids = list(thread_ids)
        decoded.append(len(thread_ids))
        return original(self, thread_ids)

    monkeypatch.setattr(Store, "pending_interrupts", spy)
    at = app()
    at.selectbox(key="_w_inbox_page_size").set_value(25).run()
    first = list(_queue(at)["Thread"])
    assert len(first) == 25
    assert "Showing 1–25 of 30 pending" in _captions(at)
    assert at.button(key="inbox_prev").disabled

    at.button(key="inbox_next").click().run()
    second = list(_queue(at)["Thread"])
    assert len(second) == 5
    assert not set(first) & set(second)
    assert "Showing 26–30 of 30 pending" in _captions(at)
    assert at.button(key="inbox_next").disabled

    at.button(key="inbox_prev").click().run()
    assert list(_queue(at)["Thread"]) == first
    assert decoded and max(decoded) <= 50  # never the whole queue: one page (the default 50, then 25)


def test_selection_is_kept_by_thread_across_refreshes_and_opens_the_review(inbox: Inbox, app) -> None:
    seed(inbox, "simple_confirm", 3)
    at = app()
    at.session_state["inbox_selected"] = ["simple_confirm-1"]
    at.run()
    assert at.session_state["inbox_table"]["selection"]["rows"] == [1]
    assert any(b.label == "Open review" for b in at.button)

    # A newer thread arrives; the queue sorted newest first puts it on top and the
    # selection follows simple_confirm-1 to its new row.
    at.selectbox(key="_w_inbox_sort").set_value("Newest first").run()
    seed(inbox, "simple_confirm", 1, start=3)
    at.session_state["inbox_selected"] = ["simple_confirm-1"]
    at.run()
    table = list(_queue(at)["Thread"])
    assert table[0] == "simple_confirm-3"
    assert at.session_state["inbox_table"]["selection"]["rows"] == [table.index("simple_confirm-1")]

    at.button(key="inbox_open").click().run()
    assert at.session_state["review_thread"] == "simple_confirm-1"
    assert at.query_params.get("thread") in ("simple_confirm-1", ["simple_confirm-1"])


def test_render_queue_can_be_called_directly(inbox: Inbox, desk_env) -> None:
    seed(inbox, "draft_edit", 2)

    def script() -> None:
        from hitl.ui.queue import render_queue

        render_queue()

    at = AppTest.from_function(script, default_timeout=60).run()

    assert not at.exception
    assert list(at.dataframe[0].value["Thread"]) == ["draft_edit-0", "draft_edit-1"]


def test_mixed_kinds_disable_the_batch_and_say_why(inbox: Inbox, app) -> None:
    seed(inbox, "email_approval", 1)
    seed(inbox, "simple_confirm", 1)
    at = app()
    at.session_state["inbox_selected"] = ["email_approval-0", "simple_confirm-0"]
    at.run()

    assert at.button(key="inbox_batch_approve").disabled
    assert at.button(key="inbox_batch_reject").disabled
    assert "mixes kinds" in plain(at.warning[0].value)


def test_batch_needs_a_reviewer_name(inbox: Inbox, app) -> None:
    seed(inbox, "simple_confirm", 2)
    at = app(reviewer="")
    at.session_state["inbox_selected"] = ["simple_confirm-0", "simple_confirm-1"]
    at.run()

    assert at.button(key="inbox_batch_approve").disabled
    assert "Type your name in the sidebar" in plain(at.warning[0].value)


def test_batch_approve_of_three_with_one_failing_shows_each_result(inbox: Inbox, app) -> None:
    emails = seed(inbox, "email_approval", 2)
    fragile = inbox.start_run("explosive", {"topic": "billing-db"}, thread_id="explosive-0")
    selection = [*emails, fragile]
    at = app(reviewer="alice")
    at.session_state["inbox_selected"] = selection
    at.run()
    assert "Batch: 3 threads of kind question" in at.subheader[0].value

    at.text_input(key="inbox_batch_comment").set_value("checked recipients")
    at.button(key="inbox_batch_approve").click().run()

    assert not at.exception
    results = _batch_table(at)
    assert results.loc[emails[0], "Result"] == "completed"
    assert results.loc[emails[1], "Result"] == "completed"
    assert results.loc[fragile, "Result"] == "failed"
    assert "cluster API refused the restart" in results.loc[fragile, "Details"]
    assert "nothing is lost" in results.loc[fragile, "What it means"]
    assert "Approved 3 threads: 2 completed, 1 failed" in plain(at.warning[0].value)
    # The queue no longer lists the decided threads; the failed one waits for a retry.
    assert _queue_ids(at) == []
    # The graphs' resulting states.
    for thread_id in emails:
        view = inbox.thread(thread_id)
        assert view.status == "completed"
        assert any(type(m).__name__ == "ToolMessage" and "Email sent" in m.content for m in view.messages)
    broken = inbox.thread(fragile)
    assert broken.status == "failed"
    assert any("cluster API refused the restart" in error for _, error in broken.errors)
    audit = inbox.history().set_index("thread_id")
    assert set(audit["action"]) == {"batch"}
    assert set(audit["reviewer"]) == {"alice"}
    assert set(audit["comment"]) == {"checked recipients"}
    assert audit.loc[fragile, "outcome"] == "failed"
    # (AppTest drops the sidebar on reruns under st.navigation, so a fresh session checks it.)
    sidebar = [caption.value for caption in app().sidebar.caption]
    assert "waiting 0 · running 0 · completed 2 · failed 1 · resolved 0" in sidebar


def _queue_ids(at: AppTest) -> list[str]:
    tables = [d for d in at.main.dataframe if "Interrupts" in d.value.columns]
    return list(tables[0].value["Thread"]) if tables else []


def test_batch_reports_threads_another_reviewer_decided_or_moved_meanwhile(inbox: Inbox, app) -> None:
    threads = seed(inbox, "email_approval", 3)
    at = app(reviewer="alice")
    at.session_state["inbox_selected"] = threads
    at.run()
    assert not at.button(key="inbox_batch_reject").disabled

    # Another desk (a second connection) decides one thread before alice clicks.
    inbox.decide(threads[0], approve=False, reviewer="bob", comment="wrong recipient")
    at.text_input(key="inbox_batch_comment").set_value("not today")
    at.button(key="inbox_batch_reject").click().run()

    results = _batch_table(at)
    assert results.loc[threads[0], "Result"] == "already decided"
    assert "bob" in results.loc[threads[0], "Details"]
    assert list(results.loc[threads[1:], "Result"]) == ["completed", "completed"]
    audit = inbox.history()
    assert list(audit["reviewer"]) == ["bob", "alice", "alice"]
    assert list(audit["comment"]) == ["wrong recipient", "not today", "not today"]


def test_batch_skips_a_thread_that_moved_to_a_new_request_after_selection(inbox: Inbox, app) -> None:
    first, second = seed(inbox, "approval_chain", 2)  # manager -> director -> vp
    at = app(reviewer="alice")
    at.session_state["inbox_selected"] = [first, second]
    at.run()

    inbox.decide(first, approve=True, reviewer="bob")  # now waiting at the director level
    at.button(key="inbox_batch_approve").click().run()
    at.button(key="inbox_batch_confirm").click().run()  # a purchase budget: a second step (issue 17)

    results = _batch_table(at)
    assert results.loc[first, "Result"] == "changed"
    assert results.loc[second, "Result"] == "waiting"  # approved at manager level, now at director
    assert [r for r in inbox.history()["reviewer"]] == ["bob", "alice"]


def test_hostile_payload_text_in_the_queue_is_inert(inbox: Inbox, app) -> None:
    hostile = "مرحبا <script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3)) ![p](http://evil.example/p.png)"
    inbox.start_run("fragile", {"topic": hostile}, thread_id="hostile-0")
    inbox.start_run("fragile", {"topic": "x" * 1_000_000}, thread_id="huge-0")

    at = app()

    assert not at.exception
    shown = "\n".join(inert_texts(at))
    assert "<script>alert(1)</script>" in shown
    assert "مرحبا" in shown
    for text in markdown_texts(at):
        for needle in ("<script", "onerror", "](javascript", "![p]", "مرحبا"):
            assert needle not in text


def test_missing_database_shows_what_to_do_not_a_traceback(tmp_path, graphs_file, monkeypatch) -> None:
    from hitl.ui.desk import _open_inbox

    monkeypatch.setenv("HITL_DATABASE_URL", f"sqlite:///{tmp_path / 'nope' / 'missing.db'}")
    monkeypatch.setenv("HITL_GRAPHS", str(graphs_file))
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    _open_inbox.clear()

    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert at.error[-1].value == "The desk cannot open its database."
    assert "does not exist" in at.text[0].value
    assert "make seed" in at.info[0].value
    _open_inbox.clear()


def test_sidebar_audit_line_follows_new_decisions(inbox: Inbox, app) -> None:
    thread_id = seed(inbox, "simple_confirm", 1)[0]
    assert any("audit chain intact: 0 rows verified" in plain(c.value) for c in app().sidebar.caption)

    inbox.decide(thread_id, approve=True, reviewer="bob")

    assert any("audit chain intact: 1 rows verified" in plain(c.value) for c in app().sidebar.caption)


def test_read_only_threads_show_why_in_a_note_and_cannot_be_batched(inbox: Inbox, app) -> None:
    from tests.conftest import start

    first = start(inbox, "twin_a", thread_id="untagged-1", tag=False)  # twin_a and twin_b share the node
    second = start(inbox, "twin_a", thread_id="untagged-2", tag=False)
    at = app()

    notes = _queue(at).set_index("Thread")["Note"]
    assert "twin_a" in notes[first] and "twin_b" in notes[first]

    at.session_state["inbox_selected"] = [first, second]
    at.run()
    assert at.button(key="inbox_batch_approve").disabled
    assert "read-only here" in plain(at.warning[0].value)


def test_batch_approval_of_payments_previews_what_runs_and_needs_a_confirmation(inbox: Inbox, app) -> None:
    payments = seed(inbox, "selective_review", 2)
    at = app(reviewer="alice")
    at.session_state["inbox_selected"] = payments
    at.run()
    preview = next(d.value for d in at.dataframe if "Approving" in d.value.columns).set_index("Thread")
    assert preview.loc[payments[0], "Tool"] == "make_payment"
    assert preview.loc[payments[0], "Amount"] > 0 and preview.loc[payments[0], "Currency"]
    assert preview.loc[payments[0], "Approving"].startswith("Approving runs make_payment: ")
    queue = next(d.value for d in at.dataframe if "Summary" in d.value.columns and "Waiting" in d.value.columns)
    assert {"Tool", "Target", "Amount"} <= set(queue.columns)
    assert "make_payment" in set(queue["Tool"])

    at.button(key="inbox_batch_approve").click().run()
    assert inbox.history().empty  # nothing sent before the confirmation
    (line,) = [plain(w.value) for w in at.warning if plain(w.value).startswith("Confirm: ")]
    assert line.startswith("Confirm: approving all 2 threads runs 2 calls") and "moves money in" in line
    at.button(key="inbox_batch_cancel").click().run()
    assert inbox.history().empty
    at.button(key="inbox_batch_approve").click().run()
    at.button(key="inbox_batch_confirm").click().run()
    assert sorted(inbox.history()["thread_id"]) == sorted(payments)


def test_batch_rejection_is_sent_at_once(inbox: Inbox, app) -> None:
    payments = seed(inbox, "selective_review", 2)
    at = app(reviewer="alice")
    at.session_state["inbox_selected"] = payments
    at.run()
    at.button(key="inbox_batch_reject").click().run()
    assert len(inbox.history()) == 2
