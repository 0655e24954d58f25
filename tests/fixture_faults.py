"""Fault injection at every step of a resume, for the outcome-unknown tests.

`charge` pauses at a question; once answered, its node counts one side effect in an SQLite
table of its own (`fixture_race.side_effect_count`), the way a real node would call a
payment API: the count says how many times the resumed node really ran, across processes.
Two files steer it from outside, so a test can hold the node mid-run while it breaks the
database: the node writes ENTERED (its answer is in) and waits for GATE before its side
effect. RAISE_IN_NODE makes it raise before the side effect (a node of its own failing).

`inject(inbox, stage, action)` calls `action(stage)` at one step of the next resume:

| stage | where |
|---|---|
| before_claim | before the claim transaction |
| after_claim | the claim committed; the graph not started yet |
| in_node | inside the resumed node, before its side effect |
| after_node | the side effect done; LangGraph about to save the node's writes |
| after_checkpoint | the run saved; the desk about to close its claim |
| after_close | inside the closing transaction: the claim updated, the audit row not yet appended |

`fault_child` is a desk process that stalls at a stage until the parent kills it (SIGKILL).
"""

from __future__ import annotations

import operator
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from tests.fixture_race import SIDE_EFFECTS_ENV, _record_side_effect, side_effect_count

__all__ = [
    "ENTERED_ENV",
    "GATE_ENV",
    "GRAPH_ID",
    "RAISE_IN_NODE_ENV",
    "SIDE_EFFECTS_ENV",
    "STAGES",
    "charge",
    "fault_child",
    "inject",
    "side_effect_count",
]

GRAPH_ID = "charge"
ENTERED_ENV = "HITL_TEST_FAULT_ENTERED"
"""When set, the node writes this file once its interrupt returned (before its side effect)."""
GATE_ENV = "HITL_TEST_FAULT_GATE"
"""When set, the node waits for this file to exist before its side effect."""
RAISE_IN_NODE_ENV = "HITL_TEST_FAULT_RAISE_IN_NODE"
"""When set, the node raises ConnectionError before its side effect."""
GATE_TIMEOUT_SECONDS = 120.0

STAGES = ("before_claim", "after_claim", "in_node", "after_node", "after_checkpoint", "after_close")


class State(TypedDict, total=False):
    topic: str
    log: Annotated[list, operator.add]


def _charge(state: State, config: RunnableConfig) -> dict:
    answer = interrupt({"action": "charge_card", "details": f"charge invoice {state.get('topic')}", "question": "Charge it?"})
    entered = os.environ.get(ENTERED_ENV)
    if entered:
        Path(entered).write_text(str(os.getpid()))
    gate = os.environ.get(GATE_ENV)
    if gate:
        deadline = time.monotonic() + GATE_TIMEOUT_SECONDS
        while not Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    if os.environ.get(RAISE_IN_NODE_ENV):
        raise ConnectionError("payment API unreachable (injected)")
    _record_side_effect(config["configurable"]["thread_id"], bool(answer.get("approved")))
    return {"log": [f"charged:{answer.get('approved')}"]}


charge = StateGraph(State)
"""question -> one counted side effect per run of the resumed node."""
charge.add_node("charge", _charge)
charge.add_edge(START, "charge")
charge.add_edge("charge", END)


def inject(inbox: Any, stage: str, action: Callable[[str], None], *, patch: Any = None) -> None:
    """Make the desk call `action(stage)` at `stage` of its next resume (see the module table).

    "in_node" is the node's own business: set ENTERED/GATE or RAISE_IN_NODE instead.
    `patch` is a pytest `monkeypatch` (undone after the test); None patches for good (a
    child process).
    """
    from hitl import runner

    set_attribute = patch.setattr if patch is not None else setattr

    def wrap(owner: Any, name: str, *, once: bool = True) -> None:
        original = getattr(owner, name)
        fired: list[bool] = []

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not (once and fired):
                fired.append(True)
                action(stage)
            return original(*args, **kwargs)

        set_attribute(owner, name, wrapped)

    store = inbox.store
    if stage == "before_claim":
        wrap(store, "claim")
    elif stage == "after_claim":
        wrap(runner, "invoke")
    elif stage == "in_node":
        return
    elif stage == "after_node":
        # Every write the graph's saver makes during the run: the node's writes, then its
        # checkpoint. (With LANGGRAPH_STRICT_MSGPACK the compiled graph holds its own copy of
        # the desk's saver, with the state's types allowed: that copy is the one to break.)
        saver = inbox.graph(GRAPH_ID).checkpointer
        wrap(saver, "put_writes", once=False)
        wrap(saver, "put", once=False)
    elif stage == "after_checkpoint":
        wrap(store, "close_claims")
    elif stage == "after_close":
        wrap(store, "append_audit")
    else:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")


def backend_error(inbox: Any, what: str) -> Exception:
    """The driver's own error for a lost database, as the saver would raise it."""
    if inbox.store.backend == "postgres":
        import psycopg

        return psycopg.OperationalError(f"server closed the connection unexpectedly ({what}, injected)")
    return sqlite3.OperationalError(f"database is locked ({what}, injected)")


def fault_child(
    database_url: str,
    graphs_path: str,
    thread_id: str,
    interrupt_id: str,
    lease_seconds: float,
    marker: str,
    stage: str,
) -> None:
    """A desk that answers `{"approved": True}` as reviewer "crashed-desk", and stalls at
    `stage` (writing `marker` first) until the parent kills it with SIGKILL."""
    from hitl import Inbox

    def stall(_: str) -> None:
        Path(marker).write_text(str(os.getpid()))
        time.sleep(GATE_TIMEOUT_SECONDS)

    inbox = Inbox.open(database_url=database_url, graphs_path=graphs_path, claim_lease_seconds=lease_seconds)
    if stage == "in_node":
        os.environ[ENTERED_ENV] = marker
        os.environ[GATE_ENV] = marker + ".never"
    inject(inbox, stage, stall)
    inbox.resume(thread_id, {interrupt_id: {"approved": True}}, reviewer="crashed-desk")
    os.kill(os.getpid(), signal.SIGKILL)  # pragma: no cover - never reached: the parent kills us first
