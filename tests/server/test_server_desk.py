"""Everything the desk does on the SQL backends, on a real `langgraph dev`, with docs-style graphs:
one-click decide, batch, parallel interrupts by id, subgraphs, tool interrupts, access rules, four
eyes, quorum, my queue, timeouts, webhooks, retry, resolve, the REST API, the diagram, Start a run."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from hitl import policy
from hitl.errors import AlreadyDecided, InvalidAnswer, NotAuthorized, ThreadNotFound
from tests.server.test_server_backend import only_interrupt, runs_on, start_thread, token


def docs_thread(client, graph_id: str = "docs_approve", **metadata) -> str:
    thread = client.threads.create(metadata={"graph_id": graph_id, **metadata})
    client.runs.wait(thread["thread_id"], graph_id, input={"action_details": token()})
    return thread["thread_id"]


def effects(client, thread_id: str) -> list:
    return client.threads.get_state(thread_id)["values"].get("effects") or []


# ------------------------------------------------------------------ one-click, contracts from the code


def test_decide_reads_the_boolean_contract_from_the_graphs_code(source_desk, client) -> None:
    desk = source_desk()
    approved, rejected = docs_thread(client), docs_thread(client)

    assert desk.decide(approved, approve=True, reviewer="alice").status == "completed"
    assert desk.decide(rejected, approve=False, reviewer="alice", comment="no").status == "completed"

    assert effects(client, approved) == ["performed"]
    assert effects(client, rejected) == []  # `if decision:` got False: the cancel path
    assert client.threads.get_state(rejected)["values"]["status"] == "rejected"
    assert list(desk.history(thread_id=rejected)["answer"]) == ["false"]


def test_without_the_graphs_code_a_plain_payload_gets_no_one_click_reject(desk, client) -> None:
    thread_id = docs_thread(client)
    with pytest.raises(InvalidAnswer):
        desk.decide(thread_id, approve=False, reviewer="alice")
    assert runs_on(client, thread_id) == 1  # nothing ran
    assert desk.resume(thread_id, {only_interrupt(desk, thread_id).id: False}, reviewer="alice").status == "completed"
    assert effects(client, thread_id) == []


def test_batch_decides_each_thread_once_and_reports_the_rest(source_desk, client) -> None:
    desk = source_desk()
    ids = [docs_thread(client) for _ in range(3)]
    first = desk.batch(ids, approve=True, reviewer="alice", comment="ok")
    assert [r.result for r in first] == ["completed"] * 3
    assert all(effects(client, t) == ["performed"] for t in ids)

    again = desk.batch(ids, approve=False, reviewer="bob")
    assert {r.result for r in again} == {"already decided"}
    assert all(runs_on(client, t) == 2 for t in ids)


def test_a_batch_never_answers_a_request_nobody_saw(source_desk, client) -> None:
    desk = source_desk()
    thread_id = start_thread(client, "docs_prompts", {})
    shown = only_interrupt(desk, thread_id)
    desk.resume(thread_id, {shown.id: "Ada"}, reviewer="alice")  # it moves on to the next prompt
    (result,) = desk.batch([thread_id], approve=True, reviewer="bob", seen={thread_id: shown.id})
    assert result.result == "changed"
    assert runs_on(client, thread_id) == 2


# ------------------------------------------------------------------ shapes of graphs


def test_parallel_branches_are_resumed_one_interrupt_at_a_time_by_id(source_desk, client) -> None:
    desk = source_desk()
    thread_id = start_thread(client, "docs_parallel", {})
    view = desk.thread(thread_id)
    assert sorted(i.node for i in view.interrupts) == ["left", "right"]
    left = next(i for i in view.interrupts if i.node == "left")
    right = next(i for i in view.interrupts if i.node == "right")
    assert desk.pending(search=thread_id).items[0].kinds == ("confirm",) or desk.pending(search=thread_id).total == 1

    outcome = desk.resume(thread_id, {left.id: " go "}, reviewer="alice")
    assert outcome.status == "waiting"
    assert [i.id for i in outcome.new_interrupts] == [right.id]
    with pytest.raises(AlreadyDecided):
        desk.resume(thread_id, {left.id: "again"}, reviewer="bob")
    assert desk.resume(thread_id, {right.id: "stop"}, reviewer="bob").status == "completed"
    assert sorted(client.threads.get_state(thread_id)["values"]["answers"]) == ["left=go", "right=stop"]


def test_send_fan_out_answers_both_interrupts_in_one_resume(source_desk, client) -> None:
    desk = source_desk()
    thread_id = start_thread(client, "docs_send", {})
    items = desk.thread(thread_id).interrupts
    assert len(items) == 2
    outcome = desk.resume(thread_id, {items[0].id: True, items[1].id: False}, reviewer="alice")
    assert outcome.status == "completed"
    values = client.threads.get_state(thread_id)["values"]
    assert len(values["effects"]) == 1 and len(values["answers"]) == 1


def test_an_interrupt_inside_a_subgraph_is_decided_from_the_outer_thread(source_desk, client) -> None:
    desk = source_desk()
    thread_id = docs_thread(client, "docs_nested")
    (item,) = desk.thread(thread_id).interrupts
    assert item.node == "outer"
    assert desk.decide(thread_id, approve=True, reviewer="alice").status == "completed"
    assert effects(client, thread_id) == ["performed"]


def test_a_tool_that_interrupts_is_answered_with_its_own_format(source_desk, client) -> None:
    desk = source_desk()
    thread_id = start_thread(client, "docs_hotel", {})
    item = only_interrupt(desk, thread_id)
    outcome = desk.resume(thread_id, {item.id: {"type": "edit", "args": {"hotel_name": "Ritz"}}}, reviewer="alice")
    assert outcome.status == "completed"
    messages = client.threads.get_state(thread_id)["values"]["messages"]
    assert "Ritz" in messages[-1]["content"]


# ------------------------------------------------------------------ access rules, four eyes, quorum, my queue

ACCESS = """
[access]
default = "allow"
four_eyes = true

