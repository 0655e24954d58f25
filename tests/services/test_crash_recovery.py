"""Crash safety: a desk killed with SIGKILL between claim and commit loses nothing and runs nothing twice.

A child desk process (spawned, its own `Inbox`) answers an interrupt and is killed at a
chosen point. Its claim stays `claimed` while its lease runs (a live desk renews the lease
while the graph runs, so only a dead one goes stale); after the lease the claim is stale and
is settled from the checkpointer's truth: resume committed → closed as `recovered`, never
re-run; still pending while its desk was running the graph → outcome `unknown` (the node may
have run: an explicit retry or resolve, never a plain new answer); still pending and the
graph never ran for it → `abandoned`, answerable again (or resubmitted with the stored
answer). The resumed node counts its side effect in a table. tests/services/test_outcome_unknown.py
kills the desk at every step of a resume.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from hitl import AlreadyDecided, Inbox
from hitl.outcome import OutcomeUnknown
from hitl.services.recovery import recover_stale_claims
from tests.conftest import TEST_GRAPHS, start
from tests.fixture_faults import ENTERED_ENV, GATE_ENV, GRAPH_ID, SIDE_EFFECTS_ENV, fault_child, side_effect_count

LEASE = 2.0
"""Claim lease for these tests: long enough to check the claim is held right after the kill."""


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """SQLite (and PostgreSQL when HITL_TEST_POSTGRES_URL is set), a graphs file, the side-effect table."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    monkeypatch.delenv(ENTERED_ENV, raising=False)
    monkeypatch.delenv(GATE_ENV, raising=False)
    side_effects = tmp_path / "side_effects.db"
    monkeypatch.setenv(SIDE_EFFECTS_ENV, str(side_effects))
    graphs = tmp_path / "langgraph.json"
    graphs.write_text(
        json.dumps({"graphs": {**TEST_GRAPHS, GRAPH_ID: f"{Path(__file__).resolve().parent.parent / 'fixture_faults.py'}:charge"}})
    )
    return {
        "url": db_url,
        "graphs": str(graphs),
        "side_effects": str(side_effects),
        "tmp": str(tmp_path),
    }


@pytest.fixture
def desk(env: dict[str, str]):
    with Inbox.open(database_url=env["url"], graphs_path=env["graphs"], create=True, claim_lease_seconds=LEASE) as inbox:
        yield inbox


def _kill_desk_at(env: dict[str, str], thread_id: str, interrupt_id: str, stage: str) -> None:
    """Start a desk process that answers, wait until it reaches `stage`, then SIGKILL it."""
    context = multiprocessing.get_context("spawn")
    marker = Path(env["tmp"]) / f"reached-{stage}"
    child = context.Process(
        target=fault_child,
        args=(env["url"], env["graphs"], thread_id, interrupt_id, LEASE, str(marker), stage),
        daemon=True,
    )
    child.start()
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.is_alive(), f"the desk process exited (code {child.exitcode}) before reaching {stage}"
        assert time.monotonic() < deadline, f"the desk process never reached {stage}"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    assert child.exitcode == -signal.SIGKILL


def _wait_until_stale(inbox: Inbox) -> None:
    deadline = time.monotonic() + 10 * LEASE
    while not inbox.store.stale_claims():
        assert time.monotonic() < deadline, "the dead desk's claim never went stale"
        time.sleep(0.05)


def _interrupt_id(inbox: Inbox, thread_id: str) -> str:
    return inbox.store.pending_interrupts([thread_id])[thread_id][0].id


