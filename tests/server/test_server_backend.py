"""The desk over a real `langgraph dev`: listing, reading, resuming, at most once, a server that goes away."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from hitl.backends import Backend, Graphs
from hitl.backends.server import ServerStore, ServerUnreachable
from hitl.backends.server_graphs import ServerRegistry
from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer, ThreadNotFound
from hitl.outcome import OutcomeUnknown


def token() -> str:
    """A word no other test's threads contain, to find this test's threads by search."""
    return f"tok{uuid.uuid4().hex[:10]}"


def start_thread(client, graph_id: str, graph_input: dict) -> str:
    """Create a thread and run `graph_id` on it until it pauses; returns its id."""
    thread = client.threads.create(metadata={"graph_id": graph_id})
    client.runs.wait(thread["thread_id"], graph_id, input=graph_input)
    return thread["thread_id"]


def only_interrupt(desk, thread_id: str):
    (item,) = desk.thread(thread_id).interrupts
    return item


def runs_on(client, thread_id: str) -> int:
    return len(client.runs.list(thread_id, limit=100))


# ------------------------------------------------------------------ the seam


def test_inbox_open_with_the_server_url_picks_the_server_backend(desk) -> None:
    assert isinstance(desk.backend, ServerStore) and desk.backend is desk.store
    assert isinstance(desk.backend, Backend)
    assert isinstance(desk.registry, ServerRegistry) and isinstance(desk.registry, Graphs)


def test_without_the_server_url_the_sql_store_is_the_backend(tmp_path) -> None:
    from hitl import Inbox
    from hitl.registry import Registry
    from hitl.store import Store

    with Inbox.open(database_url=f"sqlite:///{tmp_path / 'x.db'}", graphs_path=str(tmp_path / "none.json"), create=True) as desk:
        assert type(desk.backend) is Store and isinstance(desk.backend, Backend)
        assert isinstance(desk.registry, Registry) and isinstance(desk.registry, Graphs)


def test_the_two_variables_pick_the_server_and_its_key(tmp_path, monkeypatch) -> None:
    from hitl.config import Settings

    monkeypatch.setenv("HITL_LANGGRAPH_API_URL", "https://agents.example.com")
    monkeypatch.setenv("HITL_LANGGRAPH_API_KEY", "lsv2-secret")
    settings = Settings.from_env()
    assert (settings.langgraph_api_url, settings.langgraph_api_key) == ("https://agents.example.com", "lsv2-secret")
    store = ServerStore.connect(f"sqlite:///{tmp_path / 'desk.db'}", settings.langgraph_api_url,
                                api_key=settings.langgraph_api_key)  # fmt: skip
    assert store.client.http.client.headers["x-api-key"] == "lsv2-secret"
    store.close()


# ------------------------------------------------------------------ listing and reading


def test_lists_interrupted_threads_of_every_kind_with_graph_kind_and_summary(desk, client) -> None:
    word = token()
    approve = start_thread(client, "approve", {"action_details": f"pay 5 {word}"})
    agent = start_thread(client, "agent", {"messages": [{"role": "user", "content": "go"}]})

    page = desk.pending(search=word)
    assert page.total == 1
    (item,) = page.items
    assert (item.thread_id, item.graph_id, item.kinds) == (approve, "approve", ("question",))
    assert item.interrupts[0].value == {"question": "Approve this action?", "details": f"pay 5 {word}"}
    assert word in item.summary or "Approve" in item.summary
    assert item.waited_seconds >= 0

    agent_page = desk.pending(search=agent)
    assert [i.thread_id for i in agent_page.items] == [agent]
    assert agent_page.items[0].kinds == ("hitl_request",)
    assert desk.pending(graph_id="agent", kind="hitl_request", limit=1000).total >= 1


def test_pages_by_cursor_oldest_first_with_the_total(desk, client) -> None:
    word = token()
    made = [start_thread(client, "approve", {"action_details": f"{word} n{n}"}) for n in range(5)]
    seen, cursor = [], None
    while True:
        page = desk.pending(limit=2, cursor=cursor, search=word)
        assert page.total == 5
        seen += [item.thread_id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == made
    assert [i.thread_id for i in desk.pending(limit=2, search=word, newest_first=True).items] == made[:-3:-1]


def test_refresh_is_incremental_by_updated_at(desk, client) -> None:
    desk.refresh()
    assert desk.refresh() == 0  # nothing changed since
    start_thread(client, "approve", {"action_details": token()})
    assert desk.refresh() >= 1


def test_reads_state_messages_and_interrupts_from_the_server(desk, client) -> None:
    thread_id = start_thread(client, "agent", {"messages": [{"role": "user", "content": "go"}]})
    view = desk.thread(thread_id)
    assert view.status == "waiting"
    assert view.graph_id == "agent"
    assert [m["type"] for m in view.messages] == ["human", "ai"]
    assert view.interrupts[0].kind == "hitl_request"
    assert view.interrupts[0].value["action_requests"][0]["name"] == "send_email"


def test_an_unknown_thread_is_thread_not_found(desk) -> None:
    with pytest.raises(ThreadNotFound):
        desk.thread(str(uuid.uuid4()))


# ------------------------------------------------------------------ resuming


def test_resume_completes_and_records_the_run_and_the_audit_row(desk, client) -> None:
    thread_id = start_thread(client, "approve", {"action_details": token()})
    item = only_interrupt(desk, thread_id)

    outcome = desk.resume(thread_id, {item.id: True}, reviewer="alice", comment="ok")

    assert outcome.status == "completed"
    assert client.threads.get_state(thread_id)["values"]["status"] == "approved"
    assert len(desk.backend.run_ids(thread_id)) == 1
    history = desk.history(thread_id=thread_id)
    assert list(history["outcome"]) == ["completed"]
    assert list(history["reviewer"]) == ["alice"]
    assert desk.verify_audit().ok
    assert desk.pending(search=thread_id).total == 0


def test_resume_of_the_agent_approves_the_tool_call(desk, client) -> None:
    thread_id = start_thread(client, "agent", {"messages": [{"role": "user", "content": "go"}]})
    item = only_interrupt(desk, thread_id)
    outcome = desk.resume(thread_id, {item.id: {"decisions": [{"type": "approve"}]}}, reviewer="alice")
    assert outcome.status == "completed"
    messages = client.threads.get_state(thread_id)["values"]["messages"]
    assert [m["type"] for m in messages] == ["human", "ai", "tool", "ai"]


def test_resume_reports_waiting_with_the_next_interrupt(desk, client) -> None:
    thread_id = start_thread(client, "profile", {})
    item = only_interrupt(desk, thread_id)
    outcome = desk.resume(thread_id, {item.id: "Ada"}, reviewer="alice")
    assert outcome.status == "waiting"
    assert [i.value for i in outcome.new_interrupts] == ["Which city do you live in?"]
    assert desk.pending(search=thread_id).items[0].interrupts[0].value == "Which city do you live in?"


def test_resume_reports_a_node_that_raised_as_failed(desk, client) -> None:
    thread_id = start_thread(client, "approve", {"action_details": "boom"})
    item = only_interrupt(desk, thread_id)
    outcome = desk.resume(thread_id, {item.id: True}, reviewer="alice")
    assert outcome.status == "failed"
    assert "payment provider refused" in (outcome.error or "")
    assert list(desk.history(thread_id=thread_id)["outcome"]) == ["failed"]


def test_a_second_answer_is_already_decided_and_the_server_runs_nothing(desk, client) -> None:
    thread_id = start_thread(client, "approve", {"action_details": token()})
    item = only_interrupt(desk, thread_id)
    desk.resume(thread_id, {item.id: True}, reviewer="alice")
    runs = runs_on(client, thread_id)

    with pytest.raises(AlreadyDecided, match="alice"):
        desk.resume(thread_id, {item.id: False}, reviewer="bob")

    assert runs_on(client, thread_id) == runs
    assert client.threads.get_state(thread_id)["values"]["status"] == "approved"


def test_an_interrupt_answered_outside_the_desk_is_not_answered_again(desk, client) -> None:
    thread_id = start_thread(client, "approve", {"action_details": token()})
    item = only_interrupt(desk, thread_id)
    client.runs.wait(thread_id, "approve", command={"resume": {item.id: False}})
    runs = runs_on(client, thread_id)
    with pytest.raises(InvalidAnswer, match="not pending"):
        desk.resume(thread_id, {item.id: True}, reviewer="bob")
    assert runs_on(client, thread_id) == runs


def test_eight_concurrent_answers_to_one_interrupt_run_exactly_once(server, client, desk_factory, monkeypatch) -> None:
    from hitl.store import Store

    thread_id = start_thread(client, "approve", {"action_details": token()})
    desks = [desk_factory(server.url) for _ in range(8)]
    item = only_interrupt(desks[0], thread_id)
    barrier = threading.Barrier(8)
    # Every desk has read the interrupt as pending from the server and claims at the same
    # moment: only the desk database's unique claim can tell them apart now.
    claim, at_claim = Store.claim, threading.Barrier(8)

    def claim_together(self, *args, **kwargs):
        at_claim.wait(timeout=60)
        return claim(self, *args, **kwargs)

    monkeypatch.setattr(Store, "claim", claim_together)
    results: list[object] = [None] * 8

    def answer(n: int) -> None:
        barrier.wait()
        try:
            results[n] = desks[n].resume(thread_id, {item.id: n % 2 == 0}, reviewer=f"r{n}")
        except HitlError as exc:
            results[n] = exc

    workers = [threading.Thread(target=answer, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    completed = [r for r in results if getattr(r, "status", None) == "completed"]
    refused = [r for r in results if isinstance(r, AlreadyDecided)]
    assert (len(completed), len(refused)) == (1, 7), results
    assert runs_on(client, thread_id) == 2  # the first run and exactly one resume
    assert len(desks[0].history(thread_id=thread_id)) == 1


# ------------------------------------------------------------------ a server that goes away


def test_a_server_gone_before_the_answer_runs_nothing_and_releases_the_claim(server, client, desk_factory) -> None:
    import socket

    thread_id = start_thread(client, "approve", {"action_details": token()})
    item = only_interrupt(desk_factory(server.url), thread_id)  # the reviewer has the card open...
    with socket.socket() as sock:  # ...and the server is gone: the same desk database, nobody at the address
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    desk = desk_factory(dead)

    started = time.monotonic()
    with pytest.raises(ServerUnreachable, match="did not answer"):
        desk.resume(thread_id, {item.id: True}, reviewer="alice")
    assert time.monotonic() - started < 5
    assert desk.store.claim_of(thread_id, item.id) is None
    assert len(desk.history(thread_id=thread_id)) == 0
    with pytest.raises(ServerUnreachable, match="Start the server"):
        desk.pending()
    # Nothing was lost: with the server back, the same answer goes through once.
    assert desk_factory(server.url).resume(thread_id, {item.id: True}, reviewer="alice").status == "completed"
    assert runs_on(client, thread_id) == 2


def test_a_server_gone_while_the_run_runs_marks_the_decision_unknown(own_server, sqlite_desk) -> None:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=own_server.url, api_key=None)
    thread_id = start_thread(client, "approve", {"action_details": "slow"})
    desk = sqlite_desk(own_server.url)
    item = only_interrupt(desk, thread_id)
    errors: list[BaseException] = []

    def answer() -> None:
        try:
            desk.resume(thread_id, {item.id: True}, reviewer="alice")
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=answer)
    worker.start()
    deadline = time.monotonic() + 20
    while not desk.backend.run_ids(thread_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    own_server.kill()
    worker.join(timeout=30)

    assert len(errors) == 1 and isinstance(errors[0], OutcomeUnknown), errors
    assert "went away while run" in str(errors[0])
    assert desk.store.claim_of(thread_id, item.id)["state"] == "unknown"
    assert list(desk.history(thread_id=thread_id)["outcome"]) == ["unknown"]
    # The server comes back on its files (a kill may lose its last writes): the decision is not
    # answered again as a plain one, and nothing runs.
    own_server.start()
    before = len(client.runs.list(thread_id, limit=100)) if _exists(client, thread_id) else 0
    with pytest.raises((OutcomeUnknown, AlreadyDecided, ThreadNotFound)):
        desk.resume(thread_id, {item.id: True}, reviewer="bob")
    after = len(client.runs.list(thread_id, limit=100)) if _exists(client, thread_id) else 0
    assert after == before


def _exists(client, thread_id: str) -> bool:
    from langgraph_sdk.errors import NotFoundError

    try:
        client.threads.get(thread_id)
    except NotFoundError:
        return False
    return True


def test_a_restarted_server_keeps_a_second_answer_refused_and_runs_nothing(own_server, sqlite_desk) -> None:
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=own_server.url, api_key=None)
    answered = start_thread(client, "docs_approve", {"action_details": token()})
    waiting = start_thread(client, "docs_approve", {"action_details": token()})
    desk = sqlite_desk(own_server.url)
    first = only_interrupt(desk, answered)
    assert desk.resume(answered, {first.id: True}, reviewer="alice").status == "completed"
    own_server.stop()  # a graceful restart: the server keeps its threads
    own_server.start()

    runs = runs_on(client, answered)
    with pytest.raises(AlreadyDecided, match="alice"):
        desk.resume(answered, {first.id: False}, reviewer="bob")
    assert runs_on(client, answered) == runs
    assert client.threads.get_state(answered)["values"]["effects"] == ["performed"]
    # A thread that waited across the restart is answered once, as before.
    other = only_interrupt(desk, waiting)
    assert desk.resume(waiting, {other.id: False}, reviewer="bob").status == "completed"
    assert desk.backend.run_ids(waiting) and len(desk.history(thread_id=waiting)) == 1


# ------------------------------------------------------------------ faults between the claim and the run


def test_an_answer_given_on_the_server_after_the_claim_is_caught_before_the_run(desk, client, monkeypatch) -> None:
    """Studio (or another client) answers between the desk's read and its run: the server would
    accept the desk's resume as a no-op "success"; the re-check right before the run refuses it."""
    thread_id = start_thread(client, "approve", {"action_details": token()})
    item = only_interrupt(desk, thread_id)
    claim = desk.store.claim

    def claim_then_someone_answers(*args, **kwargs):
        result = claim(*args, **kwargs)
        client.runs.wait(thread_id, "approve", command={"resume": {item.id: False}})
        return result

    monkeypatch.setattr(desk.store, "claim", claim_then_someone_answers)
    with pytest.raises(AlreadyDecided, match="outside the desk"):
        desk.resume(thread_id, {item.id: True}, reviewer="alice")

    assert runs_on(client, thread_id) == 2  # the first run and the outside answer: the desk ran nothing
    assert client.threads.get_state(thread_id)["values"]["status"] == "rejected"
    assert desk.store.claim_of(thread_id, item.id) is None  # released: nothing was decided here
    assert len(desk.history(thread_id=thread_id)) == 0


