"""At most once per decision, whatever breaks: a resume that may have run a node is never offered again.

The invariant, over a fault at every step of a resume (`tests.fixture_faults.STAGES`), two
ways (the step raises in a desk that lives on; the desk process is SIGKILLed there): after
the fault, the claim lease and recovery, a second reviewer's plain approval, the counted
side effect of the resumed node happened at most once, and the audit log ends with one row
that says what happened (completed or recovered: it ran once and was saved; unknown: it may
have run and the thread waits for an explicit retry or resolve; failed: it did not run).

Then: the two ways out of outcome unknown (retry with a warning, resolve), the REST API's
409 body, batch results, and the single resume's one transaction (a real failing audit insert
leaves its claim open). Real faults (another process holding SQLite's write lock, a restarted
PostgreSQL server) are in tests/services/test_real_faults.py.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from hitl import AlreadyDecided, Inbox, InvalidAnswer, StoreError
from hitl.outcome import OutcomeUnknown
from hitl import runner
from hitl.services.recovery import recover_stale_claims
from tests.conftest import start
from tests.fixture_faults import (
    ENTERED_ENV,
    GATE_ENV,
    GRAPH_ID,
    RAISE_IN_NODE_ENV,
    SIDE_EFFECTS_ENV,
    STAGES,
    backend_error,
    fault_child,
    inject,
    side_effect_count,
)

LEASE = 2.0
"""Claim lease: short, so a claim left open goes stale within the test."""
APPROVE = {"approved": True}


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A database (SQLite; PostgreSQL too with HITL_TEST_POSTGRES_URL), the `charge` graph, its side-effect table."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    for name in (ENTERED_ENV, GATE_ENV, RAISE_IN_NODE_ENV):
        monkeypatch.delenv(name, raising=False)
    side_effects = tmp_path / "side_effects.db"
    monkeypatch.setenv(SIDE_EFFECTS_ENV, str(side_effects))
    graphs = tmp_path / "langgraph.json"
    graphs.write_text(json.dumps({"graphs": {GRAPH_ID: f"{Path(__file__).resolve().parent.parent / 'fixture_faults.py'}:charge"}}))
    return {"url": db_url, "graphs": str(graphs), "side_effects": str(side_effects), "tmp": str(tmp_path)}


@pytest.fixture
def desk(env: dict[str, str]):
    with Inbox.open(database_url=env["url"], graphs_path=env["graphs"], create=True, claim_lease_seconds=LEASE) as inbox:
        yield inbox


def _paused(desk: Inbox, name: str) -> tuple[str, str]:
    thread_id = start(desk, GRAPH_ID, {"topic": name}, thread_id=name)
    return thread_id, desk.store.pending_interrupts([thread_id])[thread_id][0].id


def _trail(desk: Inbox, thread_id: str) -> list[tuple[str, str, str]]:
    return [(row["action"], row["reviewer"], row["outcome"]) for row in desk.store.audit_rows(thread_id=thread_id)]


def _wait_until_stale(desk: Inbox, thread_id: str) -> None:
    deadline = time.monotonic() + 10 * LEASE
    while not desk.store.stale_claims([thread_id]):
        assert time.monotonic() < deadline, "the claim never went stale"
        time.sleep(0.05)


def _plain_approval(desk: Inbox, thread_id: str, interrupt_id: str) -> str:
    """What a second reviewer's plain approval gets: the outcome's status, or which refusal."""
    try:
        return desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="bob").status
    except OutcomeUnknown:
        return "outcome unknown"
    except AlreadyDecided:
        return "already decided"
    except InvalidAnswer:
        return "invalid"


def _settle_and_approve_again(desk: Inbox, thread_id: str, interrupt_id: str) -> str:
    """After the fault: wait out an open claim's lease, recover, then bob approves plainly."""
    claim = desk.store.claim_of(thread_id, interrupt_id)
    if claim is not None and claim["state"] == "claimed":
        _wait_until_stale(desk, thread_id)
    recover_stale_claims(desk)
    return _plain_approval(desk, thread_id, interrupt_id)


