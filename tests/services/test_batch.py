"""`Inbox.batch` in chunks: one claim transaction, one closing transaction and one index
refresh per chunk, with every single-decision guarantee kept per thread."""

from __future__ import annotations

import json
import multiprocessing
import queue
from collections import Counter
from pathlib import Path

import pytest

from hitl import Inbox
from hitl.audit import verify_chain
from tests.conftest import start
from tests.fixture_batch import GRAPH_ID, batch_worker
from tests.fixture_race import SIDE_EFFECTS_ENV, side_effect_count

FIXTURE = Path(__file__).resolve().parent.parent / "fixture_batch.py"


@pytest.fixture
def ledger_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    side_effects = tmp_path / "side_effects.db"
    monkeypatch.setenv(SIDE_EFFECTS_ENV, str(side_effects))
    graphs = tmp_path / "langgraph.json"
    graphs.write_text(json.dumps({"graphs": {GRAPH_ID: f"{FIXTURE}:ledger"}}))
    return {"url": db_url, "graphs": str(graphs), "side_effects": str(side_effects)}


def _pending_id(desk: Inbox, thread_id: str) -> str:
    return desk.store.pending_interrupts([thread_id])[thread_id][0].id


def test_a_batch_of_120_in_two_chunks_decides_each_thread_as_decide_would(ledger_env: dict[str, str]) -> None:
    desk = Inbox.open(database_url=ledger_env["url"], graphs_path=ledger_env["graphs"], create=True)
    other = Inbox.open(database_url=ledger_env["url"], graphs_path=ledger_env["graphs"])
    try:
        topics = {f"t{n:03d}": f"invoice-{n}" for n in range(120)}
        # Misbehaving threads, one in each chunk where it matters (chunks are 100 + 20).
        topics.update({"t010": "boom-10", "t105": "boom-105", "t020": "odd-20", "t030": "refuse-30"})
        ids = list(topics)
        for thread_id, topic in topics.items():
            start(desk, GRAPH_ID, {"topic": topic}, thread_id=thread_id)
        desk.refresh()
        interrupt_of = {thread_id: _pending_id(desk, thread_id) for thread_id in ids}

        # Another desk decided three threads already (two of them in the second chunk) and is
        # in the middle of resuming two more (its claims are live).
        decided_elsewhere = ["t005", "t101", "t119"]
        for thread_id in decided_elsewhere:
            assert other.decide(thread_id, approve=True, reviewer="olga").status == "completed"
        in_flight = ["t050", "t110"]
        for thread_id in in_flight:
            other.store.claim(
                thread_id, [interrupt_of[thread_id]], reviewer="olga", answers={interrupt_of[thread_id]: {"approved": True}},
                lease_seconds=300, still_pending=lambda iid: True,
            )  # fmt: skip
        seen = {thread_id: interrupt_of[thread_id] for thread_id in ids}
        seen["t040"] = "an-interrupt-nobody-was-shown"
        audit_before = len(desk.store.audit_rows())

        refreshes, claim_transactions, progress = [], [], []
        real_refresh, real_claim_each = desk.refresh, desk.store.claim_each
        desk.refresh = lambda thread_ids=None: refreshes.append(thread_ids) or real_refresh(thread_ids)  # type: ignore[method-assign]
        desk.store.claim_each = lambda *a, **k: claim_transactions.append(1) or real_claim_each(*a, **k)  # type: ignore[method-assign]
        results = desk.batch(
            ids, approve=True, reviewer="ann", comment="month end", seen=seen,
            progress=lambda done, total, result: progress.append((done, total, result.thread_id)),
        )  # fmt: skip

        assert [r.thread_id for r in results] == ids
        assert progress == [(n, 120, thread_id) for n, thread_id in enumerate(ids, start=1)]
        assert (len(refreshes), len(claim_transactions)) == (2, 2)
        # Each chunk re-indexes its own threads, not whatever else agents changed meanwhile.
        assert set(refreshes[0]) <= set(ids[:100]) and set(refreshes[1]) <= set(ids[100:])
        by_thread = {r.thread_id: r for r in results}
        expected = {thread_id: "completed" for thread_id in ids}
        expected.update({t: "already decided" for t in decided_elsewhere + in_flight})
        expected.update({"t010": "failed", "t105": "failed", "t020": "invalid", "t030": "invalid", "t040": "changed"})
        assert {t: r.result for t, r in by_thread.items()} == expected
        assert "payment API down for boom-10" in by_thread["t010"].message
        assert "olga" in by_thread["t050"].message and "olga" in by_thread["t005"].message
        assert "typed answer" in by_thread["t020"].message
        assert "refused" in by_thread["t030"].message

        # Graph state and side effects: each approved thread ran once, the others not at all.
        completed = [t for t in ids if expected[t] == "completed"]
        for thread_id in ids:
            runs = side_effect_count(ledger_env["side_effects"], thread_id)
            state = desk.graph(GRAPH_ID).get_state({"configurable": {"thread_id": thread_id}})
            if thread_id in completed or thread_id in decided_elsewhere:
                assert (runs, state.values["log"], state.next) == (1, ["paid:True"], ())
            else:
                assert runs == 0 and state.next == ("pay",), thread_id
        for thread_id in in_flight + ["t020", "t040"]:
            assert _pending_id(desk, thread_id) == interrupt_of[thread_id]  # still answerable
        assert desk.store.failed_tasks("t010") and desk.store.failed_tasks("t105")

        # Claims: done, failed (answerable again), released, never taken, or still olga's.
        def claim_state(thread_id: str) -> str | None:
            claim = desk.store.claim_of(thread_id, interrupt_of[thread_id])
            return claim and f"{claim['state']}:{claim['reviewer']}"

        assert {t: claim_state(t) for t in completed} == {t: "done:ann" for t in completed}
        assert [claim_state(t) for t in ("t010", "t105")] == ["failed:ann", "failed:ann"]
        assert [claim_state(t) for t in ("t020", "t030", "t040")] == [None, None, None]
        assert [claim_state(t) for t in in_flight] == ["claimed:olga", "claimed:olga"]

        # Audit: one row per interrupt the batch decided, chained.
        rows = desk.store.audit_rows()[audit_before:]
        assert Counter(r["thread_id"] for r in rows) == Counter(completed + ["t010", "t105"])
        assert {r["thread_id"]: r["outcome"] for r in rows} == {
            **{t: "completed" for t in completed}, "t010": "failed", "t105": "failed",
        }  # fmt: skip
        assert all(r["action"] == "batch" and r["reviewer"] == "ann" and r["comment"] == "month end" for r in rows)
        assert all(r["interrupt_id"] == interrupt_of[r["thread_id"]] for r in rows)
        assert all(r["graph_id"] == GRAPH_ID and r["waited_seconds"] is not None for r in rows)
        assert "payment API down" in next(r for r in rows if r["thread_id"] == "t105")["error"]
        report = desk.verify_audit()
        assert report.ok, str(report)
        assert verify_chain(desk.store.audit_rows(), head=desk.store.audit_head()).ok

        # The index saw the chunk's changes: only the refused and in-flight threads are pending.
        pending = {t.thread_id for t in desk.pending(limit=200).items}
        assert pending == set(in_flight) | {"t020", "t040"}
    finally:
        other.close()
        desk.close()


