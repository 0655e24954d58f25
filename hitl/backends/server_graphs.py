"""The LangGraph server's assistants as the desk's graphs: `ServerRegistry` lists them and
`ServerGraph` runs one on the server, at most once per decision although the server does not
enforce it (see `hitl.backends.server` for the whole backend)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import httpx
from langchain_core.runnables.graph import Edge, Graph, Node
from langgraph.types import Command

from hitl.backends.server import ServerStore
from hitl.backends.server_wire import (
    SKEW_SECONDS,
    NotFound,
    ServerUnreachable,
    epoch,
    http_error,
    interrupts_of,
    is_uuid,
    nothing_ran,
)
from hitl.errors import AlreadyDecided, HitlError, UnknownGraph
from hitl.registry import GraphMatch, Registry
from hitl.storage.server_mirror import record_run, set_run_status

__all__ = ["ServerGraph", "ServerRegistry", "ServerRunFailed"]


class ServerRegistry:
    """The server's assistants as the desk's graphs (`hitl.backends.Graphs`).

    `local` (the optional HITL_GRAPHS registry) lends a graph's source code when the desk has
    it: answer contracts are then read from the nodes' code, as for the SQL backends; without
    it they come from the payload's format, its response_schema or HITL_CONFIG's declarations.
    """

    cache_seconds = 30.0

    def __init__(self, store: ServerStore, local: Registry | None = None) -> None:
        self.store = store
        self.local = local
        self._ids: tuple[float, list[str]] | None = None
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        """The graph ids of the server's assistants (cached for `cache_seconds`)."""
        with self._lock:
            if self._ids is not None and time.monotonic() - self._ids[0] < self.cache_seconds:
                return list(self._ids[1])
        assistants = self.store.call("list the server's assistants", lambda: self.store.client.assistants.search(limit=1000))
        ids = list(dict.fromkeys(a["graph_id"] for a in assistants if a.get("graph_id")))
        with self._lock:
            self._ids = (time.monotonic(), ids)
        return list(ids)

    def error(self, graph_id: str) -> str | None:
        try:
            known = self.ids()
        except HitlError as exc:
            return str(exc)
        return None if graph_id in known or is_uuid(graph_id) else f"the server has no graph or assistant {graph_id!r}"

    def graph(self, graph_id: str) -> ServerGraph:
        """The server's graph (or assistant) `graph_id`.

        Raises:
            UnknownGraph: the server has no such graph.
        """
        why = self.error(graph_id)
        if why is not None:
            raise UnknownGraph(f"Graph {graph_id!r} cannot be used: {why} (graphs there: {', '.join(self._known()) or 'none'}).")
        source = None
        if self.local is not None and graph_id in self.local.ids() and self.local.error(graph_id) is None:
            source = self.local.graph(graph_id)
        return ServerGraph(self.store, graph_id, source=source)

    def _known(self) -> list[str]:
        try:
            return self.ids()
        except HitlError:
            return []

    def nodes(self, graph_id: str) -> frozenset[str]:
        try:
            return frozenset(self.graph(graph_id).get_graph().nodes)
        except HitlError:
            return frozenset()

    def match(self, metadata_graph_id: str | None, nodes: Iterable[str | None]) -> GraphMatch:
        """The thread's graph is the one the server ran it with (its metadata's graph_id)."""
        if metadata_graph_id:
            return GraphMatch(metadata_graph_id)
        return GraphMatch(None, "the server's thread names no graph_id or assistant_id in its metadata")

    def new_thread_id(self, graph_id: str) -> str:
        return str(uuid.uuid4())  # the server's thread ids are UUIDs


