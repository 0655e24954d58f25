"""Graph runs in a worker thread, each bounded by `resume_timeout_seconds`, noting the nodes they start."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from langchain_core.callbacks import BaseCallbackHandler
from hitl import runner
from hitl.desk import Desk


def invoke_one(
    inbox: Desk,
    graph: Any,
    thread_id: str,
    command: Any,
    graph_id: str | None,
    *,
    on_timeout: Callable[[str], None],
    on_late: Callable[[dict[str, Any]], None],
) -> dict[str, Any] | None:
    """`graph.invoke(command)` in a worker thread, waited for up to `resume_timeout_seconds`
    (`invoke_many` with one run).

    Returns `{}` or `{"error": exc}`; None when the graph outlived the timeout: then
    `on_timeout(message)` ran, and `on_late(result)` runs in the worker when the graph ends
    (never before `on_timeout` returned).
    """
    finished = invoke_many(
        inbox, [(thread_id, graph, command, graph_id)], started={},
        on_timeout=lambda _, message: on_timeout(message), on_late=lambda _, result: on_late(result),
    )  # fmt: skip
    return finished.get(thread_id)


class _NodeStarts(BaseCallbackHandler):
    """Notes the nodes a run starts: LangGraph reports each node's start to the run's
    callbacks before the node's code runs, so a run that failed with none noted ran nothing."""

    run_inline = True  # called in the run's own thread (or loop), before the node's code

    def __init__(self) -> None:
        self.nodes: list[str] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: Any, parent_run_id: Any = None,
                       metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:  # fmt: skip
        if parent_run_id is None:
            return  # the graph itself
        node = (metadata or {}).get("langgraph_node") or kwargs.get("name") or "?"
        if node not in self.nodes:
            self.nodes.append(str(node))


def _call(graph: Any, thread_id: str, command: Any, graph_id: str | None, database_url: str) -> dict[str, Any]:
    """`graph.invoke(command)` on the thread (`ainvoke` on an async saver for an async graph):
    `{"nodes": [nodes started]}`, with `"error": exc` if it raised."""
    # Keep graph_id in the new checkpoints' metadata, as the first run put it there: without
    # it a finished thread (or one paused at a node several graphs share) can no longer be
    # matched to its graph and turns read-only.
    starts = _NodeStarts()
    config: dict[str, Any] = {"configurable": {"thread_id": thread_id}, "callbacks": [starts]}
    if graph_id:
        config["metadata"] = {"graph_id": graph_id}
    try:
        runner.invoke(graph, command, config, database_url=database_url)
    except BaseException as exc:  # recorded by the caller; never silently lost
        return {"error": exc, "nodes": list(starts.nodes)}
    return {"nodes": list(starts.nodes)}


def invoke_many(
    inbox: Desk,
    runs: list[tuple[str, Any, Any, str | None]],
    *,
    started: dict[str, float],
    on_timeout: Callable[[str, str], None],
    on_late: Callable[[str, dict[str, Any]], None],
) -> dict[str, dict[str, Any]]:
    """Resumes [(thread, graph, command, graph_id)], one after another in ONE worker thread
    (for a batch chunk, a thread per run cost more than the desk's own work; `invoke_one` is
    this with one run).

    Each run is still bounded by `resume_timeout_seconds` from its own start: a run that
    outlives it gets `on_timeout(thread, message)` and, when it ends, `on_late(thread,
    result)` in the worker (never before `on_timeout` returned); the runs queued behind it
    move to a fresh worker. Returns {thread: result} for the runs that ended in time;
    `started` receives every run's start time.
    """
    finished: dict[str, dict[str, Any]] = {}
    queue = list(runs)
    while queue:
        worker = _ChunkWorker(inbox, queue, started, on_late)
        timed_out, queue = worker.wait(finished)
        if timed_out is not None:
            try:
                on_timeout(timed_out, timeout_message(inbox))
            finally:
                worker.late_ok.set()
    return finished


class _ChunkWorker:
    """Runs queued resumes in order in one thread; `wait` watches each one's deadline."""

    def __init__(
        self,
        inbox: Desk,
        runs: list[tuple[str, Any, Any, str | None]],
        started: dict[str, float],
        on_late: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self._runs = runs
        self._started = started
        self._on_late = on_late
        self._timeout = inbox.settings.resume_timeout_seconds
        self._database_url = inbox.store.url
        self._cond = threading.Condition()
        self._done: dict[str, dict[str, Any]] = {}
        self._current: tuple[str, float] | None = None  # (thread, monotonic start) of the running run
        self._next = 0  # index of the next run to start
        self._given_up = False  # the caller gave up on the current run: start nothing more
        self.late_ok = threading.Event()
        """Set by the caller once the timeout is recorded: the late end may be recorded then."""
        name = f"hitl-resume-{runs[0][0]}" + (f"+{len(runs) - 1}" if len(runs) > 1 else "")
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        for index, (thread_id, graph, command, graph_id) in enumerate(self._runs):
            with self._cond:
                if self._given_up:
                    return
                self._started[thread_id] = time.time()
                self._current = (thread_id, time.monotonic())
                self._next = index + 1
            result = _call(graph, thread_id, command, graph_id, self._database_url)
            with self._cond:
                late = self._given_up
                if not late:
                    self._done[thread_id] = result
                    self._current = None
                    if len(self._done) == len(self._runs):
                        self._cond.notify_all()
            if late:
                self.late_ok.wait()
                self._on_late(thread_id, result)
                return

    def wait(self, finished: dict[str, dict[str, Any]]) -> tuple[str | None, list[tuple[str, Any, Any, str | None]]]:
        """Wait for the runs. Adds the runs that ended in time to `finished`; returns the
        thread whose run outlived its timeout (None if none did) and the runs not started."""
        with self._cond:
            while len(self._done) < len(self._runs):
                current = self._current
                left = self._timeout if current is None else current[1] + self._timeout - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._given_up = True
                finished.update(self._done)
                return current[0], self._runs[self._next :]  # type: ignore[index]
            finished.update(self._done)
            return None, []


def timeout_message(inbox: Desk) -> str:
    return (
        f"The graph did not finish within {inbox.settings.resume_timeout_seconds:g} s "
        "(HITL_RESUME_TIMEOUT_SECONDS); it is still running and its result will be recorded "
        "when it ends. The interrupt stays claimed until then."
    )