def test_on_decided_hooks_get_each_chunks_rows_with_their_seq(ledger_env: dict[str, str]) -> None:
    desk = Inbox.open(database_url=ledger_env["url"], graphs_path=ledger_env["graphs"], create=True)
    try:
        ids = [f"h{n}" for n in range(7)]
        for thread_id in ids:
            start(desk, GRAPH_ID, {"topic": thread_id}, thread_id=thread_id)
        calls: list[list[dict]] = []
        desk.on_decided(calls.append)
        results = desk.batch(ids, approve=False, reviewer="ann", comment="no", chunk_size=3)
        assert [r.result for r in results] == ["completed"] * 7
        assert [len(rows) for rows in calls] == [3, 3, 1]
        seqs = [row["seq"] for rows in calls for row in rows]
        assert seqs == sorted(seqs) and len(set(seqs)) == 7
        assert [row["thread_id"] for rows in calls for row in rows] == ids
        assert {row["answer"]["approved"] for rows in calls for row in rows} == {False}
    finally:
        desk.close()


def test_a_thread_listed_twice_is_decided_once(ledger_env: dict[str, str]) -> None:
    desk = Inbox.open(database_url=ledger_env["url"], graphs_path=ledger_env["graphs"], create=True)
    try:
        for thread_id in ("d1", "d2"):
            start(desk, GRAPH_ID, {"topic": thread_id}, thread_id=thread_id)
        results = desk.batch(["d1", "d2", "d1"], approve=True, reviewer="ann")
        assert [(r.thread_id, r.result) for r in results] == [("d1", "completed"), ("d2", "completed"), ("d1", "already decided")]
        assert side_effect_count(ledger_env["side_effects"], "d1") == 1
    finally:
        desk.close()


def test_a_chunk_keeps_its_claims_leased_while_its_graphs_run(ledger_env: dict[str, str]) -> None:
    """Claims of threads waiting their turn in a chunk are renewed: none goes stale mid-batch."""
    import threading

    desk = Inbox.open(
        database_url=ledger_env["url"], graphs_path=ledger_env["graphs"], create=True, claim_lease_seconds=0.6
    )
    try:
        ids = [f"slow-{n}" for n in range(4)]  # 4 x 0.5 s: the last claims would go stale unrenewed
        for thread_id in ids:
            start(desk, GRAPH_ID, {"topic": thread_id}, thread_id=thread_id)
        stale: list = []
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.05):
                stale.extend(desk.store.stale_claims())

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            results = desk.batch(ids, approve=True, reviewer="ann")
        finally:
            done.set()
            watcher.join()
        assert [r.result for r in results] == ["completed"] * 4
        assert stale == []
        assert [desk.store.claim_of(t, r["interrupt_id"])["state"] for r in desk.store.audit_rows() for t in [r["thread_id"]]] == ["done"] * 4
    finally:
        desk.close()