[[access.identities]]
match = "carol@example.com"
roles = ["travel"]

[[access.rules]]
graph = "docs_hotel"
roles = ["travel"]
"""


def test_access_rules_and_my_queue_apply_to_the_servers_threads(source_desk, client) -> None:
    desk = source_desk(ACCESS)
    hotel = start_thread(client, "docs_hotel", {})
    plain = docs_thread(client)
    bob, carol = desk.principal("bob@example.com"), desk.principal("carol@example.com")

    mine = {item.thread_id for item in desk.pending(limit=1000, principal=bob).items}
    assert plain in mine and hotel not in mine
    assert hotel in {item.thread_id for item in desk.pending(limit=1000, principal=carol).items}
    item = only_interrupt(desk, hotel)
    with pytest.raises(NotAuthorized):
        desk.resume(hotel, {item.id: {"type": "accept"}}, principal=bob)
    assert runs_on(client, hotel) == 1
    assert desk.resume(hotel, {item.id: {"type": "accept"}}, principal=carol).status == "completed"


def test_four_eyes_the_requester_may_not_approve_their_own_run(source_desk, client) -> None:
    desk = source_desk(ACCESS)
    thread_id = docs_thread(client, requested_by="alice@example.com")
    alice_queue = {item.thread_id for item in desk.pending(limit=1000, principal=desk.principal("alice@example.com")).items}
    assert thread_id not in alice_queue  # my queue leaves out what I may not decide, as on SQL
    assert thread_id in {item.thread_id for item in desk.pending(limit=1000, principal=desk.principal("bob@example.com")).items}
    with pytest.raises(NotAuthorized):
        desk.decide(thread_id, approve=True, principal=desk.principal("alice@example.com"))
    assert runs_on(client, thread_id) == 1
    assert desk.decide(thread_id, approve=True, principal=desk.principal("bob@example.com")).status == "completed"


QUORUM = """
[access]
default = "allow"