def test_desk_killed_in_the_node_leaves_a_stale_claim_that_recovery_records_as_outcome_unknown_and_only_an_explicit_retry_runs(
    env: dict[str, str], desk: Inbox
) -> None:
    thread_id = start(desk, GRAPH_ID, {"topic": "INV-1"}, thread_id="killed-in-node")
    interrupt_id = _interrupt_id(desk, thread_id)
    _kill_desk_at(env, thread_id, interrupt_id, "in_node")

    claim = desk.store.claim_of(thread_id, interrupt_id)
    assert (claim["state"], claim["reviewer"], claim["answer"]) == ("claimed", "crashed-desk", {"approved": True})
    assert side_effect_count(env["side_effects"], thread_id) == 0
    # Within the lease the dead desk still holds it: nobody else may run it yet.
    with pytest.raises(AlreadyDecided, match="already decided by crashed-desk"):
        desk.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="bob")
    assert recover_stale_claims(desk) == []

    _wait_until_stale(desk)
    # The node was running when the desk died: whether it did its work, nobody can tell.
    assert recover_stale_claims(desk) == [(thread_id, interrupt_id, "unknown")]
    assert recover_stale_claims(desk) == []
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "unknown"
    with pytest.raises(OutcomeUnknown, match="crashed-desk's decision"):
        desk.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="bob")
    assert side_effect_count(env["side_effects"], thread_id) == 0

    outcome = desk.retry(thread_id, reviewer="bob", accept_repeat=True)
    assert outcome.status == "completed"
    assert side_effect_count(env["side_effects"], thread_id) == 1
    with pytest.raises(AlreadyDecided, match="already decided by bob"):
        desk.resume(thread_id, {interrupt_id: {"approved": False}}, reviewer="carol")
    history = desk.history(thread_id=thread_id)
    assert list(zip(history["action"], history["reviewer"], history["outcome"])) == [
        ("recovery", "crashed-desk", "unknown"),
        ("retry", "bob", "completed"),
    ]
    assert json.loads(history.iloc[0]["answer"]) == {"approved": True}
    assert json.loads(history.iloc[1]["answer"]) == {"approved": True}  # the original decision, run again
    assert desk.verify_audit().ok


def test_a_new_answer_after_the_lease_does_not_take_a_running_claim_over(env: dict[str, str], desk: Inbox) -> None:
    # Before: bob's answer took the dead desk's claim over and ran the node a second time.
    thread_id = start(desk, GRAPH_ID, {"topic": "INV-2"}, thread_id="taken-over")
    interrupt_id = _interrupt_id(desk, thread_id)
    _kill_desk_at(env, thread_id, interrupt_id, "after_node")
    _wait_until_stale(desk)

    with pytest.raises(OutcomeUnknown, match="crashed-desk's decision"):
        desk.resume(thread_id, {interrupt_id: {"approved": False, "reason": "duplicate"}}, reviewer="bob")
    assert side_effect_count(env["side_effects"], thread_id) == 1
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "unknown"
    assert recover_stale_claims(desk) == []
    history = desk.history(thread_id=thread_id)
    assert list(zip(history["action"], history["reviewer"], history["outcome"])) == [("recovery", "crashed-desk", "unknown")]
    assert "charge may have run" in history.iloc[0]["comment"]

    desk.resolve(thread_id, reviewer="bob", reason="the processor shows the charge")
    assert desk.thread(thread_id).status == "resolved"
    assert side_effect_count(env["side_effects"], thread_id) == 1


