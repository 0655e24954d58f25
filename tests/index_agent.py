"""An agent process for tests/storage/test_index_consistency.py: runs the test graphs on its own saver.

    python -m tests.index_agent URL PREFIX OPS SEED LOG [--clock-skew SECONDS]

Starts threads (they pause at interrupts), answers them (they move on to the next interrupt
or complete), and appends one JSON line per operation to LOG: the thread, its graph, when
the operation started and ended (time.time(), comparable across processes on one machine),
and the interrupt ids pending after it. `--clock-skew` shifts the clock LangGraph stamps
checkpoint ids with, as an agent machine whose clock is off would.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from typing import Any

from langgraph.types import Command

GRAPHS = ("fragile", "two_in_one", "parallel")


def open_saver(url: str) -> Any:
    """The saver an agent would use on this URL (no desk code involved)."""
    if url.startswith("sqlite:///"):
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(url[len("sqlite:///") :], check_same_thread=False, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        return SqliteSaver(conn)
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    conn = psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    return PostgresSaver(conn)


def skew_clock(seconds: float) -> None:
    """Make LangGraph's checkpoint ids (UUIDv6, from time.time_ns) come from a skewed clock."""
    from types import SimpleNamespace

    import langgraph.checkpoint.base.id as ids

    real = time.time_ns
    ids.time = SimpleNamespace(time_ns=lambda: real() + int(seconds * 1e9))


def answer_for(value: Any) -> Any:
    if isinstance(value, str):
        return True  # confirm
    if isinstance(value, dict) and value.get("type") == "edit":
        return {"action": "approve", "edited": "v2"}
    return {"approved": True}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("prefix")
    parser.add_argument("ops", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("log")
    parser.add_argument("--clock-skew", type=float, default=0.0)
    args = parser.parse_args()
    if args.clock_skew:
        skew_clock(args.clock_skew)
    from tests import fixture_graphs

    saver = open_saver(args.url)
    graphs = {gid: getattr(fixture_graphs, gid).compile(checkpointer=saver) for gid in GRAPHS}
    rng = random.Random(args.seed)
    waiting: dict[str, str] = {}
    created = 0
    with open(args.log, "a", encoding="utf-8") as log:
        for _ in range(args.ops):
            if not waiting or (len(waiting) < 8 and rng.random() < 0.5):
                graph_id = rng.choice(GRAPHS)
                thread_id = f"{args.prefix}-{created}"
                created += 1
                config = {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": graph_id}}
                started = time.time()
                graphs[graph_id].invoke({"topic": thread_id}, config)
            else:
                thread_id = rng.choice(sorted(waiting))
                graph_id = waiting[thread_id]
                config = {"configurable": {"thread_id": thread_id}}
                pending = graphs[graph_id].get_state(config).interrupts
                started = time.time()
                graphs[graph_id].invoke(Command(resume={i.id: answer_for(i.value) for i in pending}), config)
            ended = time.time()
            after = [i.id for i in graphs[graph_id].get_state({"configurable": {"thread_id": thread_id}}).interrupts]
            if after:
                waiting[thread_id] = graph_id
            else:
                waiting.pop(thread_id, None)
            log.write(json.dumps({"thread": thread_id, "graph": graph_id, "t0": started, "t1": ended, "waiting": after}) + "\n")
            log.flush()
            time.sleep(rng.random() * 0.02)


if __name__ == "__main__":
    main()
