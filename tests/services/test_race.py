"""At most once across processes: many desks answering one interrupt at the same moment.

Each round, 8 OS processes (spawned, each with its own `Inbox` and connection on the same
SQLite file, or PostgreSQL schema) wait at a barrier and answer the same interrupt. The claim (a unique key
written with `INSERT ... ON CONFLICT DO NOTHING` in a `BEGIN IMMEDIATE` transaction, or a
compare-and-set takeover of a dead desk's claim) lets exactly one of them resume the graph;
the resumed node counts its side effect in a table of its own, which must read 1 every round.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import time
from collections import Counter
from pathlib import Path

import pytest

from hitl import Inbox
from tests.conftest import start
from tests.fixture_race import GRAPH_ID, PAUSE_MARKER_ENV, SIDE_EFFECTS_ENV, race_worker, side_effect_count

PROCESSES = 8
ROUNDS = 20
STALE_ROUNDS = 5


@pytest.fixture
def race_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A database (an SQLite file; also PostgreSQL when HITL_TEST_POSTGRES_URL is set), a
    graphs file with the counting `payment` graph, and the side-effect table."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    monkeypatch.delenv(PAUSE_MARKER_ENV, raising=False)
    side_effects = tmp_path / "side_effects.db"
    monkeypatch.setenv(SIDE_EFFECTS_ENV, str(side_effects))
    graphs = tmp_path / "langgraph.json"
    graphs.write_text(json.dumps({"graphs": {GRAPH_ID: f"{Path(__file__).resolve().parent.parent / 'fixture_race.py'}:payment"}}))
    return {"url": db_url, "graphs": str(graphs), "side_effects": str(side_effects)}


def _race(env: dict[str, str], rounds: list[tuple[str, str]]) -> tuple[dict[int, list[tuple]], float]:
    """Run the rounds with PROCESSES desk processes; returns results by round and wall time."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=race_worker, args=(index, env["url"], env["graphs"], rounds, barrier, results), daemon=True)
        for index in range(PROCESSES)
    ]
    started = time.perf_counter()
    for process in processes:
        process.start()
    by_round: dict[int, list[tuple]] = {}
    try:
        for _ in range(len(rounds) * PROCESSES):
            number, index, result, detail, wall, seconds = results.get(timeout=120)
            assert number >= 0, f"desk process {index} could not start: {detail}"
            by_round.setdefault(number, []).append((index, result, detail, wall, seconds))
    except queue.Empty:
        pytest.fail(f"desk processes stopped answering; got rounds {sorted(by_round)}")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return by_round, time.perf_counter() - started


def _check_and_report(env: dict[str, str], rounds: list[tuple[str, str]], by_round: dict[int, list[tuple]], title: str) -> None:
    errors = [detail for results in by_round.values() for _, result, detail, _, _ in results if result == "error"]
    assert not errors, errors[0]
    wins = [sum(1 for _, result, *_ in by_round[n] if result == "won") for n in range(len(rounds))]
    refused = [sum(1 for _, result, *_ in by_round[n] if result == "already_decided") for n in range(len(rounds))]
    effects = [side_effect_count(env["side_effects"], thread_id) for thread_id, _ in rounds]
    spread_ms = [
        1000 * (max(wall for *_, wall, _ in by_round[n]) - min(wall for *_, wall, _ in by_round[n])) for n in range(len(rounds))
    ]
    round_seconds = [
        max(wall + seconds for *_, wall, seconds in by_round[n]) - min(wall for *_, wall, _ in by_round[n])
        for n in range(len(rounds))
    ]
    winners = Counter(index for results in by_round.values() for index, result, *_ in results if result == "won")
    print(
        f"\n{title}: {len(rounds)} rounds x {PROCESSES} processes, {sum(round_seconds):.1f} s from first barrier to last answer"
        f"\n  wins per round:         {wins}"
        f"\n  AlreadyDecided/round:   {refused}"
        f"\n  side effects per round: {effects}  (total {sum(effects)})"
        f"\n  start spread per round: median {sorted(spread_ms)[len(spread_ms) // 2]:.1f} ms, max {max(spread_ms):.1f} ms"
        f"\n  rounds won per process: {dict(sorted(winners.items()))}"
    )
    assert wins == [1] * len(rounds)
    assert refused == [PROCESSES - 1] * len(rounds)
    assert effects == [1] * len(rounds)
    with Inbox.open(database_url=env["url"], graphs_path=env["graphs"]) as desk:
        for thread_id, interrupt_id in rounds:
            claim = desk.store.claim_of(thread_id, interrupt_id)
            assert claim is not None and claim["state"] == "done"
            decisions = desk.history(thread_id=thread_id)
            decided = decisions[decisions["action"] == "decision"]
            assert len(decided) == 1 and decided.iloc[0]["reviewer"] == claim["reviewer"]
            assert decided.iloc[0]["outcome"] == "completed"
        assert desk.pending().total == 0
        assert desk.verify_audit().ok


def test_eight_processes_answering_one_interrupt_at_once_resume_it_exactly_once_fresh_or_after_a_dead_desk(
    race_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # ROUNDS fresh interrupts, then STALE_ROUNDS whose claim belongs to a desk that died
    # before resuming (lease run out, interrupt still pending: the claim may be taken over,
    # by exactly one desk). One set of processes answers them all, round after round.
    with Inbox.open(database_url=race_env["url"], graphs_path=race_env["graphs"], create=True) as desk:
        fresh, stale = [], []
        for number in range(ROUNDS + STALE_ROUNDS):
            thread_id = start(desk, GRAPH_ID, {"topic": f"INV-{number}"}, thread_id=f"race-{number}")
            interrupt_id = desk.store.pending_interrupts([thread_id])[thread_id][0].id
            if number < ROUNDS:
                fresh.append((thread_id, interrupt_id))
                continue
            desk.store.claim(
                thread_id, [interrupt_id], reviewer="dead-desk", answers={interrupt_id: {"approved": True}},
                lease_seconds=0.0, still_pending=lambda _: True,
            )  # fmt: skip
            stale.append((thread_id, interrupt_id))
        time.sleep(0.05)
        assert len(desk.store.stale_claims()) == STALE_ROUNDS
    by_round, elapsed = _race(race_env, fresh + stale)
    with capsys.disabled():
        backend = race_env["url"].split(":", 1)[0]
        print(f"\n{backend}: {PROCESSES} desk processes, {ROUNDS + STALE_ROUNDS} rounds, {elapsed:.1f} s in all (spawn included)")
        _check_and_report(race_env, fresh, {n: by_round[n] for n in range(ROUNDS)}, "race on fresh interrupts")
        _check_and_report(
            race_env, stale, {n: by_round[ROUNDS + n] for n in range(STALE_ROUNDS)}, "race on a dead desk's stale claim"
        )