def test_a_claim_whose_graph_never_ran_is_abandoned_and_recovery_can_resubmit_it_exactly_once(
    env: dict[str, str], desk: Inbox
) -> None:
    never_ran = start(desk, GRAPH_ID, {"topic": "INV-3"}, thread_id="resubmitted")
    ran = start(desk, GRAPH_ID, {"topic": "INV-5"}, thread_id="not-resubmitted")
    first = _interrupt_id(desk, never_ran)
    # A claim taken without running the graph (a desk that died between its claim and its run
    # is indistinguishable from one that died in the node, so only a bare claim shows this).
    desk.store.claim(never_ran, [first], reviewer="crashed-desk", answers={first: {"approved": True}}, lease_seconds=LEASE,
                     still_pending=lambda _: True)  # fmt: skip
    _kill_desk_at(env, ran, _interrupt_id(desk, ran), "in_node")
    _wait_until_stale(desk)
    while len(desk.store.stale_claims()) < 2:
        time.sleep(0.05)

    assert sorted(recover_stale_claims(desk, resubmit=True)) == sorted(
        [(never_ran, first, "resubmitted: completed"), (ran, _interrupt_id(desk, ran), "unknown")]
    )
    assert recover_stale_claims(desk, resubmit=True) == []
    assert side_effect_count(env["side_effects"], never_ran) == 1
    assert side_effect_count(env["side_effects"], ran) == 0  # never resubmitted: it needs a human
    view = desk.thread(never_ran)
    assert view.status == "completed" and view.values["log"] == ["charged:True"]
    history = desk.history(thread_id=never_ran)
    assert list(zip(history["action"], history["reviewer"], history["outcome"])) == [
        ("recovery", "crashed-desk", "abandoned"),
        ("recovery", "crashed-desk", "completed"),
    ]


def test_desk_killed_after_the_resume_committed_is_recovered_not_run_again(env: dict[str, str], desk: Inbox) -> None:
    thread_id = start(desk, GRAPH_ID, {"topic": "INV-4"}, thread_id="killed-before-close")
    interrupt_id = _interrupt_id(desk, thread_id)
    _kill_desk_at(env, thread_id, interrupt_id, "after_checkpoint")

    # The graph finished (side effect done, checkpoint written); the claim was never closed
    # and no audit row was written.
    assert side_effect_count(env["side_effects"], thread_id) == 1
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "claimed"
    assert desk.thread(thread_id).status == "completed"
    assert desk.history(thread_id=thread_id).empty

    _wait_until_stale(desk)
    # A late answer is refused from the checkpointer's truth, even before recovery ran.
    with pytest.raises(AlreadyDecided, match="crashed-desk"):
        desk.resume(thread_id, {interrupt_id: {"approved": False}}, reviewer="bob")
    assert recover_stale_claims(desk, resubmit=True) == [(thread_id, interrupt_id, "recovered")]
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "recovered"
    with pytest.raises(AlreadyDecided, match="crashed-desk"):
        desk.resume(thread_id, {interrupt_id: {"approved": False}}, reviewer="bob")
    assert side_effect_count(env["side_effects"], thread_id) == 1
    history = desk.history(thread_id=thread_id)
    assert list(zip(history["action"], history["reviewer"], history["outcome"])) == [("recovery", "crashed-desk", "recovered")]
    assert json.loads(history.iloc[0]["answer"]) == {"approved": True}


def test_a_live_desk_renews_its_lease_so_a_resume_outliving_it_is_never_taken_over(env: dict[str, str]) -> None:
    # `slow` sleeps 3 s after the interrupt returns; the lease is 0.6 s. Without renewal a
    # second desk would see a stale claim mid-run and run the node again.
    with (
        Inbox.open(database_url=env["url"], graphs_path=env["graphs"], create=True, claim_lease_seconds=0.6) as first,
        Inbox.open(database_url=env["url"], graphs_path=env["graphs"], claim_lease_seconds=0.6) as second,
    ):
        thread_id = start(first, "slow")
        interrupt_id = _interrupt_id(first, thread_id)
        outcomes = []
        runner = threading.Thread(target=lambda: outcomes.append(first.resume(thread_id, {interrupt_id: True}, reviewer="alice")))
        runner.start()
        time.sleep(1.5)
        assert second.store.stale_claims() == []
        assert recover_stale_claims(second) == []
        with pytest.raises(AlreadyDecided, match="already decided by alice"):
            second.resume(thread_id, {interrupt_id: False}, reviewer="bob")
        runner.join(10)
        assert outcomes[0].status == "completed"
        assert first.thread(thread_id).values["log"] == ["slow:True"]
        assert first.store.claim_of(thread_id, interrupt_id)["state"] == "done"