def _check_invariant(desk: Inbox, env: dict[str, str], thread_id: str, interrupt_id: str) -> None:
    """At most one side effect, and a last audit row that tells the truth about it."""
    effects = side_effect_count(env["side_effects"], thread_id)
    assert effects <= 1, f"the node ran {effects} times for one decision"
    rows = desk.store.audit_rows(thread_id=thread_id)
    assert rows, "the audit log says nothing about the decision"
    last = rows[-1]["outcome"]
    view = desk.thread(thread_id)
    claim = desk.store.claim_of(thread_id, interrupt_id)
    if last in ("completed", "recovered"):
        assert (effects, view.status, claim["state"]) == (1, "completed", "done" if last == "completed" else "recovered")
    elif last == "unknown":
        assert view.status != "completed" and claim["state"] == "unknown"
        assert desk.outcome_unknown(thread_id) is not None
    elif last == "failed":
        assert effects == 0
    else:
        pytest.fail(f"the last audit row says {last!r}")
    assert desk.verify_audit().ok


RAISED = {
    # stage: (what alice's resume gets, bob's plain approval, the audit trail, side effects)
    "before_claim": ("StoreError", "completed", [("decision", "bob", "completed")], 1),
    "after_claim": ("failed", "completed", [("decision", "alice", "failed"), ("decision", "bob", "completed")], 1),
    "in_node": ("failed", "invalid", [("decision", "alice", "failed")], 0),
    "after_node": ("unknown", "outcome unknown", [("decision", "alice", "unknown")], 1),
    "after_checkpoint": ("unrecorded", "already decided", [("recovery", "alice", "recovered")], 1),
    "after_close": ("unrecorded", "already decided", [("recovery", "alice", "recovered")], 1),
}
"""A fault raised at each step, in a desk that lives on. Before any node started (the claim
failed, or the worker lost the database first) the decision is answerable again; a node of
its own raising is `failed` as LangGraph recorded it (retry runs it with the same answer);
a node that ran without its writes being saved is outcome unknown; a run that was saved
but not recorded is recovered from the checkpointer after the lease."""


@pytest.mark.parametrize("stage", STAGES)
def test_a_fault_raised_at_any_step_runs_the_node_at_most_once_and_the_audit_log_says_what_happened(
    stage: str, env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id, interrupt_id = _paused(desk, f"raised-{stage}")
    errors = {
        "before_claim": StoreError("The database stayed locked (injected). Nothing was changed."),
        "after_claim": ConnectionError("the worker lost the database before the graph started (injected)"),
        "after_node": backend_error(desk, "the node's writes"),
        "after_checkpoint": StoreError("the database went away before the claim was closed (injected)"),
        "after_close": StoreError("the audit insert failed (injected)"),
    }

    with monkeypatch.context() as patch:  # the fault lasts for alice's resume only
        inject(desk, stage, _raiser(errors.get(stage)), patch=patch)
        if stage == "in_node":
            patch.setenv(RAISE_IN_NODE_ENV, "1")
        try:
            first = desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="alice").status
        except OutcomeUnknown as exc:
            first = exc.outcome.state
            assert (exc.outcome.reviewer, exc.outcome.answers) == ("alice", {interrupt_id: APPROVE})
            assert "nothing was changed" not in str(exc).lower()
        except StoreError:
            first = "StoreError"
    if stage in ("after_checkpoint", "after_close"):
        # One transaction: the claim was not closed without its audit row.
        assert (desk.store.claim_of(thread_id, interrupt_id)["state"], _trail(desk, thread_id)) == ("claimed", [])

    second = _settle_and_approve_again(desk, thread_id, interrupt_id)

    expected_first, expected_second, trail, effects = RAISED[stage]
    assert (first, second) == (expected_first, expected_second)
    assert _trail(desk, thread_id) == trail
    assert side_effect_count(env["side_effects"], thread_id) == effects
    _check_invariant(desk, env, thread_id, interrupt_id)


