"""A LangGraph API server as the desk's backend (`HITL_LANGGRAPH_API_URL`), through langgraph-sdk.

The server owns the checkpoints (`langgraph dev` keeps them in files, the platform in its own
PostgreSQL); the desk cannot read a table of it. Three pieces implement the seam of
`hitl.backends.base` over it, so every service of the desk (claims, four eyes, quorum, access
rules, timeouts, webhooks, History, the REST API) runs unchanged:

- `ServerStore` is the desk's `Store` (its own records stay in `HITL_DATABASE_URL`) whose
  thread side asks the server: a fresh read of a thread is `threads.get` + `threads.get_state`
  (pending interrupts with their node, failed tasks, metadata); the listing is the desk's own
  index (`hitl_threads`, the same table, counts and search the SQL backends use), refreshed
  incrementally by `updated_at` (`threads.search` sorted newest first, read only down to the
  last refresh's watermark), with the page's interrupts kept beside it
  (`hitl_server_interrupts`) so a page never calls the server per thread.
- `ServerRegistry` hands out the server's assistants as graphs (`ServerGraph`).
- `ServerGraph.invoke(Command(resume={id: value}), config)` is the run, at most once although
  the server does not enforce it (a second resume of an answered interrupt is accepted there
  as a silent no-op): the desk has already claimed the interrupt in its own database
  (`hitl.resume`); right before the run the thread is read again and must still be
  interrupted at that interrupt id (else `AlreadyDecided`, nothing run); the run is created
  with `multitask_strategy="reject"`; its run id is recorded in `hitl_server_runs` before
  it is waited for.

A server that goes away before the run was created raises `ServerUnreachable` marked
`nothing_ran` (the claim is released); once the run was created, losing the server makes the
decision outcome unknown, as the SQL backends do for a node that may have run.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import httpx

from hitl.errors import AlreadyDecided, HitlError, StoreError, UnknownGraph
from hitl.registry import GraphMatch, Registry
from hitl.store import Indexer, RawInterrupt, Store

__all__ = ["ServerStore", "ServerRegistry", "ServerGraph", "ServerUnreachable", "connect_client", "SEARCH_PAGE"]

SEARCH_PAGE = 1000
"""Threads per `threads.search` call while refreshing (the server's maximum)."""

FIRST_SEARCH_PAGE = 50
"""Threads the first `threads.search` call of a refresh asks for; later calls ask for 4x more."""

SKEW_SECONDS = 2.0
"""A refresh re-reads threads updated this long before its watermark: the server's clock and
updated_at granularity may put a later write at an earlier time."""

READ_WORKERS = 8
"""Threads read from the server at once when many are read fresh (a batch chunk)."""

_THREAD_FIELDS = ["thread_id", "created_at", "updated_at", "status", "metadata", "interrupts"]

_STATUS = {"idle": "completed", "busy": "running", "error": "failed", "interrupted": "waiting", "timeout": "failed"}


class ServerUnreachable(StoreError):
    """The LangGraph server did not answer; what this says happened to the decision is all that did."""


def connect_client(url: str, api_key: str | None = None) -> Any:
    """A langgraph-sdk sync client for `url`, `api_key` sent as `x-api-key` when given."""
    from langgraph_sdk.client import SyncLangGraphClient

    # The SDK's own factory retries a refused connection five times with backoff (~15 s)
    # and reads LANGSMITH_API_KEY & co. from the environment; the desk wants a prompt
    # "server unreachable" and sends exactly the key it was configured with.
    http = httpx.Client(
        base_url=url,
        transport=httpx.HTTPTransport(retries=1),
        timeout=httpx.Timeout(10.0, read=300.0),
        headers={"x-api-key": api_key} if api_key else {},
    )
    return SyncLangGraphClient(http)


class ServerStore(Store):
    """The desk's database for its own records, with the thread side read from a LangGraph server."""

    client: Any = None
    server_url: str = ""

    @classmethod
    def connect(cls, database_url: str, api_url: str, *, api_key: str | None = None, **open_kwargs: Any) -> ServerStore:
        """Open the desk's database at `database_url` (created when missing) over the server at `api_url`."""
        store = cls.open(database_url, create=True, **open_kwargs)
        try:
            return store.attach(connect_client(api_url, api_key), api_url)
        except BaseException:
            store.close()
            raise

    def attach(self, client: Any, url: str) -> ServerStore:
        """Talk to the server through `client` (a langgraph-sdk sync client) at `url`."""
        self.client = client
        self.server_url = url
        self._server_refresh = threading.Lock()
        return self

    def close(self) -> None:
        inner = getattr(getattr(self.client, "http", None), "client", None)
        if inner is not None:
            inner.close()
        super().close()

    @property
    def display_url(self) -> str:
        return f"{super().display_url} + LangGraph server {self.server_url}"

    # ------------------------------------------------------------------ reading, fresh

    def call(self, what: str, call: Any) -> Any:
        """`call()` against the server, its failures as the desk's errors (404: `_NotFound`)."""
        try:
            return call()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                raise _NotFound() from None
            raise HitlError(f"The LangGraph server at {self.server_url} refused to {what}: {_http_error(exc)}.") from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"The LangGraph server at {self.server_url} did not answer ({type(exc).__name__}: {exc}); could not "
                f"{what}. Nothing was changed. Start the server or fix HITL_LANGGRAPH_API_URL."
            ) from None

    def server_thread(self, thread_id: str) -> dict[str, Any] | None:
        """The server's thread (`threads.get`), or None when it has none by that id."""
        try:
            return self.call("read the thread", lambda: self.client.threads.get(thread_id))
        except _NotFound:
            return None

    def _snapshot(self, thread_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        thread = self.server_thread(thread_id)
        if thread is None:
            return None
        try:
            state = self.call("read the thread's state", lambda: self.client.threads.get_state(thread_id))
        except _NotFound:
            state = {}
        return thread, state or {}

    def _snapshots(self, thread_ids: Iterable[str]) -> dict[str, tuple[dict[str, Any], dict[str, Any]] | None]:
        ids = list(dict.fromkeys(thread_ids))
        if len(ids) <= 1:
            return {tid: self._snapshot(tid) for tid in ids}
        with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(ids))) as pool:
            return dict(zip(ids, pool.map(self._snapshot, ids)))

    def thread_exists(self, thread_id: str) -> bool:
        return self.server_thread(thread_id) is not None

    def latest_checkpoint(self, thread_id: str) -> tuple[str, dict[str, Any]] | None:
        snapshot = self._snapshot(thread_id)
        return None if snapshot is None else _latest(*snapshot)

    def latest_checkpoints(self, thread_ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        return {tid: _latest(*snap) for tid, snap in self._snapshots(thread_ids).items() if snap is not None}

    def pending_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        return {tid: _pending(tid, *snap) if snap else [] for tid, snap in self._snapshots(thread_ids).items()}

    def failed_tasks_of(self, thread_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        result: dict[str, list[tuple[str, str]]] = {}
        for tid, snap in self._snapshots(thread_ids).items():
            tasks = (snap[1].get("tasks") or []) if snap else []
            result[tid] = [(task.get("name") or "?", str(task["error"])) for task in tasks if task.get("error")]
        return result

    def finished(self, thread_ids: Iterable[str]) -> dict[str, str]:
        finished: dict[str, str] = {}
        for tid, snap in self._snapshots(thread_ids).items():
            if snap is None or snap[0].get("status") != "idle" or snap[1].get("next") or _interrupts_of(snap[0]):
                continue
            if any(task.get("error") for task in snap[1].get("tasks") or []):
                continue
            finished[tid] = _latest(*snap)[0]
        return finished

    def listed_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """The page's interrupts as the last refresh indexed them (no call to the server)."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, list[RawInterrupt]] = {tid: [] for tid in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.query(
                f"SELECT thread_id, interrupts FROM hitl_server_interrupts WHERE thread_id IN ({','.join('?' for _ in chunk)})",
                chunk,
            )
            for thread_id, blob in rows:
                result[thread_id] = [_raw(thread_id, "", item) for item in json.loads(blob)]
        return result

    def run_ids(self, thread_id: str) -> list[str]:
        """Run ids the desk created on a thread, oldest first."""
        rows = self.query(
            "SELECT run_id, MIN(created_at) FROM hitl_server_runs WHERE thread_id = ? GROUP BY run_id ORDER BY 2", (thread_id,)
        )
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ the index

    def backfill_pending(self) -> bool:
        return False  # a refresh pages the server newest first; there is no separate first index

    def indexing(self) -> dict[str, Any]:
        done = int(self.query("SELECT COUNT(*) FROM hitl_threads")[0][0])
        return {"done": done, "total": done, "owner": None, "lease_until": None}

    def changed_since(self, updated_after: float) -> list[str]:
        """Thread ids the server changed after `updated_after`, newest first (any status)."""
        return [t["thread_id"] for t in self._changed(updated_after)]

    def _changed(self, updated_after: float) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        offset, limit = 0, FIRST_SEARCH_PAGE  # a refresh with little news reads one small page
        while True:
            batch = self.call(
                "list the server's threads",
                lambda: self.client.threads.search(
                    limit=limit, offset=offset, sort_by="updated_at", sort_order="desc", select=_THREAD_FIELDS
                ),
            )
            fresh = [t for t in batch if _epoch(t["updated_at"]) > updated_after]
            found.extend(fresh)
            if len(fresh) < len(batch) or len(batch) < limit:
                return found
            offset += len(batch)
            limit = min(limit * 4, SEARCH_PAGE)

    def refresh(self, indexer: Indexer, *, thread_ids: Sequence[str] | None = None, **_: Any) -> int:
        """Index the threads the server changed since the last refresh (these, read fresh, when
        `thread_ids` is given); returns how many changed."""
        with self._server_refresh:
            if thread_ids is not None:
                threads = [t for t in (self.server_thread(tid) for tid in dict.fromkeys(thread_ids)) if t is not None]
                self._index(threads, indexer)
                return len(threads)
            rows = self.query("SELECT watermark FROM hitl_server_sync WHERE id = 1")
            watermark = float(rows[0][0]) if rows else 0.0
            changed = self._changed(watermark - SKEW_SECONDS if watermark else 0.0)
            if not changed:
                return 0
            newest = max([watermark, *(_epoch(t["updated_at"]) for t in changed)])
            # The skew window re-reads threads already indexed at that version: not news.
            news = self._unseen(changed)
            if news or newest > watermark:
                self._index(news, indexer, watermark=newest)
            return len(news)

    def _unseen(self, threads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The threads whose `updated_at` differs from the one indexed."""
        seen: dict[str, float] = {}
        ids = [t["thread_id"] for t in threads]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            seen.update(
                (tid, float(at))
                for tid, at in self.query(
                    f"SELECT thread_id, updated_at FROM hitl_server_interrupts WHERE thread_id IN ({','.join('?' for _ in chunk)})",
                    chunk,
                )
            )
        return [t for t in threads if seen.get(t["thread_id"]) != _epoch(t["updated_at"])]

    def _index(self, threads: list[dict[str, Any]], indexer: Indexer, *, watermark: float | None = None) -> None:
        now = time.time()
        rows, side = [], []
        for thread in threads:
            thread_id = thread["thread_id"]
            metadata = _metadata_of(thread)
            status = _STATUS.get(thread.get("status") or "", "completed")
            items = _interrupts_of(thread) if status == "waiting" else []
            if status == "waiting" and not items:
                status = "running"
            if metadata.get("hitl_resolved") and status == "completed":
                status = "resolved"
            raw = [_raw(thread_id, "", item) for item in items]
            entry = indexer(thread_id, metadata, raw)
            updated = _epoch(thread["updated_at"])
            rows.append((
                thread_id, status, "", entry.graph_id, entry.graph_note, "," + ",".join(entry.kinds) + ",",
                entry.summary, entry.search_text.lower(), len(raw), ",".join(i.id for i in raw), "", updated, now,
            ))  # fmt: skip
            side.append((thread_id, updated, json.dumps(metadata, default=str), json.dumps(items, default=str)))
        if rows:
            self._write_rows(rows)
        # Seen only once indexed: a refresh that failed above re-reads these threads next time.
        sql = self.dialect.sql
        with self.connection(write=True) as conn:
            if side:
                conn.executemany(
                    sql(
                        "INSERT INTO hitl_server_interrupts (thread_id, updated_at, metadata, interrupts) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (thread_id) DO UPDATE SET updated_at = excluded.updated_at, "
                        "metadata = excluded.metadata, interrupts = excluded.interrupts"
                    ),
                    side,
                )
            if watermark is not None:
                conn.execute(
                    sql(
                        "INSERT INTO hitl_server_sync (id, watermark) VALUES (1, ?) "
                        "ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark"
                    ),
                    (watermark,),
                )

    def _write_rows(self, rows: list[tuple]) -> None:
        """Write index rows through the store's own index writer (counts, search), which writes
        the threads whose dirty marks it clears."""
        ids = [row[0] for row in rows]
        self.mark_dirty(ids)
        dirty: list[tuple[str, int]] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            dirty += [
                (tid, int(version))
                for tid, version in self.query(
                    f"SELECT thread_id, version FROM hitl_dirty WHERE thread_id IN ({','.join('?' for _ in chunk)})", chunk
                )
            ]
        self._write_index(rows, dirty)


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
        return None if graph_id in known or _is_uuid(graph_id) else f"the server has no graph or assistant {graph_id!r}"

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
        from langchain_core.runnables.graph import Edge, Graph, Node

        assistant = self.graph_id
        try:
            drawn = self.store.call("draw the graph", lambda: self.store.client.assistants.get_graph(assistant))
        except _NotFound:
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
        except _NotFound:
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
        from langgraph.types import Command

        store, client = self.store, self.store.client
        thread_id = str(config["configurable"]["thread_id"])
        metadata = {**self.metadata, **(config.get("metadata") or {})}
        resume = graph_input.resume if isinstance(graph_input, Command) else None
        nodes: list[str] = []
        try:
            current = store.server_thread(thread_id)
        except HitlError as exc:
            raise _nothing_ran(exc) from None
        if isinstance(graph_input, Command) or graph_input is None:
            if current is None:
                raise _nothing_ran(HitlError(f"The server has no thread {thread_id!r}; nothing was run."))
            if isinstance(resume, dict):
                # Checked right before the run: an answer given outside the desk (Studio, another
                # client) since the desk's read would otherwise be repeated by the server as a
                # no-op "success".
                pending = {i["id"]: i for i in _interrupts_of(current)} if current.get("status") == "interrupted" else {}
                moved = [iid for iid in resume if iid not in pending]
                if moved:
                    raise _nothing_ran(AlreadyDecided(moved[0], reviewer="someone outside the desk", decided_at=None, thread_id=thread_id))
                nodes = [str(pending[iid].get("node")) for iid in resume if pending[iid].get("node")]
            kwargs: dict[str, Any] = {"command": {"resume": resume}} if resume is not None else {"input": None}
            assistant = (current.get("metadata") or {}).get("assistant_id") or self.graph_id
        else:
            if current is None:
                store.call("create the thread", lambda: client.threads.create(thread_id=thread_id, metadata={"graph_id": self.graph_id, **metadata}))
            kwargs, assistant = {"input": graph_input}, self.graph_id
        started = time.time()
        try:
            run = client.runs.create(thread_id, assistant, multitask_strategy="reject", metadata=metadata, **kwargs)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 409:
                raise _nothing_ran(HitlError(
                    f"Thread {thread_id!r} is busy on the server (another run is in progress); nothing was run. "
                    "Try again when it has paused or finished."
                )) from None  # fmt: skip
            raise _nothing_ran(HitlError(
                f"The server refused the run on thread {thread_id!r}: {_http_error(exc)}; nothing was run."
            )) from None  # fmt: skip
        except httpx.TransportError as exc:
            # The request may have reached the server: only a run we can see proves it did.
            if not self._run_exists(thread_id, started):
                raise _nothing_ran(ServerUnreachable(
                    f"The LangGraph server at {store.server_url} did not answer ({type(exc).__name__}); nothing was "
                    "run and the claim was released. Start the server (or fix HITL_LANGGRAPH_API_URL) and answer again."
                )) from None  # fmt: skip
            _report_started(config, nodes)
            raise ServerUnreachable(
                f"The LangGraph server at {store.server_url} went away after the run on thread {thread_id!r} was "
                "sent; its outcome is unknown. Check the thread when the server is back."
            ) from None
        run_id = str(run["run_id"])
        ids = list(resume) if isinstance(resume, dict) else [""]
        store.execute_write(
            "INSERT INTO hitl_server_runs (thread_id, interrupt_id, run_id, created_at) VALUES "
            + ", ".join("(?, ?, ?, ?)" for _ in ids),
            [value for iid in ids for value in (thread_id, iid, run_id, started)],
        )
        _report_started(config, nodes)
        try:
            finished = self._wait_for(thread_id, run_id)
        except (httpx.TransportError, httpx.HTTPStatusError) as exc:
            raise ServerUnreachable(
                f"The LangGraph server at {store.server_url} went away while run {run_id} ran on thread "
                f"{thread_id!r} ({type(exc).__name__}); its outcome is unknown. Check the thread when the server is back."
            ) from None
        status = finished.get("status")
        store.execute_write("UPDATE hitl_server_runs SET status = ? WHERE run_id = ?", (status, run_id))
        if status in ("error", "timeout", "interrupted") and not store.failed_tasks(thread_id):
            # The run ended badly and the thread records no failed task: what ran is unknown.
            raise ServerRunFailed(f"run {run_id} ended {status} on the server without a recorded error")

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
        return any(_epoch(r["created_at"]) >= since - SKEW_SECONDS for r in runs)


class ServerRunFailed(HitlError):
    """A run ended in error on the server without the thread recording which task failed."""


class _NotFound(Exception):
    pass


def _nothing_ran(exc: HitlError) -> HitlError:
    """Mark `exc` as raised before any run was created: the decision's claim is released."""
    exc.nothing_ran = True  # type: ignore[attr-defined]
    return exc


def _report_started(config: dict[str, Any], nodes: list[str]) -> None:
    """Tell the run's callbacks (the desk's `_NodeStarts`) that nodes may now run: a failure
    from here on is an unknown outcome, never "nothing ran"."""
    for handler in config.get("callbacks") or []:
        start = getattr(handler, "on_chain_start", None)
        if start is None:
            continue
        for node in nodes or ["the server's run"]:
            start({}, {}, run_id=uuid.uuid4(), parent_run_id=uuid.uuid4(), metadata={"langgraph_node": node})


def _interrupts_of(thread: dict[str, Any]) -> list[dict[str, Any]]:
    """The thread's pending interrupts, flattened from `{task_id: [{id, value}]}`, task ids kept."""
    return [
        {**item, "task_id": task_id}
        for task_id, items in (thread.get("interrupts") or {}).items()
        for item in items or []
    ]


def _metadata_of(thread: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(thread.get("metadata") or {})
    if not metadata.get("graph_id") and metadata.get("assistant_id"):
        metadata["graph_id"] = metadata["assistant_id"]
    return metadata


def _latest(thread: dict[str, Any], state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    checkpoint = state.get("checkpoint") or {}
    metadata = {**(state.get("metadata") or {}), **_metadata_of(thread)}
    return str(checkpoint.get("checkpoint_id") or ""), metadata


def _pending(thread_id: str, thread: dict[str, Any], state: dict[str, Any]) -> list[RawInterrupt]:
    """Pending interrupts of an interrupted thread, named by the task (node) that raised them."""
    if thread.get("status") != "interrupted":
        return []
    checkpoint_id = str((state.get("checkpoint") or {}).get("checkpoint_id") or "")
    nodes = {task.get("id"): task.get("name") for task in state.get("tasks") or []}
    return [
        _raw(thread_id, checkpoint_id, {**item, "node": item.get("node") or nodes.get(item["task_id"])})
        for item in _interrupts_of(thread)
    ]


def _raw(thread_id: str, checkpoint_id: str, item: dict[str, Any]) -> RawInterrupt:
    value = item.get("value")
    schema = item.get("response_schema")
    return RawInterrupt(
        thread_id=thread_id, checkpoint_id=checkpoint_id, task_id=str(item.get("task_id") or ""), node=item.get("node"),
        id=str(item["id"]), value=value, response_schema=schema if isinstance(schema, dict) else None,
    )  # fmt: skip


def _epoch(stamp: Any) -> float:
    if isinstance(stamp, (int, float)):
        return float(stamp)
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def _http_error(exc: httpx.HTTPStatusError) -> str:
    return f"HTTP {exc.response.status_code} {exc.response.text[:200]}"
