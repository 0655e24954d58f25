"""Four eyes holds for the whole life of a thread: its requester is the thread's, pinned by the desk.

Issue 13, item 1: the requester (`requested_by`) used to be read from the thread's latest
checkpoint, and the desk's own resumes wrote only `graph_id` into the metadata of the runs
they started, so after the first decision the requester was gone and could approve the
next stage of their own run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hitl import Inbox, NotAuthorized
from hitl.access import thread_requesters  # noqa
from hitl.demo.inputs import two_stage_input

BOB = "bob@example.com"
ALICE = "alice@example.com"
POLICY = {"access": {"four_eyes": True}}


@pytest.fixture
def desk(db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs_file), create=True, policy=POLICY)
    yield inbox
    inbox.close()


def stage_of(desk: Inbox, thread_id: str) -> str:
    [item] = desk.thread(thread_id).interrupts
    return item.value["stage"]


def latest_metadata(desk: Inbox, thread_id: str) -> dict:
    return desk.store.latest_checkpoint(thread_id)[1]


def two_stage_run(desk: Inbox, thread_id: str = "report") -> str:
    return desk.start_run("two_stage", two_stage_input(0), thread_id=thread_id, requested_by=BOB)


def test_the_requester_cannot_approve_any_stage_of_their_own_run(desk: Inbox) -> None:
    thread_id = two_stage_run(desk)
    bob, alice = desk.principal(BOB), desk.principal(ALICE)
    with pytest.raises(NotAuthorized, match="Four eyes: bob@example.com started this run"):
        desk.decide(thread_id, approve=True, principal=bob)
    assert desk.decide(thread_id, approve=True, principal=alice).status == "waiting"
    assert stage_of(desk, thread_id) == "report"
    # The desk's resume carried the requester into the new checkpoints' metadata...
    assert latest_metadata(desk, thread_id)["requested_by"] == BOB
    # ...and the second stage is still bob's own request.
    with pytest.raises(NotAuthorized, match="Four eyes: bob@example.com started this run"):
        desk.decide(thread_id, approve=True, principal=bob)
    [item] = desk.review_items(thread_id)
    assert item.requested_by == BOB
    assert desk.pending(principal=bob).total == 0  # not in bob's queue either
    assert desk.pending(principal=alice).total == 1
    assert desk.decide(thread_id, approve=True, principal=alice).status == "completed"


def test_the_requester_is_pinned_when_first_seen_and_later_metadata_cannot_change_it(desk: Inbox) -> None:
    thread_id = two_stage_run(desk)
    graph = desk.graph("two_stage")
    [item] = desk.thread(thread_id).interrupts
    assert thread_requesters(desk.store, [thread_id]) == {thread_id: BOB}  # first seen: pinned
    # An agent process (not the desk) resumes the thread with other metadata: a different
    # requester, or none at all, in every new checkpoint.
    from langgraph.types import Command

    graph.invoke(
        Command(resume={item.id: {"approved": True}}),
        {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": "two_stage", "requested_by": ALICE}},
    )
    assert latest_metadata(desk, thread_id)["requested_by"] == ALICE
    assert thread_requesters(desk.store, [thread_id]) == {thread_id: BOB}
    with pytest.raises(NotAuthorized, match="Four eyes: bob@example.com started this run"):
        desk.decide(thread_id, approve=True, principal=desk.principal(BOB))
    assert desk.decide(thread_id, approve=True, principal=desk.principal(ALICE)).status == "completed"


def test_a_thread_resumed_without_its_requester_before_the_desk_saw_it_keeps_its_first_requester(desk: Inbox) -> None:
    # The checkpoints written by a desk without this fix: the first one names bob, the
    # latest does not. The desk reads the requester from the thread's first checkpoint.
    thread_id = two_stage_run(desk)
    [item] = desk.graph("two_stage").get_state({"configurable": {"thread_id": thread_id}}).interrupts
    from langgraph.types import Command

    desk.graph("two_stage").invoke(
        Command(resume={item.id: {"approved": True}}),
        {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": "two_stage"}},
    )
    assert "requested_by" not in latest_metadata(desk, thread_id)
    with pytest.raises(NotAuthorized, match="Four eyes"):
        desk.decide(thread_id, approve=True, principal=desk.principal(BOB))
    assert desk.pending(principal=desk.principal(BOB)).total == 0


def test_batch_and_reject_keep_the_requester(desk: Inbox) -> None:
    first, second = two_stage_run(desk, "r1"), two_stage_run(desk, "r2")
    alice, bob = desk.principal(ALICE), desk.principal(BOB)
    assert [r.result for r in desk.batch([first, second], approve=True, principal=alice)] == ["waiting", "waiting"]
    for thread_id in (first, second):
        assert latest_metadata(desk, thread_id)["requested_by"] == BOB
    assert [r.result for r in desk.batch([first, second], approve=True, principal=bob)] == ["not authorized"] * 2
    # A requester may still withdraw their own run at a later stage.
    assert desk.decide(first, approve=False, comment="no longer needed", principal=bob).status == "completed"


def test_resolve_and_local_mode_resumes_carry_the_requester(desk: Inbox) -> None:
    thread_id = two_stage_run(desk)
    desk.decide(thread_id, approve=True, reviewer="carol")  # local mode: no principal, no checks
    assert latest_metadata(desk, thread_id)["requested_by"] == BOB
    desk.resolve(thread_id, reviewer="carol", reason="done by hand")
    assert latest_metadata(desk, thread_id)["requested_by"] == BOB


def test_rest_approve_and_resume_keep_four_eyes_at_the_second_stage(desk: Inbox) -> None:
    api = pytest.importorskip("hitl.api")
    from fastapi.testclient import TestClient

    tokens = [api.ApiToken.from_secret("t-bob", BOB), api.ApiToken.from_secret("t-alice", ALICE)]
    thread_id = two_stage_run(desk)
    with TestClient(api.create_app(desk, tokens=tokens)) as client:
        def call(token: str, path: str, body: dict):
            return client.post(path, headers={"Authorization": f"Bearer {token}"}, json=body)

        refused = call("t-bob", "/approve", {"thread_id": thread_id, "approved": True})
        assert refused.status_code == 403 and "Four eyes" in refused.json()["message"], refused.text
        assert call("t-alice", "/approve", {"thread_id": thread_id, "approved": True}).json()["status"] == "waiting"
        [item] = desk.thread(thread_id).interrupts
        assert item.value["stage"] == "report"
        refused = call("t-bob", "/approve", {"thread_id": thread_id, "approved": True})
        assert refused.status_code == 403 and "Four eyes" in refused.json()["message"], refused.text
        refused = call("t-bob", f"/threads/{thread_id}/resume", {"answers": {item.id: {"approved": True}}})
        assert refused.status_code == 403 and "Four eyes" in refused.json()["message"], refused.text
        done = call("t-alice", f"/threads/{thread_id}/resume", {"answers": {item.id: {"approved": True}}})
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text


def test_an_invisible_character_in_the_requester_does_not_make_them_someone_else(desk: Inbox) -> None:
    thread_id = desk.start_run("two_stage", two_stage_input(0), thread_id="sneaky", requested_by="Bob\u200b@example.com")
    bob = desk.principal(BOB)
    with pytest.raises(NotAuthorized, match="Four eyes"):
        desk.decide(thread_id, approve=True, principal=bob)
    assert desk.pending(principal=bob).total == 0
    assert desk.pending(principal=desk.principal(ALICE)).total == 1
