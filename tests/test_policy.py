"""Timeouts and escalation: `[[timeouts]]` policies, deadlines, the sweeper, extensions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hitl import Inbox, InvalidAnswer
from hitl.__main__ import main
from hitl.demo.inputs import approval_chain_input, state_edit_input, timed_approval_input
from hitl.policy import expiry as sweep_module
from hitl.durations import format_duration
from hitl.errors import HitlError
from hitl.policy import (
    SYSTEM_REVIEWER,
    deadline_info,
    escalated_levels,
    extend_deadline,
    interrupt_deadlines,
    load_policies,
    parse_duration,
    policy_for,
    start_background_sweeper,
    sweep,
)
from tests.conftest import start

HOUR = 3600.0

CHAIN = """
[[timeouts]]
graph = "approval_chain"
kind = "approval_level"
expire_after = "24h"
on_expire = "escalate"
escalate_to = ["manager", "director", "vp"]

[[timeouts]]
graph = "fragile"
expire_after = "24h"
"""


@pytest.fixture
def desk(db_url: str, graphs_file: Path, tmp_path: Path) -> Iterator[Callable[[str], Inbox]]:
    """Open the desk with a given HITL_CONFIG text."""
    opened: list[Inbox] = []

    def open_with(policy_toml: str) -> Inbox:
        config = tmp_path / f"hitl-{len(opened)}.toml"
        config.write_text(policy_toml)
        inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs_file), config_path=str(config), create=True)
        opened.append(inbox)
        return inbox

    yield open_with
    for inbox in opened:
        inbox.close()


def _lines(inbox: Inbox, at: float, **kwargs) -> list[str]:
    return list(sweep(inbox, now=at, **kwargs))


def _log(inbox: Inbox, graph_id: str, thread_id: str) -> list[str]:
    return inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values.get("log", [])


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("24h", 86400), ("2d", 172800), ("1w", 604800), ("1h30m", 5400), ("1.5h", 5400),
     ("2 days", 172800), (" 45 ", 45), (60, 60), (0.5, 0.5)],
)  # fmt: skip
def test_durations_parse_from_the_usual_forms(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "soon", "24x", "-1h", "0s", 0, -5, True, None, "h24"])
def test_bad_durations_say_what_is_accepted(bad: object) -> None:
    with pytest.raises(HitlError, match=r'not a duration.*"24h"'):
        parse_duration(bad, name="expire_after")


def test_durations_print_in_their_shortest_form() -> None:
    assert [format_duration(s) for s in (86400, 172800, 5400, 90, 7200.4, 45)] == ["24h", "2d", "1h30m", "1m30s", "2h", "45s"]


def test_policies_load_from_array_entries_with_a_catch_all_default(desk) -> None:
    inbox = desk(CHAIN + '\n[[timeouts]]\nexpire_after = "3d"\non_expire = "approve"\nwarn_before = "6h"\n')
    policies = load_policies(inbox.settings.policy)
    assert [(p.graph, p.kind, p.expire_after, p.on_expire) for p in policies] == [
        ("approval_chain", "approval_level", 86400, "escalate"),
        ("fragile", None, 86400, "reject"),
        (None, None, 259200, "approve"),
    ]
    assert policies[0].escalate_to == ("manager", "director", "vp") and policies[0].on_expire_final == "reject"
    assert policies[1].warn_before == 86400 / 5 and policies[2].warn_before == 6 * HOUR
    assert policy_for(policies, "approval_chain", "approval_level") is policies[0]
    assert policy_for(policies, "approval_chain", "question") is policies[2]
    assert policy_for(policies, "fragile", "question") is policies[1]
    assert policy_for(policies, "other", None) is policies[2]


def test_policies_load_from_named_tables_and_most_specific_wins() -> None:
    policies = load_policies(
        {"timeouts": {"default": {"expire_after": "2d"}, "payments": {"kind": "question", "expire_after": "4h"},
                      "fragile_questions": {"graph": "fragile", "kind": "question", "expire_after": "1h", "on_expire": "approve"}}}
    )  # fmt: skip
    assert [p.name for p in policies] == ["default", "payments", "fragile_questions"]
    assert policy_for(policies, "fragile", "question").name == "fragile_questions"
    assert policy_for(policies, "other", "question").name == "payments"
    assert policy_for(policies, "other", "confirm").name == "default"
    assert load_policies({}) == []


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"timeouts": [{"graph": "g"}]}, "needs expire_after"),
        ({"timeouts": [{"expire_after": "1d", "on_expire": "ignore"}]}, "on_expire = 'ignore'; use one of reject, approve, escalate"),
        ({"timeouts": [{"expire_after": "1d", "on_expire": "escalate"}]}, "escalates but has no escalate_to"),
        ({"timeouts": [{"expire_after": "1d", "expire": "2d"}]}, "unknown setting.*expire"),
        ({"timeouts": [{"expire_after": "tomorrow"}]}, "expire_after = 'tomorrow' is not a duration"),
        ({"timeouts": [{"expire_after": "1d", "on_expire_final": "escalate"}]}, "on_expire_final"),
        ({"timeouts": [{"expire_after": "1d", "default": {"expire_after": "2d"}}]}, r"\[timeouts.default\] table.*nests it"),
        ({"timeouts": "24h"}, "must be"),
    ],
)
def test_bad_policies_are_named_with_the_fix(policy: dict, message: str) -> None:
    with pytest.raises(HitlError, match=message):
        load_policies(policy)


def test_toml_default_table_after_array_entries_is_explained(desk) -> None:
    # In TOML, [timeouts.default] after [[timeouts]] nests inside the last entry.
    inbox = desk('[[timeouts]]\ngraph = "fragile"\nexpire_after = "1h"\n\n[timeouts.default]\nexpire_after = "2d"\n')
    start(inbox, "fragile")
    with pytest.raises(HitlError, match="Write the default as a \\[\\[timeouts\\]\\] entry"):
        list(sweep(inbox))


# --------------------------------------------------------------------------- deadlines and sweeping


def test_expired_interrupt_is_rejected_by_system_timeout_and_recorded(desk) -> None:
    inbox = desk(CHAIN)
    thread_id = start(inbox, "fragile")
    began = inbox.pending().items[0].waiting_since.timestamp()

    early = deadline_info(inbox, inbox.pending().items, now=began + HOUR)[thread_id]
    assert early.deadline == datetime.fromtimestamp(began + 24 * HOUR, timezone.utc)
    assert early.seconds_left == pytest.approx(23 * HOUR)
    assert (early.expiring_soon, early.expired, early.on_expire, early.level, early.extended) == (False, False, "reject", None, False)
    late = deadline_info(inbox, [thread_id], now=began + 20 * HOUR)[thread_id]
    assert late.expiring_soon and not late.expired  # within a fifth of 24h

    assert _lines(inbox, began + 23 * HOUR)[-1].startswith("0 expired of 1 waiting")
    lines = _lines(inbox, began + 25 * HOUR)
    assert "expired 1h ago: rejected (graph completed)" in lines[0]
    assert lines[-1].startswith("1 expired of 1 waiting under a policy: 1 rejected")
    assert _log(inbox, "fragile", thread_id) == ["deployed:False"]
    row = inbox.history(thread_id=thread_id).iloc[-1]
    assert (row["reviewer"], row["action"], row["comment"], row["outcome"]) == (SYSTEM_REVIEWER, "timeout", "expired after 24h", "completed")
    assert '"reason": "expired after 24h"' in row["answer"]
    assert _lines(inbox, began + 26 * HOUR)[-1].startswith("0 expired of 0 waiting")


def test_dry_run_reports_and_changes_nothing(desk) -> None:
    inbox = desk(CHAIN)
    thread_id = start(inbox, "fragile")
    lines = _lines(inbox, time.time() + 25 * HOUR, dry_run=True)
    assert "would reject" in lines[0] and lines[-1].startswith("dry run: 1 expired")
    assert inbox.pending().total == 1 and inbox.history().empty
    assert inbox.store.claim_of(thread_id, inbox.pending().items[0].interrupts[0].id) is None


def test_on_expire_approve_approves(desk) -> None:
    inbox = desk('[[timeouts]]\ngraph = "fragile"\nexpire_after = "15m"\non_expire = "approve"\n')
    thread_id = start(inbox, "fragile")
    lines = _lines(inbox, time.time() + HOUR)
    assert "approved (graph completed)" in lines[0]
    assert _log(inbox, "fragile", thread_id) == ["deployed:True"]
    assert inbox.history().iloc[-1]["comment"] == "expired after 15m"


def test_items_no_policy_covers_never_expire(desk) -> None:
    inbox = desk(CHAIN)
    start(inbox, "two_in_one")
    assert deadline_info(inbox, inbox.pending().items) == {}
    assert _lines(inbox, time.time() + 365 * 24 * HOUR)[-1].startswith("0 expired of 0 waiting")
    assert inbox.pending().total == 1


def test_without_policies_the_sweeper_says_so(desk) -> None:
    inbox = desk("")
    start(inbox, "fragile")
    assert _lines(inbox, time.time() + 1e6) == ["no timeout policies configured ([[timeouts]] in HITL_CONFIG): nothing to do"]


def test_escalation_moves_up_the_levels_restarting_the_clock_then_rejects_at_the_last(desk) -> None:
    inbox = desk(CHAIN)
    thread_id = start(inbox, "approval_chain", approval_chain_input(0))
    item = inbox.pending().items[0]
    interrupt_id = item.interrupts[0].id
    began = item.waiting_since.timestamp()
    info = deadline_info(inbox, [item], now=began)[thread_id]
    assert (info.level, info.on_expire) == ("manager", "escalate to director")

    lines = _lines(inbox, began + 25 * HOUR)
    assert "no decision within 24h at level manager; escalated to director" in lines[0]
    info = deadline_info(inbox, [thread_id], now=began + 25 * HOUR)[thread_id]
    assert (info.level, info.on_expire) == ("director", "escalate to vp")
    assert info.deadline == datetime.fromtimestamp(began + 49 * HOUR, timezone.utc)  # clock restarted at the escalation
    assert escalated_levels(inbox, [thread_id]) == {(thread_id, interrupt_id): "director"}
    assert _lines(inbox, began + 48 * HOUR)[-1].startswith("0 expired")  # the director has a full 24h

    assert "escalated to vp" in _lines(inbox, began + 50 * HOUR)[0]
    info = deadline_info(inbox, [thread_id], now=began + 50 * HOUR)[thread_id]
    assert (info.level, info.on_expire) == ("vp", "reject")

    lines = _lines(inbox, began + 75 * HOUR)
    assert "rejected (graph completed)" in lines[0]
    assert inbox.thread(thread_id).values["status"] == "rejected"
    history = inbox.history(thread_id=thread_id)
    assert list(zip(history["action"], history["outcome"])) == [
        ("escalate", "escalated"), ("escalate", "escalated"), ("timeout", "completed"),
    ]  # fmt: skip
    assert set(history["reviewer"]) == {SYSTEM_REVIEWER}
    assert history.iloc[-1]["comment"] == "expired after 24h at the last level (vp)"
    assert inbox.verify_audit().ok


def test_a_second_sweeper_acting_on_the_same_expiry_does_not_escalate_twice(desk) -> None:
    inbox = desk(CHAIN)
    other = desk(CHAIN)  # another desk process's view of the same database
    thread_id = start(inbox, "approval_chain", approval_chain_input(1))
    at = inbox.pending().items[0].waiting_since.timestamp() + 25 * HOUR
    # Both sweepers saw the same expired interrupt before either acted.
    seen_by_other = next(iter(interrupt_deadlines(other, [thread_id], now=at).values()))
    assert "escalated to director" in _lines(inbox, at)[0]
    assert sweep_module.apply_expiry(other, seen_by_other, moment=at, dry_run=False) == (
        "skipped", f"{thread_id} {seen_by_other.interrupt_id[:12]} (approval_chain/approval_level): answered or extended meanwhile; left alone"
    )
    # Even past that re-check, the escalation row's unique key refuses a second one.
    verb, line = sweep_module.escalate(other, seen_by_other, "director", moment=at, label="x")
    assert (verb, line) == ("skipped", "x: already escalated to director (another sweeper)")
    assert len(inbox.history(thread_id=thread_id)) == 1


def test_requested_at_in_the_payload_starts_the_clock(desk) -> None:
    inbox = desk('[[timeouts]]\ngraph = "timed_approval"\nexpire_after = "24h"\n')
    requested = datetime.now(timezone.utc) - timedelta(hours=30)
    graph_input = {**timed_approval_input(0), "requested_at": requested.strftime("%Y-%m-%dT%H:%M:%SZ")}
    thread_id = start(inbox, "timed_approval", graph_input)
    info = deadline_info(inbox, [thread_id])[thread_id]
    assert info.started_at == requested.replace(microsecond=0)
    assert info.expired and info.seconds_left == pytest.approx(-6 * HOUR, abs=60)
    lines = list(sweep(inbox))
    assert "expired 6h ago: rejected" in lines[0]
    assert inbox.pending().total == 0


def test_a_kind_without_one_click_reject_is_closed_without_running_anything(desk) -> None:
    inbox = desk('[[timeouts]]\nkind = "state_edit"\nexpire_after = "1h"\n')
    thread_id = start(inbox, "state_edit", state_edit_input(0))
    lines = _lines(inbox, time.time() + 2 * HOUR)
    assert "no one-click reject for kind state_edit; thread marked resolved" in lines[0]
    assert inbox.thread(thread_id).status == "resolved"
    row = inbox.history(thread_id=thread_id).iloc[-1]
    assert (row["action"], row["reviewer"]) == ("resolve", SYSTEM_REVIEWER)


def test_an_interrupt_a_reviewer_is_deciding_right_now_is_left_to_them(desk) -> None:
    inbox = desk(CHAIN)
    thread_id = start(inbox, "fragile")
    interrupt_id = inbox.pending().items[0].interrupts[0].id
    inbox.store.claim(thread_id, [interrupt_id], reviewer="alice", answers={}, lease_seconds=300, still_pending=lambda _: True)
    lines = _lines(inbox, time.time() + 25 * HOUR)
    assert "already decided by alice" in lines[0]
    assert lines[-1].endswith("1 skipped")
    assert inbox.history().empty


def test_threads_the_desk_cannot_resume_are_not_swept(desk) -> None:
    inbox = desk('[[timeouts]]\nexpire_after = "1h"\n')
    config = {"configurable": {"thread_id": "tagged-broken"}, "metadata": {"graph_id": "broken"}}
    inbox.graph("fragile").invoke({"topic": "x"}, config)
    assert _lines(inbox, time.time() + 2 * HOUR)[-1].startswith("0 expired of 0 waiting")
    assert inbox.pending().total == 1


# --------------------------------------------------------------------------- extending


def test_a_deadline_can_be_extended_once_with_a_reason_and_it_is_audited(desk) -> None:
    inbox = desk(CHAIN)
    thread_id = start(inbox, "fragile")
    began = inbox.pending().items[0].waiting_since.timestamp()
    with pytest.raises(InvalidAnswer, match="needs a reason"):
        extend_deadline(inbox, thread_id, reviewer="alice", reason="  ", extra="24h", now=began)
    with pytest.raises(InvalidAnswer, match="not a duration"):
        extend_deadline(inbox, thread_id, reviewer="alice", reason="vendor on holiday", extra="a while", now=began)

    info = extend_deadline(inbox, thread_id, reviewer="alice", reason="vendor on holiday", extra="24h", now=began + HOUR)
    assert info.extended and info.deadline == datetime.fromtimestamp(began + 48 * HOUR, timezone.utc)
    row = inbox.history(thread_id=thread_id).iloc[-1]
    assert (row["action"], row["reviewer"], row["comment"], row["outcome"]) == ("extend", "alice", "vendor on holiday", "extended")
    with pytest.raises(InvalidAnswer, match="already extended once by alice at .* \\(vendor on holiday\\)"):
        extend_deadline(inbox, thread_id, reviewer="bob", reason="still waiting", extra="1h", now=began + 2 * HOUR)

    assert _lines(inbox, began + 25 * HOUR)[-1].startswith("0 expired")
    assert "rejected" in _lines(inbox, began + 49 * HOUR)[0]
    assert list(inbox.history(thread_id=thread_id)["action"]) == ["extend", "timeout"]
    assert inbox.verify_audit().ok


def test_an_expired_or_uncovered_deadline_cannot_be_extended(desk) -> None:
    inbox = desk(CHAIN)
    thread_id = start(inbox, "fragile")
    uncovered = start(inbox, "two_in_one")
    with pytest.raises(InvalidAnswer, match="passed at .* can no\\s+longer be extended"):
        extend_deadline(inbox, thread_id, reviewer="alice", reason="late", extra="1h", now=time.time() + 25 * HOUR)
    with pytest.raises(InvalidAnswer, match="no timeout policy covers it"):
        extend_deadline(inbox, uncovered, reviewer="alice", reason="why not", extra="1h")
    assert inbox.history().empty


def test_deadlines_per_interrupt_for_threads_with_several(desk) -> None:
    inbox = desk('[[timeouts]]\ngraph = "parallel"\nexpire_after = "2h"\n\n[[timeouts]]\ngraph = "parallel"\nkind = "confirm"\nexpire_after = "1h"\n')
    thread_id = start(inbox, "parallel")
    per_interrupt = interrupt_deadlines(inbox, [thread_id])
    assert sorted(info.policy.expire_after for info in per_interrupt.values()) == [HOUR, 2 * HOUR, 2 * HOUR]
    assert deadline_info(inbox, [thread_id])[thread_id].kind == "confirm"  # the earliest
    with pytest.raises(InvalidAnswer, match="has 3 interrupts with deadlines; name the one"):
        extend_deadline(inbox, thread_id, reviewer="alice", reason="r", extra="1h")
    lines = _lines(inbox, time.time() + 90 * 60)
    assert len(lines) == 2 and "parallel/confirm" in lines[0]  # only the 1h one expired
    assert len(inbox.pending().items[0].interrupts) == 2


# --------------------------------------------------------------------------- CLI and background


def test_cli_sweep_applies_the_policy_file(desk, db_url: str, graphs_file: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    inbox = desk('[[timeouts]]\ngraph = "fragile"\nexpire_after = "1s"\n')
    thread_id = start(inbox, "fragile")
    monkeypatch.setenv("HITL_CONFIG", str(tmp_path / "hitl-0.toml"))
    time.sleep(1.1)
    assert main(["--database-url", db_url, "--graphs", str(graphs_file), "sweep", "--dry-run"]) == 0
    assert "would reject" in capsys.readouterr().out
    assert main(["--database-url", db_url, "--graphs", str(graphs_file), "sweep"]) == 0
    out = capsys.readouterr().out
    assert f"{thread_id} " in out and "rejected" in out
    assert inbox.pending().total == 0


def test_background_sweeper_runs_once_per_process_and_applies_policies(desk) -> None:
    inbox = desk('[[timeouts]]\ngraph = "fragile"\nexpire_after = "1s"\n')
    thread_id = start(inbox, "fragile")
    sweeper = start_background_sweeper(inbox, interval=0.2)
    try:
        assert start_background_sweeper(inbox, interval=0.2) is sweeper
        deadline = time.monotonic() + 20
        while inbox.pending().total:
            assert time.monotonic() < deadline, f"the sweeper did not act: {sweeper.last_error or sweeper.last_lines}"
            time.sleep(0.1)
        assert _log(inbox, "fragile", thread_id) == ["deployed:False"]
        assert sweeper.runs >= 1 and sweeper.last_error is None
    finally:
        sweeper.stop()
    assert not sweeper.alive
    with pytest.raises(HitlError, match="positive number of seconds"):
        start_background_sweeper(inbox, interval=0)


def test_extension_and_escalation_rows_carry_the_payload_so_access_can_hide_them(desk) -> None:
    # Issue 13, item 8: every audit row says what it is about (graph, kind, payload).
    import json

    inbox = desk(CHAIN)
    chain = start(inbox, "approval_chain", approval_chain_input(0))
    fragile = start(inbox, "fragile")
    waiting = {t.thread_id: t for t in inbox.pending().items}
    began = min(t.waiting_since.timestamp() for t in waiting.values())
    extend_deadline(inbox, fragile, reviewer="alice", reason="vendor on holiday", extra="24h", now=began + HOUR)
    _lines(inbox, began + 25 * HOUR)  # escalates the chain's manager level to director
    for thread_id, action in ((fragile, "extend"), (chain, "escalate")):
        row = inbox.history(thread_id=thread_id).iloc[0]
        assert row["action"] == action and row["kind"] and row["graph_id"]
        assert json.loads(row["payload"]) == waiting[thread_id].interrupts[0].value
