"""The desk's summary table (`hitl_threads`) is never wrong, even while agents write.

Agent processes (tests/index_agent.py) start threads, answer them and complete them on
their own savers, one of them with a clock an hour behind (its checkpoint ids sort before
everyone else's), while the desk refreshes and lists in a loop. Then:

* at every listing, every thread no agent touched while that listing ran is exactly as the
  agents last left it (listed as waiting with as many interrupts, completed, or absent);
* at quiescence, the index equals the ground truth computed the naive way: `get_state` on
  every thread in the database.

Runs on both backends (the `db_url` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hitl import Inbox
from tests.conftest import ROOT

AGENTS = 3
OPS_PER_AGENT = 45


def _index(inbox: Inbox) -> dict[str, tuple[str, int]]:
    rows, cursor, _ = inbox.store.list_threads(status=None, limit=1000)
    assert cursor is None, "the test expects fewer than 1000 threads"
    return {row.thread_id: (row.status, row.n_interrupts) for row in rows}


def _expected(op: dict | None) -> tuple[str, int] | None:
    if op is None:
        return None
    return ("waiting", len(op["waiting"])) if op["waiting"] else ("completed", 0)


def test_index_matches_the_agents_writes_at_every_listing_and_the_naive_truth_at_rest(
    inbox: Inbox, db_url: str, tmp_path: Path
) -> None:
    # Threads written before the agents start and never touched by them.
    for n in range(5):
        config = {"configurable": {"thread_id": f"quiet-{n}"}, "metadata": {"graph_id": "fragile"}}
        inbox.graph("fragile").invoke({"topic": f"quiet-{n}"}, config)
    logs = [tmp_path / f"agent-{n}.jsonl" for n in range(AGENTS)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    agents = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.index_agent", db_url, f"a{n}", str(OPS_PER_AGENT), str(n), str(logs[n]),
             *(["--clock-skew", "-3600"] if n == 0 else [])],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for n in range(AGENTS)
    ]
    listings: list[tuple[float, float, dict[str, tuple[str, int]], set[str], int]] = []
    try:
        while any(agent.poll() is None for agent in agents):
            started = time.time()
            page = inbox.pending(limit=1000)
            index = _index(inbox)  # the same refresh's rows, every status
            ended = time.time()
            listings.append((started, ended, index, {t.thread_id for t in page.items}, page.total))
    finally:
        for agent in agents:
            if agent.wait(120) != 0:
                pytest.fail(f"agent failed: {agent.stderr.read()}")
    ops = sorted((json.loads(line) for log in logs for line in log.read_text().splitlines()), key=lambda op: op["t1"])
    assert len(ops) == AGENTS * OPS_PER_AGENT
    assert len(listings) >= 10, "the desk should have listed many times while the agents ran"

    checked = 0
    for started, ended, index, listed, total in listings:
        assert total == len(listed)
        assert listed == {tid for tid, (status, _) in index.items() if status == "waiting"}
        touched = {op["thread"] for op in ops if op["t0"] <= ended and op["t1"] >= started}
        last: dict[str, dict] = {}
        for op in ops:
            if op["t1"] < started:
                last[op["thread"]] = op
        for thread_id in ({op["thread"] for op in ops} | set(index)) - touched:
            if thread_id.startswith("quiet-"):
                continue
            assert index.get(thread_id) == _expected(last.get(thread_id)), (thread_id, started)
            checked += 1
        assert {f"quiet-{n}" for n in range(5)} <= listed
    assert checked > 100

    # At rest: the index against get_state on every thread the database holds.
    inbox.refresh()
    index = _index(inbox)
    everything = {row[0] for row in inbox.store.query("SELECT DISTINCT thread_id FROM checkpoints")}
    assert set(index) == everything
    final = {}
    for op in ops:
        final[op["thread"]] = op
    for thread_id in everything:
        graph_id = final[thread_id]["graph"] if thread_id in final else "fragile"
        state = inbox.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}})
        truth = ("waiting", len(state.interrupts)) if state.interrupts else ("completed", 0)
        assert index[thread_id] == truth, thread_id
        if thread_id in final:
            assert truth == _expected(final[thread_id]), thread_id
    page = inbox.pending(limit=1000)
    waiting_truth = {tid for tid, (status, _) in index.items() if status == "waiting"}
    assert {t.thread_id for t in page.items} == waiting_truth and page.total == len(waiting_truth)
    for item in page.items:
        state = inbox.graph(item.graph_id).get_state({"configurable": {"thread_id": item.thread_id}})
        assert {i.id for i in item.interrupts} == {i.id for i in state.interrupts}


def test_an_agent_with_a_slow_clock_still_gets_listed(inbox: Inbox) -> None:
    """Checkpoint ids an hour older than everything indexed so far are not missed (no id watermark)."""
    from tests.index_agent import skew_clock

    inbox.graph("fragile").invoke({"topic": "now"}, {"configurable": {"thread_id": "now"}, "metadata": {"graph_id": "fragile"}})
    assert inbox.pending().total == 1
    import langgraph.checkpoint.base.id as ids

    original = ids.time
    try:
        skew_clock(-3600)
        ids._last_v6_timestamp = None
        inbox.graph("fragile").invoke(
            {"topic": "late"}, {"configurable": {"thread_id": "late"}, "metadata": {"graph_id": "fragile"}}
        )
    finally:
        ids.time = original
    page = inbox.pending()
    assert page.total == 2
    assert [t.thread_id for t in page.items] == ["late", "now"]  # oldest first, by the skewed ids


@pytest.mark.parametrize(
    "needle",
    ["topic", "TOPIC-1", "pic-1", "ic", "q", "Ünï", "ünïcödé", "50%_off", 'say "hi"', "it's", "deploy topic-12 to prod", "zzz"],
)
def test_search_finds_exactly_the_rows_a_scan_finds(inbox: Inbox, needle: str) -> None:
    """The search index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) agrees with a substring scan,
    also after threads move on (their text changes) and after they are deleted."""
    topics = ["topic-1", "topic-12", "Ünïcödé topic", 'say "hi" topic', "it's 50%_off", "plain"]
    for n, topic in enumerate(topics):
        config = {"configurable": {"thread_id": f"s-{n}"}, "metadata": {"graph_id": "fragile"}}
        inbox.graph("fragile").invoke({"topic": topic}, config)
    inbox.refresh()

    def check() -> None:
        rows, _, total = inbox.store.list_threads(status=None, search=needle, limit=1000)
        texts = dict(inbox.store.query("SELECT thread_id, search_text FROM hitl_threads"))
        expected = {tid for tid, text in texts.items() if needle.lower() in text}
        assert {r.thread_id for r in rows} == expected and total == len(expected)

    check()
    inbox.decide("s-1", approve=True, reviewer="alice")  # s-1's text changes as it completes
    check()
    inbox.store.saver.delete_thread("s-2")
    inbox.refresh()
    check()


def test_counts_table_equals_a_count_of_the_index(inbox: Inbox) -> None:
    """`hitl_counts` (kept by triggers) always equals COUNT(*) over `hitl_threads`."""

    def check() -> None:
        counted = {
            (status, graph or ""): n
            for status, graph, n in inbox.store.query("SELECT status, graph_id, COUNT(*) FROM hitl_threads GROUP BY status, graph_id")
        }
        kept = {(status, graph): n for status, graph, n in inbox.store.query("SELECT status, graph_id, n FROM hitl_counts") if n}
        assert kept == counted
        assert all(n >= 0 for (n,) in inbox.store.query("SELECT n FROM hitl_counts"))
        for graph_id in (None, "fragile", "two_in_one"):
            _, _, total = inbox.store.list_threads(status="waiting", graph_id=graph_id, limit=1)
            assert total == sum(n for (status, graph), n in counted.items() if status == "waiting" and graph_id in (None, graph))

    for n in range(4):
        inbox.graph("fragile").invoke({"topic": f"c{n}"}, {"configurable": {"thread_id": f"c-{n}"}, "metadata": {"graph_id": "fragile"}})
    inbox.graph("two_in_one").invoke({"topic": "x"}, {"configurable": {"thread_id": "two"}, "metadata": {"graph_id": "two_in_one"}})
    inbox.refresh()
    check()
    inbox.decide("c-0", approve=True, reviewer="a")  # waiting -> completed
    inbox.decide("two", approve=True, reviewer="a")  # waiting -> waiting (second interrupt)
    inbox.resolve("c-1", reviewer="a", reason="dup")  # waiting -> resolved
    inbox.store.saver.delete_thread("c-2")  # row deleted
    inbox.refresh()
    check()
    assert inbox.counts() == {"waiting": 2, "completed": 1, "resolved": 1}