[[access.quorum]]
graph = "docs_approve"
approvals = 2
"""


def test_a_quorum_resumes_the_server_once_with_the_second_approval(source_desk, client) -> None:
    desk = source_desk(QUORUM)
    thread_id = docs_thread(client)
    first = desk.decide(thread_id, approve=True, principal=desk.principal("bob@example.com"))
    assert first.status == "waiting" and first.note
    assert runs_on(client, thread_id) == 1  # a vote runs nothing
    with pytest.raises(NotAuthorized):
        desk.decide(thread_id, approve=True, principal=desk.principal("bob@example.com"))  # the same identity twice
    assert desk.decide(thread_id, approve=True, principal=desk.principal("dave@example.com")).status == "completed"
    assert runs_on(client, thread_id) == 2
    assert effects(client, thread_id) == ["performed"]


# ------------------------------------------------------------------ timeouts, webhooks


def test_a_timeout_rejects_an_overdue_item_on_the_server(source_desk, client) -> None:
    desk = source_desk('[[timeouts]]\ngraph = "docs_approve"\nexpire_after = "60s"\non_expire = "reject"\n')
    thread_id = docs_thread(client)
    desk.refresh()
    assert "0 rejected" in " ".join(policy.sweep(desk, now=time.time() - 3600))  # not yet due
    assert runs_on(client, thread_id) == 1
    done = " ".join(policy.sweep(desk, now=time.time() + 3600))
    assert "0 rejected" not in done, done
    assert client.threads.get_state(thread_id)["values"]["status"] == "rejected"
    assert list(desk.history(thread_id=thread_id)["reviewer"]) == ["system:timeout"]


def test_webhooks_queue_approval_needed_and_decision_made(source_desk, client) -> None:
    from hitl import notify

    desk = source_desk('[[webhooks]]\nurl = "http://127.0.0.1:9/hook"\nsecret = "s"\nevents = ["approval_needed", "decision_made"]\n')
    assert notify.attach(desk)
    thread_id = docs_thread(client)
    desk.refresh()
    desk.decide(thread_id, approve=True, reviewer="alice")
    events = [r[0] for r in desk.store.query("SELECT event_type FROM hitl_outbox WHERE thread_id = ? ORDER BY 1", (thread_id,))]
    assert events == ["approval_needed", "decision_made"]


# ------------------------------------------------------------------ retry, resolve


def test_retry_runs_a_failed_thread_again_and_resolve_closes_it(source_desk, client) -> None:
    desk = source_desk()
    thread_id = start_thread(client, "approve", {"action_details": "boom"})
    assert desk.resume(thread_id, {only_interrupt(desk, thread_id).id: True}, reviewer="alice").status == "failed"
    assert desk.thread(thread_id).status == "failed"

    again = desk.retry(thread_id, reviewer="alice")
    assert again.status == "failed" and "payment provider refused" in (again.error or "")
    assert runs_on(client, thread_id) == 3

    desk.resolve(thread_id, reviewer="alice", reason="refunded by hand")
    desk.refresh()
    assert desk.thread(thread_id).status == "resolved"
    assert thread_id in {row.thread_id for row in desk.threads("resolved", limit=1000)[0]}
    assert list(desk.history(thread_id=thread_id)["action"])[-1] == "resolve"
    assert desk.verify_audit().ok


# ------------------------------------------------------------------ REST API, diagram, Start a run


def test_the_rest_api_lists_reads_and_decides_on_the_server(source_desk, client) -> None:
    from hitl.api import ApiToken, create_app

    desk = source_desk()
    thread_id = docs_thread(client)
    api = TestClient(create_app(desk, tokens=[ApiToken.from_secret("t", "alice@example.com")]))
    auth = {"Authorization": "Bearer t"}
    page = api.get("/pending", params={"search": thread_id}, headers=auth).json()
    assert [item["thread_id"] for item in page["items"]] == [thread_id]
    assert api.get(f"/threads/{thread_id}", headers=auth).json()["interrupts"][0]["node"] == "approval"
    assert api.post("/approve", json={"thread_id": thread_id, "approved": True}, headers=auth).json()["status"] == "completed"
    second = api.post("/approve", json={"thread_id": thread_id, "approved": False}, headers=auth)
    assert second.status_code == 409
    assert runs_on(client, thread_id) == 2
    history = api.get("/history", params={"thread_id": thread_id}, headers=auth).json()
    assert len(history["items"]) == 1


def test_the_diagram_comes_from_the_server(desk) -> None:
    from hitl.ui.context import diagram_of

    nodes, edges = diagram_of(desk.registry.graph("docs_approve").get_graph())
    assert {"approval", "proceed", "cancel"} <= {node.id for node in nodes}
    assert any(edge.conditional for edge in edges)
    assert "docs_nested" in desk.registry.ids()


def test_start_a_run_starts_one_of_the_servers_assistants(desk, client) -> None:
    word = token()
    thread_id = desk.start_run("docs_approve", {"action_details": word}, requested_by="alice@example.com")
    page = desk.pending(search=word)
    assert [item.thread_id for item in page.items] == [thread_id]
    assert page.items[0].graph_id == "docs_approve"
    assert client.threads.get(thread_id)["metadata"]["requested_by"] == "alice@example.com"
    with pytest.raises(InvalidAnswer, match="already exists"):
        desk.start_run("docs_approve", {}, thread_id=thread_id)


# ------------------------------------------------------------------ threads deleted on the server


def test_a_thread_deleted_on_the_server_leaves_the_inbox(desk, client) -> None:
    kept, deleted = docs_thread(client), docs_thread(client)
    assert {kept, deleted} <= {item.thread_id for item in desk.pending(limit=1000).items}
    client.threads.delete(deleted)
    # `updated_at` never reports a deletion: the reconciliation does (every RECONCILE_EVERY
    # refreshes; here asked for directly, as the next due refresh would).
    assert desk.store.reconcile() == [deleted]
    listed = {item.thread_id for item in desk.pending(limit=1000).items}
    assert kept in listed and deleted not in listed
    assert desk.pending(search=deleted).total == 0


def test_a_deleted_thread_read_fresh_is_dropped_and_says_so(desk, client) -> None:
    thread_id = docs_thread(client)
    assert thread_id in {item.thread_id for item in desk.pending(limit=1000).items}
    client.threads.delete(thread_id)
    desk.refresh(thread_ids=[thread_id])
    assert thread_id not in {item.thread_id for item in desk.pending(limit=1000).items}
    with pytest.raises(ThreadNotFound, match=thread_id):
        desk.thread(thread_id)
