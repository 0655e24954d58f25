"""The first index of a database the desk has never seen does not block the Inbox.

Threads are written by agents' own savers before any desk opened the database (so there are
no `hitl_` tables yet). Then:

* a desk lists a first page while its background first index is still under way (newest
  threads first), agents keep writing meanwhile, and the index ends equal to `get_state`;
* a desk process indexing in the background is killed midway; a second desk takes the
  lease over once it lapses and finishes: nothing indexed twice, nothing skipped.

Both run on SQLite and PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from hitl import Inbox
from hitl import desk as desk_module
from tests import fixture_graphs
from tests.conftest import ROOT
from tests.index_agent import answer_for, open_saver

GRAPHS = ("fragile", "two_in_one", "parallel")


def _agent_graphs(db_url: str) -> dict[str, Any]:
    saver = open_saver(db_url)
    saver.setup()
    return {gid: getattr(fixture_graphs, gid).compile(checkpointer=saver) for gid in GRAPHS}


def _fill(graphs: dict[str, Any], n: int, prefix: str = "old") -> list[str]:
    """n threads written by an agent (no desk involved); every third one answered once."""
    ids = []
    for i in range(n):
        graph_id = GRAPHS[i % len(GRAPHS)]
        thread_id = f"{prefix}-{i:04d}"
        config = {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": graph_id}}
        graphs[graph_id].invoke({"topic": thread_id}, config)
        if i % 3 == 0:
            pending = graphs[graph_id].get_state(config).interrupts
            graphs[graph_id].invoke(Command(resume={p.id: answer_for(p.value) for p in pending}), config)
        ids.append(thread_id)
    return ids


def _graph_of(thread_id: str, inbox: Inbox) -> str:
    rows = inbox.store.query("SELECT graph_id FROM hitl_threads WHERE thread_id = ?", (thread_id,))
    return rows[0][0]


def _assert_index_is_the_truth(inbox: Inbox, graphs: dict[str, Any]) -> None:
    inbox.refresh()
    rows, cursor, _ = inbox.store.list_threads(status=None, limit=1000)
    assert cursor is None
    index = {row.thread_id: (row.status, row.n_interrupts) for row in rows}
    everything = {row[0] for row in inbox.store.query("SELECT DISTINCT thread_id FROM checkpoints")}
    assert set(index) == everything
    for thread_id in everything:
        state = graphs[_graph_of(thread_id, inbox)].get_state({"configurable": {"thread_id": thread_id}})
        truth = ("waiting", len(state.interrupts)) if state.interrupts else ("completed", 0)
        assert index[thread_id] == truth, thread_id
    page = inbox.pending(limit=1000)
    assert page.total == sum(1 for status, _ in index.values() if status == "waiting")


def _wait_until(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.05)


def test_a_first_page_comes_before_the_first_index_is_complete(db_url: str, graphs_file: Path) -> None:
    graphs = _agent_graphs(db_url)
    old = _fill(graphs, 120)
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs_file))
    try:
        inbox.first_index_in_call = 10  # 120 threads: a "big" first index, done in the background
        inbox.index_batch = 25
        gate = threading.Event()
        backfill = inbox.store.backfill

        def gated_backfill(*args: Any, **kwargs: Any) -> int:
            taken = backfill(*args, **kwargs)
            gate.wait(60)  # hold the index after its first batch until the test has listed
            return taken

        inbox.store.backfill = gated_backfill  # type: ignore[method-assign]
        assert inbox.indexing() == {"done": 0, "total": 120, "seconds_left": None}
        started = time.monotonic()
        first = inbox.pending(limit=50)
        assert time.monotonic() - started < 5
        _wait_until(lambda: inbox.indexing()["done"] >= 25)
        page = inbox.pending(limit=50)
        progress = inbox.indexing()
        assert progress["done"] == 25 and progress["total"] == 120
        # What is indexed so far is the newest threads: the last 25 written.
        indexed = {row[0] for row in inbox.store.query("SELECT thread_id FROM hitl_threads")}
        assert indexed == set(old[-25:])
        assert {t.thread_id for t in page.items} <= indexed and page.total == len(page.items) > 0
        assert first.total <= page.total
        # Agents keep writing during the first index: a new thread, an answered old one.
        graphs["fragile"].invoke(
            {"topic": "new"}, {"configurable": {"thread_id": "new-0"}, "metadata": {"graph_id": "fragile"}}
        )
        config = {"configurable": {"thread_id": old[1]}}
        pending = graphs["two_in_one"].get_state(config).interrupts
        graphs["two_in_one"].invoke(Command(resume={p.id: answer_for(p.value) for p in pending}), config)
        listed = {t.thread_id for t in inbox.pending(limit=1000).items}
        assert "new-0" in listed  # what agents change now is indexed at once, not after the backlog
        gate.set()
        _wait_until(lambda: inbox.indexing()["done"] == 120)
        assert not inbox.store.backfill_pending()
        _assert_index_is_the_truth(inbox, graphs)
    finally:
        gate.set()
        inbox.close()


def test_a_small_first_index_is_done_in_the_call(db_url: str, graphs_file: Path) -> None:
    graphs = _agent_graphs(db_url)
    _fill(graphs, 12)
    with Inbox.open(database_url=db_url, graphs_path=str(graphs_file)) as inbox:
        assert inbox.pending().total == 8  # 12 threads, 4 of them answered once: parallel ones still wait
        assert inbox.indexing()["done"] == inbox.indexing()["total"] == 12
        _assert_index_is_the_truth(inbox, graphs)


def test_a_second_desk_finishes_the_first_index_of_a_killed_one(db_url: str, graphs_file: Path) -> None:
    graphs = _agent_graphs(db_url)
    _fill(graphs, 150)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    desk = subprocess.Popen(
        [sys.executable, "-m", "tests.first_index_desk", db_url, str(graphs_file), "10", "15"],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert desk.stdout.readline().strip() == "ready", desk.stderr.read()
        second = Inbox.open(database_url=db_url, graphs_path=str(graphs_file))
        second.first_index_in_call = 0
        second.index_lease_seconds = 5
        second.index_batch = 25
        try:
            desk.stdin.write("go\n")
            desk.stdin.flush()
            assert desk.stdout.readline().strip() == "started", desk.stderr.read()
            second.pending()  # its own background indexer waits: the other process holds the lease
            desk.stdin.write("batch\n" * 4)  # four batches of 10, then the indexer is killed
            desk.stdin.flush()
            _wait_until(lambda: second.indexing()["done"] >= 40)
            os.kill(desk.pid, signal.SIGKILL)
            desk.wait(30)
            killed_at = time.time()
            time.sleep(1)  # a COMMIT the server was running when its client died lands now (the lease lasts 15 s)
            before = dict(second.store.query("SELECT thread_id, updated_at FROM hitl_threads"))
            done_by_first = second.indexing()["done"]
            assert len(before) == done_by_first == 40, second.store.indexing()  # only the lease holder indexed
            _wait_until(lambda: second.indexing()["done"] == 150)
            after = dict(second.store.query("SELECT thread_id, updated_at FROM hitl_threads"))
            # Nothing indexed twice: what the killed desk wrote was not rewritten...
            assert {tid: after[tid] for tid in before} == before
            # ...and everything else was written once, by the second desk, after the kill.
            assert all(after[tid] >= killed_at for tid in set(after) - set(before)), second.store.indexing()
            assert second.indexing()["done"] == second.indexing()["total"] == 150
            assert not second.store.backfill_pending()
            _assert_index_is_the_truth(second, graphs)
        finally:
            second.close()
    finally:
        if desk.poll() is None:
            desk.kill()
            desk.wait()


def test_the_first_index_computed_by_worker_processes_equals_the_truth(
    db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools: list[Any] = []

    class CountedPool(desk_module.IndexPool):
        def map(self, chunks: list[list[tuple]]) -> Any:
            pools.append(len(chunks))
            return super().map(chunks)

    monkeypatch.setattr(desk_module, "IndexPool", CountedPool)
    graphs = _agent_graphs(db_url)
    _fill(graphs, 90)  # fragile, two_in_one and parallel (Send tasks: left to the desk process) threads
    with Inbox.open(database_url=db_url, graphs_path=str(graphs_file)) as inbox:
        inbox.first_index_in_call = 0
        inbox.index_workers, inbox.index_pool_min = 2, 0
        inbox.index_pool_batch, inbox.index_batch = 40, 7  # several reads, chunks written while others compute
        indexed: list[str] = []
        inbox.on_indexed(indexed.extend)
        inbox.pending()
        _wait_until(lambda: inbox.indexing()["done"] == 90)
        assert not inbox.store.backfill_pending()
        assert pools == [6, 6, 2]  # 40 + 40 + 10 threads, in chunks of 7, computed by the workers
        assert sorted(indexed) == sorted(row[0] for row in inbox.store.query("SELECT thread_id FROM hitl_threads"))
        _assert_index_is_the_truth(inbox, graphs)