class ServerGraph:
    """One graph (assistant) of the server, with the compiled graph's methods the desk calls."""

    remote = True
    """Runs on the server (`hitl.runner.invoke` calls `invoke` as is)."""

    def __init__(self, store: ServerStore, graph_id: str, *, source: Any = None, metadata: dict[str, Any] | None = None) -> None:
        self.store = store
        self.graph_id = graph_id
        self.source = source
        self.metadata = dict(metadata or {})

    @property
    def nodes(self) -> dict[str, Any]:
        """The local source graph's nodes (for reading answer contracts), else none."""
        return dict(getattr(self.source, "nodes", {}) or {})

    def with_config(self, *, metadata: dict[str, Any] | None = None, **_: Any) -> ServerGraph:
        return ServerGraph(self.store, self.graph_id, source=self.source, metadata={**self.metadata, **(metadata or {})})

    def get_graph(self, **_: Any) -> Any:
        """The diagram the server draws (`assistants.get_graph`), as a langchain_core `Graph`."""
        assistant = self.graph_id
        try:
            drawn = self.store.call("draw the graph", lambda: self.store.client.assistants.get_graph(assistant))
        except NotFound:
            raise UnknownGraph(f"The server has no graph or assistant {assistant!r} to draw.") from None
        nodes = {
            str(node["id"]): Node(id=str(node["id"]), name=str(node.get("name") or node["id"]), data=None, metadata=None)
            for node in drawn.get("nodes") or []
        }
        edges = [
            Edge(source=str(e["source"]), target=str(e["target"]), data=e.get("data"), conditional=bool(e.get("conditional")))
            for e in drawn.get("edges") or []
        ]
        return Graph(nodes=nodes, edges=edges)

    def get_state(self, config: dict[str, Any]) -> Any:
        thread_id = config["configurable"]["thread_id"]
        try:
            state = self.store.call("read the thread's state", lambda: self.store.client.threads.get_state(thread_id))
        except NotFound:
            state = {}
        values = state.get("values") if isinstance(state, dict) else None
        return SimpleNamespace(values=values if values is not None else {}, next=tuple(state.get("next") or ()))

    def update_state(self, config: dict[str, Any], values: Any, as_node: str | None = None) -> None:
        """`threads.update_state` on the server, the config's metadata merged into the thread's."""
        thread_id = config["configurable"]["thread_id"]
        client = self.store.client
        self.store.call("update the thread", lambda: client.threads.update_state(thread_id, values, as_node=as_node))
        metadata = config.get("metadata") or {}
        if metadata:
            self.store.call("update the thread's metadata", lambda: client.threads.update(thread_id, metadata=metadata))

    def invoke(self, graph_input: Any, config: dict[str, Any]) -> None:
        """Run the graph on the server for the config's thread and wait for the run's end.

        `graph_input` is a `Command(resume={interrupt_id: value})` (a decision), None (a retry:
        continue the thread) or the input of a new thread (Start a run). Raises what the run
        did: `AlreadyDecided` / busy / unreachable before the run (marked `nothing_ran`: no
        run was created), `ServerUnreachable` once it was (its outcome unknown).
        """
        thread_id = str(config["configurable"]["thread_id"])
        metadata = {**self.metadata, **(config.get("metadata") or {})}
        resume = graph_input.resume if isinstance(graph_input, Command) else None
        kwargs, assistant, nodes = self._prepare(thread_id, graph_input, resume, metadata)
        started = time.time()
        run_id = self._create_run(thread_id, assistant, kwargs, metadata, started, config, nodes)
        record_run(self.store, thread_id, list(resume) if isinstance(resume, dict) else [""], run_id, started)
        report_started(config, nodes)
        try:
            finished = self._wait_for(thread_id, run_id)
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            raise ServerUnreachable(
                f"The LangGraph server at {self.store.server_url} went away while run {run_id} ran on thread "
                f"{thread_id!r} ({type(exc).__name__}); its outcome is unknown. Check the thread when the server is back."
            ) from None
        status = finished.get("status")
        set_run_status(self.store, run_id, status)
        if status in ("error", "timeout", "interrupted") and not self.store.failed_tasks(thread_id):
            # The run ended badly and the thread records no failed task: what ran is unknown.
            raise ServerRunFailed(f"run {run_id} ended {status} on the server without a recorded error")

    def _prepare(
        self, thread_id: str, graph_input: Any, resume: Any, metadata: dict[str, Any]
    ) -> tuple[dict[str, Any], str, list[str]]:
        """(the run's arguments, its assistant, the nodes it resumes), checked right before the
        run: a decision's interrupts must still be pending on the server. A new thread's input
        creates the thread. Raises, marked `nothing_ran`, when nothing may run."""
        store, client = self.store, self.store.client
        try:
            current = store.server_thread(thread_id)
        except HitlError as exc:
            raise nothing_ran(exc) from None
        if not (isinstance(graph_input, Command) or graph_input is None):
            if current is None:
                store.call("create the thread", lambda: client.threads.create(thread_id=thread_id, metadata={"graph_id": self.graph_id, **metadata}))
            return {"input": graph_input}, self.graph_id, []
        if current is None:
            raise nothing_ran(HitlError(f"The server has no thread {thread_id!r}; nothing was run."))
        nodes: list[str] = []
        if isinstance(resume, dict):
            # An answer given outside the desk (Studio, another client) since the desk's read
            # would otherwise be repeated by the server as a no-op "success".
            pending = {i["id"]: i for i in interrupts_of(current)} if current.get("status") == "interrupted" else {}
            moved = [iid for iid in resume if iid not in pending]
            if moved:
                raise nothing_ran(AlreadyDecided(moved[0], reviewer="someone outside the desk", decided_at=None, thread_id=thread_id))
            nodes = [str(pending[iid].get("node")) for iid in resume if pending[iid].get("node")]
        kwargs: dict[str, Any] = {"command": {"resume": resume}} if resume is not None else {"input": None}
        return kwargs, (current.get("metadata") or {}).get("assistant_id") or self.graph_id, nodes

    def _create_run(self, thread_id: str, assistant: str, kwargs: dict[str, Any], metadata: dict[str, Any],
                    started: float, config: dict[str, Any], nodes: list[str]) -> str:  # fmt: skip
        """Create the run with `multitask_strategy="reject"`; its id. A refusal or a lost
        request that created no run is `nothing_ran`; a lost request whose run exists is not."""
        store = self.store
        try:
            run = store.client.runs.create(thread_id, assistant, multitask_strategy="reject", metadata=metadata, **kwargs)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 409:
                raise nothing_ran(HitlError(
                    f"Thread {thread_id!r} is busy on the server (another run is in progress); nothing was run. "
                    "Try again when it has paused or finished."
                )) from None  # fmt: skip
            raise nothing_ran(HitlError(
                f"The server refused the run on thread {thread_id!r}: {http_error(exc)}; nothing was run."
            )) from None  # fmt: skip
        except httpx.TransportError as exc:
            # The request may have reached the server: only a run we can see proves it did.
            if not self._run_exists(thread_id, started):
                raise nothing_ran(ServerUnreachable(
                    f"The LangGraph server at {store.server_url} did not answer ({type(exc).__name__}); nothing was "
                    "run and the claim was released. Start the server (or fix HITL_LANGGRAPH_API_URL) and answer again."
                )) from None  # fmt: skip
            report_started(config, nodes)
            raise ServerUnreachable(
                f"The LangGraph server at {store.server_url} went away after the run on thread {thread_id!r} was "
                "sent; its outcome is unknown. Check the thread when the server is back."
            ) from None
        return str(run["run_id"])

    def _wait_for(self, thread_id: str, run_id: str) -> dict[str, Any]:
        """The run once it has ended. Polled (not `runs.join`, whose reconnects wait up to a
        minute on a server that went away): a lost server is seen within one poll."""
        delay = 0.02
        while True:
            run = self.store.client.runs.get(thread_id, run_id)
            if run.get("status") not in ("pending", "running"):
                return run
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    def _run_exists(self, thread_id: str, since: float) -> bool:
        try:
            runs = self.store.client.runs.list(thread_id, limit=5)
        except (httpx.TransportError, httpx.HTTPStatusError):
            return True  # cannot tell: assume it may have run
        return any(epoch(r["created_at"]) >= since - SKEW_SECONDS for r in runs)


class ServerRunFailed(HitlError):
    """A run ended in error on the server without the thread recording which task failed."""


def report_started(config: dict[str, Any], nodes: list[str]) -> None:
    """Tell the run's callbacks (the desk's `_NodeStarts`) that nodes may now run: a failure
    from here on is an unknown outcome, never "nothing ran"."""
    for handler in config.get("callbacks") or []:
        start = getattr(handler, "on_chain_start", None)
        if start is None:
            continue
        for node in nodes or ["the server's run"]:
            start({}, {}, run_id=uuid.uuid4(), parent_run_id=uuid.uuid4(), metadata={"langgraph_node": node})
