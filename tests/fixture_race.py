"""Graphs and child-process entry points for the multiprocess tests (race, kill -9).

`payment` pauses at a question, then counts its side effect in an SQLite table of its own
(`side_effects` in the file named by HITL_TEST_SIDE_EFFECTS), the way a real node would call
a payment API: the count says how many times the resumed node really ran.

Child processes are started with the `spawn` method, so each imports the desk from scratch
and opens its own `Inbox` (its own connection) on the shared database file.
"""

from __future__ import annotations

import operator
import os
import signal
import sqlite3
import time
import traceback
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

SIDE_EFFECTS_ENV = "HITL_TEST_SIDE_EFFECTS"
"""Path of the SQLite file where `payment` counts its runs."""

PAUSE_MARKER_ENV = "HITL_TEST_PAUSE_MARKER"
"""When set, `payment` writes this file after the interrupt returns, then sleeps: the kill window."""

GRAPH_ID = "payment"


class State(TypedDict, total=False):
    topic: str
    log: Annotated[list, operator.add]


def side_effect_count(path: str | os.PathLike[str], thread_id: str | None = None) -> int:
    """How many times `payment` ran (for one thread, or in all)."""
    if not Path(path).exists():
        return 0
    with sqlite3.connect(path, timeout=30) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS side_effects (thread_id TEXT, pid INTEGER, approved INTEGER, at REAL)")
        if thread_id is None:
            return int(conn.execute("SELECT COUNT(*) FROM side_effects").fetchone()[0])
        return int(conn.execute("SELECT COUNT(*) FROM side_effects WHERE thread_id = ?", (thread_id,)).fetchone()[0])


def _record_side_effect(thread_id: str, approved: bool) -> None:
    path = os.environ[SIDE_EFFECTS_ENV]
    conn = sqlite3.connect(path, timeout=30)
    try:
        with conn:
            conn.execute("CREATE TABLE IF NOT EXISTS side_effects (thread_id TEXT, pid INTEGER, approved INTEGER, at REAL)")
            conn.execute(
                "INSERT INTO side_effects VALUES (?, ?, ?, ?)", (thread_id, os.getpid(), int(bool(approved)), time.time())
            )
    finally:
        conn.close()


def _pay(state: State, config: RunnableConfig) -> dict:
    answer = interrupt({"action": "make_payment", "details": f"pay invoice {state.get('topic')}", "question": "Pay it?"})
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(120)  # the test kills this process here
    _record_side_effect(config["configurable"]["thread_id"], bool(answer.get("approved")))
    return {"log": [f"paid:{answer.get('approved')}"]}


payment = StateGraph(State)
"""question -> one counted side effect per run of the resumed node."""
payment.add_node("pay", _pay)
payment.add_edge(START, "pay")
payment.add_edge("pay", END)


# --------------------------------------------------------------------------- race


def race_worker(
    index: int,
    database_url: str,
    graphs_path: str,
    rounds: list[tuple[str, str]],
    barrier: Any,
    results: Any,
) -> None:
    """One desk process: for each round, wait at the barrier, then answer that round's interrupt.

    Puts `(round, index, "won" | "already_decided" | "error", detail, start time, seconds)`
    on `results` per round.
    """
    try:
        from hitl import AlreadyDecided, Inbox

        inbox = Inbox.open(database_url=database_url, graphs_path=graphs_path)
        inbox.graph(GRAPH_ID)  # compile before the first barrier so no process starts late
    except BaseException as exc:  # pragma: no cover - reported to the parent
        results.put((-1, index, "error", f"startup: {type(exc).__name__}: {exc}", 0.0, 0.0))
        barrier.abort()
        return
    for number, (thread_id, interrupt_id) in enumerate(rounds):
        barrier.wait(timeout=120)
        wall = time.time()
        started = time.perf_counter()
        try:
            outcome = inbox.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer=f"desk-{index}")
            result, detail = "won", outcome.status
        except AlreadyDecided as exc:
            result, detail = "already_decided", str(exc)
        except BaseException as exc:  # anything else fails the test, with its traceback
            result, detail = "error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        results.put((number, index, result, detail, wall, time.perf_counter() - started))
    inbox.close()


# --------------------------------------------------------------------------- kill -9


def crash_child(
    database_url: str,
    graphs_path: str,
    thread_id: str,
    interrupt_id: str,
    lease_seconds: float,
    marker: str,
    stage: str,
) -> None:
    """A desk that answers, then stalls at `stage` until the parent kills it with SIGKILL.

    stage "in_node": inside the resumed node, after the interrupt returned and before its
    side effect: claimed, nothing committed.
    stage "before_close": the resume committed (side effect done, checkpoint written) but
    the desk dies before closing its claim and writing the audit row.
    """
    from hitl import Inbox

    inbox = Inbox.open(database_url=database_url, graphs_path=graphs_path, claim_lease_seconds=lease_seconds)
    if stage == "in_node":
        os.environ[PAUSE_MARKER_ENV] = marker
    elif stage == "before_close":

        def stall(*args: Any, **kwargs: Any) -> None:
            Path(marker).write_text(str(os.getpid()))
            time.sleep(120)

        inbox.store.finish_claims = stall  # type: ignore[method-assign]
    inbox.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="crashed-desk")
    os.kill(os.getpid(), signal.SIGKILL)  # pragma: no cover - never reached: the parent kills us first
