"""The Inbox facade over a real SQLite checkpointer: listing, resuming, errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hitl import AlreadyDecided, Inbox, InvalidAnswer, StoreError, ThreadNotFound, UnknownGraph
from tests.conftest import start


def _state(inbox: Inbox, graph_id: str, thread_id: str) -> dict:
    return inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values


def test_parallel_interrupts_are_listed_each_with_its_own_id_and_answered_one_then_the_rest(inbox: Inbox) -> None:
    thread_id = start(inbox, "parallel")
    page = inbox.pending()
    assert page.total == 1
    item = page.items[0]
    assert item.graph_id == "parallel"
    nodes = sorted(i.node for i in item.interrupts)
    assert nodes == ["left_review", "nested", "right_review"]
    assert len({i.id for i in item.interrupts}) == 3
    kinds = {i.node: i.kind for i in item.interrupts}
    assert kinds == {"left_review": "question", "right_review": "question", "nested": "confirm"}

    left = next(i for i in item.interrupts if i.node == "left_review")
    outcome = inbox.resume(thread_id, {left.id: {"approved": True}}, reviewer="alice")
    assert outcome.status == "waiting"
    assert {i.node for i in outcome.new_interrupts} == {"right_review", "nested"}
    assert inbox.pending().items[0].interrupts.__len__() == 2

    rest = {i.id: ({"approved": False, "reason": "no"} if i.kind == "question" else True) for i in outcome.new_interrupts}
    outcome = inbox.resume(thread_id, rest, reviewer="bob", comment="done")
    assert outcome.status == "completed"
    log = _state(inbox, "parallel", thread_id)["log"]
    assert "left:approved" in log and "right:rejected" in log and "inner:True" in log
    assert inbox.pending().total == 0
    history = inbox.history(thread_id=thread_id)
    assert list(history["reviewer"]) == ["alice", "bob", "bob"]
    assert list(history["outcome"]) == ["waiting", "completed", "completed"]


def test_subgraph_interrupt_resumes_by_id_from_the_root(inbox: Inbox) -> None:
    thread_id = start(inbox, "parallel")
    nested = next(i for i in inbox.pending().items[0].interrupts if i.node == "nested")
    assert nested.value == "Proceed inside the subgraph?"
    outcome = inbox.resume(thread_id, {nested.id: False}, reviewer="alice")
    assert outcome.status == "waiting"
    assert "inner:False" in _state(inbox, "parallel", thread_id)["log"] or outcome.new_interrupts


def test_two_interrupts_in_one_node_come_one_after_the_other(inbox: Inbox) -> None:
    thread_id = start(inbox, "two_in_one")
    first = inbox.pending().items[0].interrupts
    assert [i.kind for i in first] == ["confirm"]
    outcome = inbox.resume(thread_id, {first[0].id: True}, reviewer="alice")
    assert outcome.status == "waiting"
    assert [i.kind for i in outcome.new_interrupts] == ["edit"]
    second = outcome.new_interrupts[0]
    outcome = inbox.resume(thread_id, {second.id: {"action": "approve", "edited": "Notes v2"}}, reviewer="alice")
    assert outcome.status == "completed"
    assert _state(inbox, "two_in_one", thread_id)["log"] == ["first:True", "second:approve:Notes v2"]


def test_second_answer_is_already_decided_naming_the_first_reviewer(inbox: Inbox) -> None:
    thread_id = start(inbox, "fragile")
    interrupt = inbox.pending().items[0].interrupts[0]
    inbox.resume(thread_id, {interrupt.id: {"approved": True}}, reviewer="alice")
    with pytest.raises(AlreadyDecided, match=r"already decided by alice at \d{4}-\d\d-\d\d"):
        inbox.resume(thread_id, {interrupt.id: {"approved": False}}, reviewer="bob")
    assert _state(inbox, "fragile", thread_id)["log"] == ["deployed:True"]


def test_unknown_thread_and_unknown_interrupt_are_clear_errors(inbox: Inbox) -> None:
    with pytest.raises(ThreadNotFound, match="'nope' was not found"):
        inbox.resume("nope", {"x": True}, reviewer="alice")
    with pytest.raises(ThreadNotFound, match="'nope' was not found"):
        inbox.thread("nope")
    thread_id = start(inbox, "fragile")
    with pytest.raises(InvalidAnswer, match="'bogus' is not pending on thread 'fragile-t'"):
        inbox.resume(thread_id, {"bogus": {"approved": True}}, reviewer="alice")


def test_wrong_shape_is_invalid_and_the_interrupt_stays_pending(inbox: Inbox) -> None:
    thread_id = start(inbox, "fragile")
    interrupt = inbox.pending().items[0].interrupts[0]
    with pytest.raises(InvalidAnswer, match="approved"):
        inbox.resume(thread_id, {interrupt.id: "yes please"}, reviewer="alice")
    assert inbox.pending().total == 1
    assert inbox.store.claim_of(thread_id, interrupt.id) is None
    assert inbox.resume(thread_id, {interrupt.id: {"approved": True}}, reviewer="alice").status == "completed"


def test_node_raising_on_resume_is_recorded_failed_and_stays_answerable(inbox: Inbox) -> None:
    thread_id = start(inbox, "fragile")
    interrupt = inbox.pending().items[0].interrupts[0]
    outcome = inbox.resume(thread_id, {interrupt.id: {"approved": True, "reason": "boom"}}, reviewer="alice")
    assert outcome.status == "failed"
    assert "deploy script exploded" in outcome.error
    row = inbox.history(thread_id=thread_id).iloc[-1]
    assert row["outcome"] == "failed" and "deploy script exploded" in row["error"]
    view = inbox.thread(thread_id)
    assert view.status == "failed"
    assert view.interrupts[0].id == interrupt.id and "deploy script exploded" in view.interrupts[0].failed_error
    assert any("deploy script exploded" in text for _, text in view.errors)
    assert inbox.pending().total == 0 and inbox.counts(refresh=True)["failed"] == 1
    # LangGraph stored the answer before the node raised: a new answer would be ignored, so
    # the desk refuses it and offers retry or resolve instead.
    with pytest.raises(InvalidAnswer, match="already answered, then the graph raised"):
        inbox.resume(thread_id, {interrupt.id: {"approved": False}}, reviewer="bob")
    inbox.resolve(thread_id, reviewer="bob", reason="deploy script broken; ticket OPS-1")
    assert inbox.thread(thread_id).status == "resolved"


def test_retry_runs_a_failed_thread_again_with_its_stored_answer(inbox: Inbox) -> None:
    thread_id = start(inbox, "fragile", {"topic": "retry-me"})
    interrupt = inbox.pending().items[0].interrupts[0]
    first = inbox.resume(thread_id, {interrupt.id: {"approved": True, "reason": "flaky"}}, reviewer="alice")
    assert first.status == "failed" and "ConnectionError" in first.error
    outcome = inbox.retry(thread_id, reviewer="bob")
    assert outcome.status == "completed"
    assert _state(inbox, "fragile", thread_id)["log"] == ["deployed:True"]
    assert list(inbox.history(thread_id=thread_id)["action"]) == ["decision", "retry"]
    with pytest.raises(InvalidAnswer, match="no failed task"):
        inbox.retry(thread_id, reviewer="bob")


def test_thread_without_graph_id_is_matched_by_its_pending_node(inbox: Inbox) -> None:
    thread_id = start(inbox, "fragile", tag=False)
    item = inbox.pending().items[0]
    assert item.graph_id == "fragile" and item.read_only_reason is None
    assert inbox.decide(thread_id, approve=True, reviewer="alice").status == "completed"


def test_ambiguous_node_is_listed_read_only_with_the_reason(inbox: Inbox) -> None:
    thread_id = start(inbox, "twin_a", tag=False)
    item = inbox.pending().items[0]
    assert item.graph_id is None
    assert "several graphs" in item.read_only_reason and "twin_a" in item.read_only_reason
    with pytest.raises(UnknownGraph, match="several graphs"):
        inbox.decide(thread_id, approve=True, reviewer="alice")


def test_graph_module_failing_to_import_leaves_the_rest_working(inbox: Inbox, db_url: str) -> None:
    assert "ModuleNotFoundError" in inbox.registry.error("broken")
    with pytest.raises(UnknownGraph, match="could not be loaded: ModuleNotFoundError"):
        inbox.graph("broken")
    # A thread tagged with the broken graph is listed read-only with the import error.
    config = {"configurable": {"thread_id": "tagged-broken"}, "metadata": {"graph_id": "broken"}}
    inbox.graph("fragile").invoke({"topic": "x"}, config)
    start(inbox, "two_in_one")
    page = inbox.pending()
    broken = [t for t in page.items if t.graph_id == "broken"]
    assert broken and "ModuleNotFoundError" in (broken[0].read_only_reason or "")
    assert any(t.graph_id == "two_in_one" and t.read_only_reason is None for t in page.items)


def test_registry_accepts_a_function_taking_a_checkpointer(inbox: Inbox) -> None:
    thread_id = start(inbox, "compiled_with")
    assert inbox.pending(graph_id="compiled_with").total == 1
    first = inbox.pending().items[0].interrupts[0]
    assert inbox.resume(thread_id, {first.id: True}, reviewer="a").status == "waiting"


def test_filters_search_pagination_and_total(inbox: Inbox) -> None:
    for n in range(7):
        start(inbox, "fragile", {"topic": f"topic-{n}"}, thread_id=f"f-{n}")
    for n in range(3):
        start(inbox, "two_in_one", thread_id=f"t-{n}")
    assert inbox.pending().total == 10
    assert inbox.pending(graph_id="fragile").total == 7
    assert inbox.pending(kind="confirm").total == 3
    assert inbox.pending(kind="question").total == 7
    found = inbox.pending(search="TOPIC-4")
    assert found.total == 1 and found.items[0].thread_id == "f-4"
    assert inbox.pending(search="50%_off").total == 0
    seen, cursor = [], None
    while True:
        page = inbox.pending(limit=3, cursor=cursor)
        assert page.total == 10
        seen += [t.thread_id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 10 and len(set(seen)) == 10
    waits = [t.waiting_since for t in inbox.pending(limit=10).items]
    assert waits == sorted(waits)
    assert inbox.pending(waiting_longer_than=3600).total == 0
    with pytest.raises(InvalidAnswer, match="Cursor"):
        inbox.pending(cursor="garbage!")


def test_mark_resolved_closes_without_resuming_and_is_audited(inbox: Inbox) -> None:
    thread_id = start(inbox, "fragile")
    with pytest.raises(InvalidAnswer, match="needs a reason"):
        inbox.resolve(thread_id, reviewer="alice", reason=" ")
    inbox.resolve(thread_id, reviewer="alice", reason="duplicate request")
    assert inbox.pending().total == 0
    view = inbox.thread(thread_id)
    assert view.status == "resolved"
    assert "log" not in view.values or not any(entry.startswith("deployed") for entry in view.values.get("log", []))
    row = inbox.history(thread_id=thread_id).iloc[-1]
    assert (row["outcome"], row["comment"], row["reviewer"]) == ("resolved", "duplicate request", "alice")


def test_thread_view_has_state_timeline_and_decisions(inbox: Inbox) -> None:
    thread_id = start(inbox, "fragile")
    view = inbox.thread(thread_id)
    assert view.status == "waiting" and view.graph_id == "fragile"
    assert view.values["topic"] == "q3"
    assert len(view.checkpoints) >= 2
    inbox.decide(thread_id, approve=True, reviewer="alice")
    view = inbox.thread(thread_id)
    assert view.status == "completed" and len(view.decisions) == 1


def test_statuses_are_indexed(inbox: Inbox) -> None:
    done = start(inbox, "fragile", thread_id="done")
    inbox.decide(done, approve=True, reviewer="a")
    failed = start(inbox, "fragile", thread_id="failed")
    interrupt = inbox.pending(search="failed").items[0].interrupts[0]
    inbox.resume(failed, {interrupt.id: {"approved": True, "reason": "boom"}}, reviewer="a")
    start(inbox, "fragile", thread_id="waiting")
    resolved = start(inbox, "fragile", thread_id="resolved")
    inbox.resolve(resolved, reviewer="a", reason="dup")
    # Stopped at a static breakpoint: a node is scheduled but nothing asks a question.
    stalled = {"configurable": {"thread_id": "stalled"}, "metadata": {"graph_id": "fragile"}}
    inbox.graph("fragile").invoke({"topic": "stalled"}, stalled, interrupt_before=["fragile_deploy"])
    assert inbox.counts(refresh=True) == {"completed": 1, "failed": 1, "waiting": 1, "resolved": 1, "running": 1}
    assert inbox.thread("stalled").next_nodes == ("fragile_deploy",)
    rows, _, total = inbox.threads("failed")
    assert total == 1 and rows[0].thread_id == "failed"


@pytest.mark.parametrize("setup", ["missing", "missing_dir", "empty", "corrupt", "not_langgraph"])
def test_bad_database_files_give_clear_errors(tmp_path: Path, graphs_file: Path, setup: str) -> None:
    path = tmp_path / "x.db"
    if setup == "missing_dir":
        path = tmp_path / "nodir" / "x.db"
    elif setup == "empty":
        path.write_bytes(b"")
    elif setup == "corrupt":
        path.write_bytes(b"this is not a database" * 100)
    elif setup == "not_langgraph":
        sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.commit()
    expected = {
        "missing": "does not exist",
        "missing_dir": "directory .* does not exist",
        "empty": "without LangGraph's checkpoint tables",
        "corrupt": "not a usable SQLite database",
        "not_langgraph": "without LangGraph's checkpoint tables",
    }[setup]
    with pytest.raises(StoreError, match=expected):
        Inbox.open(database_url=f"sqlite:///{path}", graphs_path=str(graphs_file))


def test_unsupported_url_is_explained(graphs_file: Path) -> None:
    with pytest.raises(StoreError, match="not supported"):
        Inbox.open(database_url="mysql://x", graphs_path=str(graphs_file))


def test_nul_characters_are_recorded_visibly_and_a_nul_filter_matches_nothing(inbox: Inbox) -> None:
    # PostgreSQL text cannot hold NUL: there the audit row shows it as U+2400 (hashed as
    # stored); SQLite keeps it verbatim. A filter containing one is refused (PostgreSQL) or empty.
    thread_id = start(inbox, "fragile")
    inbox.decide(thread_id, approve=True, reviewer="alice", comment="ok\x00then")
    stored = "ok\u2400then" if inbox.store.backend == "postgres" else "ok\x00then"
    assert list(inbox.history(thread_id=thread_id)["comment"]) == [stored]
    assert inbox.verify_audit().ok
    with pytest.raises(InvalidAnswer, match="search filter contains a NUL"):
        inbox.pending(search="ab\x00cd")
    if inbox.store.backend == "postgres":
        with pytest.raises(InvalidAnswer, match="NUL"):
            inbox.history(reviewer="ali\x00ce")
    else:
        assert inbox.history(reviewer="ali\x00ce").empty


def test_one_click_during_anothers_resume_is_already_decided_not_invalid(inbox: Inbox) -> None:
    """Between the winner's node finishing and its audit row, the interrupt is gone from the
    checkpoint and the log has no decision yet: the winner's claim says who decided."""
    from langgraph.types import Command

    from hitl.errors import AlreadyDecided

    thread_id = start(inbox, "fragile")
    (item,) = inbox.thread(thread_id).interrupts
    inbox.store.claim(thread_id, [item.id], reviewer="olga", answers={item.id: {"approved": True}},
                      lease_seconds=300, still_pending=lambda iid: True)
    config = {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": "fragile"}}
    inbox.graph("fragile").invoke(Command(resume={item.id: {"approved": True}}), config)  # the winner's run
    with pytest.raises(AlreadyDecided, match="olga"):
        inbox.decide(thread_id, approve=False, reviewer="bob")