KILLED = {
    # stage: (bob's plain approval after recovery, the audit trail, side effects)
    "before_claim": ("completed", [("decision", "bob", "completed")], 1),
    "after_claim": ("outcome unknown", [("recovery", "crashed-desk", "unknown")], 0),
    "in_node": ("outcome unknown", [("recovery", "crashed-desk", "unknown")], 0),
    "after_node": ("outcome unknown", [("recovery", "crashed-desk", "unknown")], 1),
    "after_checkpoint": ("already decided", [("recovery", "crashed-desk", "recovered")], 1),
    "after_close": ("already decided", [("recovery", "crashed-desk", "recovered")], 1),
}
"""A desk killed at each step. Once its claim was taken to run the graph, a pending interrupt
cannot tell whether the node ran: outcome unknown (the first two did not run it, the third
did: the desk cannot know which); a saved run is recovered; a claim closed without its
audit row cannot happen (one transaction: the kill rolls both back)."""


@pytest.mark.parametrize("stage", STAGES)
def test_a_desk_killed_at_any_step_runs_the_node_at_most_once_and_the_audit_log_says_what_happened(
    stage: str, env: dict[str, str], desk: Inbox
) -> None:
    thread_id, interrupt_id = _paused(desk, f"killed-{stage}")
    _kill_desk_at(env, thread_id, interrupt_id, stage)

    second = _settle_and_approve_again(desk, thread_id, interrupt_id)

    expected_second, trail, effects = KILLED[stage]
    assert second == expected_second
    assert _trail(desk, thread_id) == trail
    assert side_effect_count(env["side_effects"], thread_id) == effects
    _check_invariant(desk, env, thread_id, interrupt_id)


def _kill_desk_at(env: dict[str, str], thread_id: str, interrupt_id: str, stage: str) -> None:
    """Start a desk process that answers, wait until it reaches `stage`, then SIGKILL it."""
    context = multiprocessing.get_context("spawn")
    marker = Path(env["tmp"]) / f"reached-{stage}"
    child = context.Process(
        target=fault_child, args=(env["url"], env["graphs"], thread_id, interrupt_id, LEASE, str(marker), stage), daemon=True
    )
    child.start()
    deadline = time.monotonic() + 90
    while not marker.exists():
        assert child.is_alive(), f"the desk process exited (code {child.exitcode}) before reaching {stage}"
        assert time.monotonic() < deadline, f"the desk process never reached {stage}"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    assert child.exitcode == -signal.SIGKILL


# --------------------------------------------------------------------------- the ways out


def _raiser(error: BaseException | None):
    def fail(_: str) -> None:
        raise error  # type: ignore[misc]

    return fail


def _unknown_after_the_node_ran(desk: Inbox, monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[str, str]:
    """A thread whose resume ran the node, then could not save it: outcome unknown."""
    thread_id, interrupt_id = _paused(desk, name)
    with monkeypatch.context() as patch:

        inject(desk, "after_node", _raiser(backend_error(desk, "the node's writes")), patch=patch)
        with pytest.raises(OutcomeUnknown, match=r"Outcome unknown for alice's decision .* node charge may have run"):
            desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="alice", comment="looks fine")
    return thread_id, interrupt_id