def test_a_run_started_elsewhere_just_before_ours_is_refused_by_the_server(desk, client, monkeypatch) -> None:
    """The re-check passed, then another client starts a run: `multitask_strategy="reject"`
    makes the server refuse ours (409) instead of queueing a second resume behind it."""
    thread_id = start_thread(client, "approve", {"action_details": "slow"})
    item = only_interrupt(desk, thread_id)
    create = desk.store.client.runs.create
    sent: list[dict] = []

    def someone_starts_a_run_first(*args, **kwargs):
        client.runs.create(thread_id, "approve", command={"resume": {item.id: True}})  # busy for ~3 s
        sent.append(kwargs)
        return create(*args, **kwargs)

    monkeypatch.setattr(desk.store.client.runs, "create", someone_starts_a_run_first)
    with pytest.raises(HitlError, match="busy on the server"):
        desk.resume(thread_id, {item.id: False}, reviewer="alice")

    assert sent[0]["multitask_strategy"] == "reject"
    assert desk.backend.run_ids(thread_id) == []  # no run of ours was created
    assert desk.store.claim_of(thread_id, item.id) is None
    client.runs.join(thread_id, client.runs.list(thread_id, limit=1)[0]["run_id"])
    assert runs_on(client, thread_id) == 2
    assert client.threads.get_state(thread_id)["values"]["status"] == "approved"