def test_a_run_outliving_the_timeout_mid_chunk_is_handed_over_and_the_rest_still_run(ledger_env: dict[str, str]) -> None:
    """A chunk's runs share one worker; one that hangs past the timeout must neither stall
    nor lose the runs queued behind it, and its late end is still recorded."""
    import time

    desk = Inbox.open(
        database_url=ledger_env["url"], graphs_path=ledger_env["graphs"], create=True, resume_timeout_seconds=0.2
    )
    try:
        ids = ["a-1", "slow-2", "b-3", "slow-4", "c-5"]  # each slow run takes 0.5 s after its answer
        for thread_id in ids:
            start(desk, GRAPH_ID, {"topic": thread_id}, thread_id=thread_id)
        desk.refresh()
        began = time.monotonic()
        results = {r.thread_id: r for r in desk.batch(ids, approve=True, reviewer="ann", comment="eod")}
        assert time.monotonic() - began < 1.5  # not 5 x 0.5 s: nothing waited for a late run
        assert {t: r.result for t, r in results.items()} == {
            "a-1": "completed", "slow-2": "failed", "b-3": "completed", "slow-4": "failed", "c-5": "completed",
        }  # fmt: skip
        assert "did not finish within 0.2 s" in results["slow-2"].message
        for thread_id in ("a-1", "b-3", "c-5"):
            assert side_effect_count(ledger_env["side_effects"], thread_id) == 1
        # The slow runs were left running, not abandoned: their claims hold until they end,
        # then each records its late completion after its timeout row.
        deadline = time.monotonic() + 15
        while not all(len(desk.history(thread_id=t)) == 2 for t in ("slow-2", "slow-4")):
            assert time.monotonic() < deadline, "a late completion was never recorded"
            time.sleep(0.05)
        for thread_id in ("slow-2", "slow-4"):
            assert list(desk.history(thread_id=thread_id)["outcome"]) == ["timeout", "completed"]
            assert side_effect_count(ledger_env["side_effects"], thread_id) == 1
            assert desk.store.claim_of(thread_id, desk.history(thread_id=thread_id).iloc[0]["interrupt_id"])["state"] == "done"
        assert desk.pending().total == 0
        assert desk.verify_audit().ok
    finally:
        desk.close()


def test_two_desks_batching_the_same_40_threads_at_once_resume_each_exactly_once(ledger_env: dict[str, str]) -> None:
    desk = Inbox.open(database_url=ledger_env["url"], graphs_path=ledger_env["graphs"], create=True)
    ids = [f"r{n:02d}" for n in range(40)]
    try:
        for thread_id in ids:
            start(desk, GRAPH_ID, {"topic": thread_id}, thread_id=thread_id)
    finally:
        desk.close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    orders = [ids, list(reversed(ids))]  # one desk from each end: they meet in the middle
    processes = [
        context.Process(target=batch_worker, args=(index, ledger_env["url"], ledger_env["graphs"], orders[index], barrier, results), daemon=True)
        for index in range(2)
    ]  # fmt: skip
    for process in processes:
        process.start()
    got = {}
    try:
        for _ in processes:
            index, outcome, error = results.get(timeout=240)
            assert outcome is not None, error
            got[index] = dict(outcome)
    except queue.Empty:
        pytest.fail(f"batch processes stopped answering; got {sorted(got)}")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()

    for thread_id in ids:
        pair = sorted([got[0][thread_id], got[1][thread_id]])
        assert pair == ["already decided", "completed"], (thread_id, pair)
        assert side_effect_count(ledger_env["side_effects"], thread_id) == 1, thread_id
    assert side_effect_count(ledger_env["side_effects"]) == 40
    desk = Inbox.open(database_url=ledger_env["url"], graphs_path=ledger_env["graphs"])
    try:
        rows = desk.store.audit_rows()
        assert Counter(r["thread_id"] for r in rows) == Counter(ids)
        winners = {t: f"desk-{i}" for i in (0, 1) for t, result in got[i].items() if result == "completed"}
        assert {r["thread_id"]: r["reviewer"] for r in rows} == winners
        assert desk.verify_audit().ok
        assert all(desk.store.claim_of(t, r["interrupt_id"])["state"] == "done" for r in rows for t in [r["thread_id"]])
    finally:
        desk.close()