def test_outcome_unknown_names_the_original_decision_and_is_refused_as_a_plain_decision(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id, interrupt_id = _unknown_after_the_node_ran(desk, monkeypatch, "refused")

    unknown = desk.outcome_unknown(thread_id)
    assert unknown is not None
    assert (unknown.state, unknown.reviewer, unknown.answers, unknown.may_run_twice) == (
        "unknown", "alice", {interrupt_id: APPROVE}, ("charge",)
    )
    assert "database" in unknown.error or "server closed" in unknown.error
    [row] = desk.store.audit_rows(thread_id=thread_id)
    assert (row["outcome"], row["reviewer"], row["comment"], json.loads(row["answer"])) == ("unknown", "alice", "looks fine", APPROVE)
    assert row["error"].startswith("outcome unknown: charge started")
    assert desk.thread(thread_id).interrupts[0].id == interrupt_id  # the checkpointer still shows it waiting

    with pytest.raises(OutcomeUnknown, match="alice's decision") as refused:
        desk.resume(thread_id, {interrupt_id: {"approved": False}}, reviewer="bob")
    assert refused.value.outcome.answers == {interrupt_id: APPROVE}
    with pytest.raises(OutcomeUnknown):
        desk.decide(thread_id, approve=True, reviewer="carol")
    [batch] = desk.batch([thread_id], approve=True, reviewer="carol")
    assert batch.result == "outcome unknown" and "alice" in batch.message
    assert side_effect_count(env["side_effects"], thread_id) == 1
    assert len(desk.store.audit_rows(thread_id=thread_id)) == 1  # refusals change nothing


def test_an_explicit_retry_needs_the_warning_accepted_then_runs_the_original_answer_once_more(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id, interrupt_id = _unknown_after_the_node_ran(desk, monkeypatch, "retried")

    with pytest.raises(InvalidAnswer, match=r"Retrying runs node charge again .* may happen twice") as refused:
        desk.retry(thread_id, reviewer="bob")
    assert "accept_repeat" in refused.value.field_errors
    assert side_effect_count(env["side_effects"], thread_id) == 1

    outcome = desk.retry(thread_id, reviewer="bob", comment="checked the processor: no charge", accept_repeat=True)
    assert outcome.status == "completed"
    assert side_effect_count(env["side_effects"], thread_id) == 2  # the one repeat bob accepted
    assert desk.thread(thread_id).values["log"] == ["charged:True"]
    assert desk.outcome_unknown(thread_id) is None
    assert _trail(desk, thread_id) == [("decision", "alice", "unknown"), ("retry", "bob", "completed")]
    retry_row = desk.store.audit_rows(thread_id=thread_id)[-1]
    assert json.loads(retry_row["answer"]) == APPROVE
    assert "checked the processor" in retry_row["comment"] and "node charge may run a second time" in retry_row["comment"]
    with pytest.raises(AlreadyDecided, match="bob"):
        desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="carol")
    assert desk.verify_audit().ok


def test_resolve_closes_an_unknown_outcome_without_running_anything(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id, interrupt_id = _unknown_after_the_node_ran(desk, monkeypatch, "resolved")

    desk.resolve(thread_id, reviewer="bob", reason="the charge went through (processor ref 991)")
    assert desk.thread(thread_id).status == "resolved"
    assert desk.outcome_unknown(thread_id) is None
    assert side_effect_count(env["side_effects"], thread_id) == 1
    assert _trail(desk, thread_id) == [("decision", "alice", "unknown"), ("resolve", "bob", "resolved")]
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "done"
    with pytest.raises(AlreadyDecided, match="bob"):
        desk.decide(thread_id, approve=True, reviewer="carol")
    with pytest.raises(InvalidAnswer, match="no failed task"):
        desk.retry(thread_id, reviewer="carol", accept_repeat=True)


def test_a_retry_that_faults_again_stays_outcome_unknown(env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    thread_id, _ = _unknown_after_the_node_ran(desk, monkeypatch, "retried-twice")
    with monkeypatch.context() as patch:
        inject(desk, "after_node", _raiser(backend_error(desk, "again")), patch=patch)
        with pytest.raises(OutcomeUnknown, match="bob's decision"):
            desk.retry(thread_id, reviewer="bob", accept_repeat=True)
    assert desk.outcome_unknown(thread_id).reviewer == "bob"
    assert _trail(desk, thread_id) == [("decision", "alice", "unknown"), ("retry", "bob", "unknown")]
    assert side_effect_count(env["side_effects"], thread_id) == 2


def _fail_after_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph runs to its end and is saved; then its invoke raises (a connection reset
    while the run wound down, as seen on a loaded CI machine)."""
    original = runner.invoke

    def invoke_then_fail(*args: object, **kwargs: object) -> object:
        original(*args, **kwargs)
        raise ConnectionError("connection reset after the run (injected)")

    monkeypatch.setattr(runner, "invoke", invoke_then_fail)


def test_a_run_saved_to_its_end_that_raises_afterwards_is_completed_not_outcome_unknown(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread_id, interrupt_id = _paused(desk, "ended-then-raised")
    _fail_after_the_run(monkeypatch)
    outcome = desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="alice")
    assert outcome.status == "completed" and "connection reset after the run" in outcome.error
    assert _trail(desk, thread_id) == [("decision", "alice", "completed")]
    assert desk.outcome_unknown(thread_id) is None
    with pytest.raises(AlreadyDecided, match="already decided by alice"):
        desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="bob")
    assert side_effect_count(env["side_effects"], thread_id) == 1


def test_a_batch_run_saved_to_its_end_that_raises_afterwards_is_completed(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = [_paused(desk, f"batch-ended-{n}")[0] for n in range(3)]
    _fail_after_the_run(monkeypatch)
    results = desk.batch(threads, approve=True, reviewer="alice")
    assert [r.result for r in results] == ["completed"] * 3
    assert [_trail(desk, t) for t in threads] == [[("batch", "alice", "completed")]] * 3
    assert [side_effect_count(env["side_effects"], t) for t in threads] == [1, 1, 1]


def test_a_run_that_raises_short_of_its_end_stays_outcome_unknown(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The node ran, its writes were refused: the latest checkpoint is still the paused one.
    thread_id, interrupt_id = _paused(desk, "short-of-end")
    with monkeypatch.context() as patch:
        inject(desk, "after_node", _raiser(backend_error(desk, "the node's writes")), patch=patch)
        with pytest.raises(OutcomeUnknown):
            desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="alice")
    assert _trail(desk, thread_id) == [("decision", "alice", "unknown")]


def test_a_dead_desks_running_claim_is_refused_as_outcome_unknown_not_taken_over(env: dict[str, str], desk: Inbox) -> None:
    # Before: after the lease, a new answer took the dead desk's claim over and ran the node again.
    thread_id, interrupt_id = _paused(desk, "taken-over")
    _kill_desk_at(env, thread_id, interrupt_id, "after_node")
    _wait_until_stale(desk, thread_id)

    with pytest.raises(OutcomeUnknown, match="crashed-desk's decision") as refused:
        desk.resume(thread_id, {interrupt_id: {"approved": False}}, reviewer="bob")  # no recovery ran yet
    assert refused.value.outcome.state == "unknown"
    assert _trail(desk, thread_id) == [("recovery", "crashed-desk", "unknown")]
    assert recover_stale_claims(desk, resubmit=True) == []  # recorded once; never resubmitted
    assert side_effect_count(env["side_effects"], thread_id) == 1


# --------------------------------------------------------------------------- REST


def test_the_api_answers_409_outcome_unknown_with_the_state_not_503_nothing_changed(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from hitl.api import create_app

    thread_id, interrupt_id = _paused(desk, "rest")
    client = TestClient(create_app(desk, tokens={"alice-secret": "alice@example.com", "bob-secret": "bob@example.com"}))
    with monkeypatch.context() as patch:
        inject(desk, "after_node", _raiser(backend_error(desk, "the node's writes")), patch=patch)
        first = client.post("/approve", headers={"Authorization": "Bearer alice-secret"}, json={"thread_id": thread_id, "approved": True})
    again = client.post(
        f"/threads/{thread_id}/resume", headers={"Authorization": "Bearer bob-secret"},
        json={"answers": {interrupt_id: {"approved": True}}},
    )  # fmt: skip

    for response in (first, again):
        assert response.status_code == 409, response.text
        body = response.json()
        assert body["error"] == "outcome_unknown"
        assert "nothing was changed" not in body["message"].lower()
        details = body["details"]
        assert (details["state"], details["thread_id"], details["interrupt_ids"], details["decided_by"]) == (
            "unknown", thread_id, [interrupt_id], "alice@example.com"
        )
        assert details["answers"] == {interrupt_id: {"approved": True}}
        assert details["may_run_twice"] == ["charge"] and details["decided_at"]
        assert set(details["choices"]) == {"retry", "resolve"}
    assert side_effect_count(env["side_effects"], thread_id) == 1


def test_the_api_says_unrecorded_when_the_desk_could_not_record_a_run_that_started(
    env: dict[str, str], desk: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from hitl.api import create_app

    thread_id, _ = _paused(desk, "rest-unrecorded")
    client = TestClient(create_app(desk, tokens={"alice-secret": "alice@example.com"}))
    with monkeypatch.context() as patch:
        inject(desk, "after_close", _raiser(StoreError("the database went away (injected)")), patch=patch)
        response = client.post("/approve", headers={"Authorization": "Bearer alice-secret"}, json={"thread_id": thread_id, "approved": True})
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "outcome_unknown"
    assert response.json()["details"]["state"] == "unrecorded"
    assert "wait" in response.json()["details"]["choices"]


# --------------------------------------------------------------------------- one transaction


def _refuse_audit_inserts(desk: Inbox) -> None:
    """A real failing audit insert: a trigger in the database refuses the row."""
    if desk.store.backend == "postgres":
        statements = [
            "CREATE FUNCTION hitl_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit insert refused (test)'; END $$",
            "CREATE TRIGGER hitl_test_refuse BEFORE INSERT ON hitl_audit FOR EACH ROW EXECUTE FUNCTION hitl_test_refuse()",
        ]
    else:
        statements = [
            "CREATE TRIGGER hitl_test_refuse BEFORE INSERT ON hitl_audit BEGIN SELECT RAISE(ABORT, 'audit insert refused (test)'); END"
        ]
    with desk.store.connection(write=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _allow_audit_inserts(desk: Inbox) -> None:
    with desk.store.connection(write=True) as conn:
        conn.execute("DROP TRIGGER hitl_test_refuse" + (" ON hitl_audit" if desk.store.backend == "postgres" else ""))


def test_a_single_resume_closes_its_claim_and_appends_its_audit_row_in_one_transaction(env: dict[str, str], desk: Inbox) -> None:
    thread_id, interrupt_id = _paused(desk, "one-transaction")
    _refuse_audit_inserts(desk)

    with pytest.raises(OutcomeUnknown, match="could not record what happened.*audit insert refused") as refused:
        desk.resume(thread_id, {interrupt_id: APPROVE}, reviewer="alice")
    assert refused.value.outcome.state == "unrecorded"

    # The run was saved; the claim was NOT closed without its audit row (before: `done`, no row).
    assert desk.thread(thread_id).status == "completed"
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "claimed"
    assert desk.store.audit_rows(thread_id=thread_id) == []
    _allow_audit_inserts(desk)
    _wait_until_stale(desk, thread_id)
    assert recover_stale_claims(desk) == [(thread_id, interrupt_id, "recovered")]
    assert _trail(desk, thread_id) == [("recovery", "alice", "recovered")]
    assert side_effect_count(env["side_effects"], thread_id) == 1
    _check_invariant(desk, env, thread_id, interrupt_id)


def test_resolve_and_recovery_also_close_the_claim_with_the_audit_row(env: dict[str, str], desk: Inbox) -> None:
    thread_id, interrupt_id = _paused(desk, "resolve-one-transaction")
    _refuse_audit_inserts(desk)
    with pytest.raises(StoreError, match="audit insert refused"):
        desk.resolve(thread_id, reviewer="alice", reason="duplicate")
    assert desk.store.claim_of(thread_id, interrupt_id)["state"] == "claimed"  # not done without its row

    desk.store.claim(thread_id, ["other"], reviewer="ghost", answers={}, lease_seconds=0.01, still_pending=lambda _: True)
    time.sleep(0.05)
    with pytest.raises(StoreError, match="audit insert refused"):
        recover_stale_claims(desk, thread_ids=[thread_id])
    assert desk.store.claim_of(thread_id, "other")["state"] == "claimed"  # not settled without its row
    _allow_audit_inserts(desk)
