"""`Desk`: one open desk (database, graph registry, settings) and what every use case shares.

The services (`hitl.services`, `hitl.policy`, `hitl.notify`) take a `Desk`;
the facade `hitl.inbox.Inbox` is a `Desk` with the public use cases on top. What lives here is
what they all need and what holds state across calls: the store, the registry, the parsed
`[access]` policy and answer contracts, the incremental index (and its background first
index), and the hooks run after each index refresh and each recorded decision.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

from hitl import contracts
from hitl.access import AccessPolicy, requester_metadata
from hitl.backends.base import Backend, Graphs
from hitl.backends.server import ServerStore
from hitl.backends.server_graphs import ServerRegistry
from hitl.config import Settings
from hitl.domain import PendingInterrupt, Principal
from hitl.indexing import IndexPool, default_workers, pool_can_decode
from hitl.reading import index_entry
from hitl.registry import GraphMatch, Registry, memo_match
from hitl.store import IndexEntry, RawInterrupt, Store

__all__ = ["Desk"]


class Desk:
    """One open desk: the checkpointer database, the graph registry and the settings.

    Open with `Desk.open()` (or `Inbox.open()`); it reads the environment (HITL_DATABASE_URL,
    HITL_GRAPHS, HITL_CONFIG) at call time, and keyword arguments override it.
    """

    def __init__(self, store: Store, registry: Graphs, settings: Settings) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self._refresh_lock = threading.Lock()
        self._first_index_lock = threading.Lock()
        self._first_index_thread: threading.Thread | None = None
        self._first_index_stop = threading.Event()
        self._after_index: list[Callable[[list[str]], None]] = []
        self._after_decision: list[Callable[[list[dict[str, Any]]], None]] = []
        self._in_decision: list[Callable[[list[dict[str, Any]]], None]] = []

    @classmethod
    def open(
        cls,
        *,
        database_url: str | None = None,
        graphs_path: str | None = None,
        config_path: str | None = None,
        create: bool = False,
        **settings: Any,
    ) -> Self:
        """Open the desk.

        Args:
            database_url: overrides HITL_DATABASE_URL (default sqlite:///data/hitl.db).
            graphs_path: overrides HITL_GRAPHS (default ./langgraph.json).
            config_path: overrides HITL_CONFIG (policies file).
            create: create a missing SQLite database instead of refusing it.
            **settings: other `Settings` fields (claim_lease_seconds, resume_timeout_seconds...).
        """
        resolved = Settings.from_env(
            database_url=database_url, graphs_path=graphs_path, config_path=config_path, **settings
        )
        lock_retry = float(resolved.policy.get("database", {}).get("lock_retry_seconds", 30.0))
        if resolved.langgraph_api_url:  # the threads live on a LangGraph server; the desk's records here
            store: Store = ServerStore.connect(
                resolved.database_url, resolved.langgraph_api_url, api_key=resolved.langgraph_api_key,
                busy_timeout_ms=resolved.busy_timeout_ms, lock_retry_seconds=lock_retry,
            )  # fmt: skip
            local = Registry.from_file(Path(resolved.graphs_path), checkpointer=store.saver)
            return cls(store, ServerRegistry(store, local), resolved)
        store = Store.open(resolved.database_url, create=create, busy_timeout_ms=resolved.busy_timeout_ms,
                           lock_retry_seconds=lock_retry)  # fmt: skip
        return cls(store, Registry.from_file(Path(resolved.graphs_path), checkpointer=store.saver), resolved)

    @property
    def backend(self) -> Backend:
        """Where the threads live (`hitl.backends.Backend`): the SQL store, or a LangGraph
        server's client (`HITL_LANGGRAPH_API_URL`). It is `store` either way: the desk's own
        records are its SQL tables."""
        return self.store

    def close(self) -> None:
        """Stop the background first index (its lease lapses; another desk resumes it) and
        close the database connection."""
        self._first_index_stop.set()
        worker = self._first_index_thread
        if worker is not None:
            worker.join(timeout=60)
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def graph(self, graph_id: str) -> Any:
        """The registered graph, compiled with this desk's checkpointer."""
        return self.registry.graph(graph_id)

    def graph_ids(self) -> list[str]:
        """Registered graph ids plus any seen on threads."""
        return list(dict.fromkeys([*self.registry.ids(), *self.store.graph_ids()]))

    @property
    def access(self) -> AccessPolicy:
        """The `[access]` policy of HITL_CONFIG (`hitl.access.AccessPolicy`), parsed once."""
        policy = self.__dict__.get("_access")
        if policy is None:
            policy = self.__dict__["_access"] = AccessPolicy.from_policy(self.settings.policy)
        return policy

    @property
    def contracts(self) -> contracts.ContractResolver:
        """Answer contracts of this desk's graphs (`hitl.contracts`), cached per (graph, node)."""
        resolver = self.__dict__.get("_contracts")
        if resolver is None:
            declarations = contracts.Declarations.from_policy(self.settings.policy)
            resolver = self.__dict__["_contracts"] = contracts.ContractResolver(self.registry.graph, declarations)
        return resolver

    def contract(self, item: PendingInterrupt, graph_id: str | None) -> contracts.Contract:
        """What the graph `graph_id` expects back from the pending interrupt `item`, and where that came from."""
        if item.decode_error:
            return contracts.UNKNOWN
        return self.contracts.resolve(
            graph_id=graph_id, node=item.node, kind=item.kind, value=item.value, response_schema=item.response_schema
        )

    def principal(
        self, identity: str, *, claims: dict[str, Any] | None = None, roles: Sequence[str] = (), source: str = "oidc"
    ) -> Principal:
        """The `hitl.access.Principal` for a verified identity, with the roles the policy maps."""
        return self.access.principal(identity, claims=claims, roles=roles, source=source)

    first_index_in_call = 5000
    """A first index of up to this many threads is done inside the listing call that meets it;
    a bigger one runs in the background while the Inbox shows what is indexed so far."""

    index_batch = 1000
    """Threads per batch of the background first index (one snapshot read, one write). Small
    enough that a listing waiting on SQLite's one connection waits for one batch at most."""

    index_lease_seconds = 30.0
    """How long the background indexer's lease lasts without renewal: a desk process that
    dies mid-index hands over to another desk after this long."""

    def refresh(self, thread_ids: Sequence[str] | None = None) -> int:
        """Index threads agents changed since the last call (only these, when given); returns
        how many.

        On a database the desk has not indexed yet, a small first index is done here; a big
        one is started in the background (`indexing()` tells its progress) and this call
        indexes only what agents changed meanwhile.
        """
        count = 0
        if thread_ids is None and self.store.backfill_pending():
            progress = self.store.indexing()
            if progress["total"] - progress["done"] <= self.first_index_in_call:
                count += self._index_first_batches(owner=None)
            else:
                self._start_first_index()
        with self._refresh_lock:
            changed: list[str] = []
            count += self.store.refresh(self._indexer(changed), thread_ids=thread_ids)
        for hook in self._after_index:
            hook(changed)
        return count

    def indexing(self) -> dict[str, Any]:
        """Progress of the first index of this database: `{"done", "total", "seconds_left"}`.

        `done == total` when the index is complete. `seconds_left` estimates the rest from
        this process's indexing rate (None until it has one, or when another desk indexes).
        """
        progress = self.store.indexing()
        done, total = progress["done"], progress["total"]
        seconds_left = None
        rate = getattr(self, "_index_rate", None)
        if done < total and rate:
            seconds_left = round((total - done) / rate, 1)
        return {"done": done, "total": total, "seconds_left": seconds_left}

    index_workers: int = default_workers()
    """Worker processes computing a big background first index (`hitl.indexing`); 0: none."""

    index_pool_min = 20_000
    """A background first index with more threads than this to go uses `index_workers`."""

    index_pool_batch = 5_000
    """Threads read per batch when the workers compute (written `index_batch` at a time). The
    read is one statement: on SQLite a listing waits for it (reads of 20,000 made listings wait
    up to 14 s on a machine at load ~20)."""

    def _index_first_batches(
        self, *, owner: str | None, stop: threading.Event | None = None, pool: IndexPool | None = None
    ) -> int:
        """Work the first index's queue until it is empty (or the lease is lost, or `stop`)."""
        count = 0
        started = time.monotonic()
        while stop is None or not stop.is_set():
            changed: list[str] = []
            taken = self.store.backfill(
                self._indexer(changed),
                batch=self.index_pool_batch if pool is not None else self.index_batch,
                owner=owner,
                lease_seconds=self.index_lease_seconds,
                pool=pool,
                chunk=self.index_batch,
            )
            if pool is not None:
                changed += pool.indexed
                pool.indexed.clear()
            for hook in self._after_index:
                hook(changed)
            if taken == 0:
                break
            count += taken
            self._index_rate = count / max(time.monotonic() - started, 1e-6)
        return count

    def _start_first_index(self) -> None:
        """One background indexer per desk process; across processes the lease row decides."""
        with self._first_index_lock:
            if self._first_index_thread is not None and self._first_index_thread.is_alive():
                return
            self._first_index_thread = threading.Thread(
                target=self._first_index_worker, name="hitl-first-index", daemon=True
            )
            self._first_index_thread.start()

    def _first_index_worker(self) -> None:
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        stop = self._first_index_stop
        pool: IndexPool | None = None
        try:
            while not stop.is_set() and self.store.backfill_pending():
                if not self.store.take_index_lease(owner, lease_seconds=self.index_lease_seconds):
                    # Another desk process indexes: watch for it to finish or die.
                    stop.wait(min(self.index_lease_seconds / 2, 5.0))
                    continue
                if pool is None:
                    pool = self._index_pool()
                self._index_first_batches(owner=owner, stop=stop, pool=pool)
            self.store.release_index_lease(owner)
        except Exception:  # the next listing starts another worker
            logging.getLogger(__name__).exception("The background first index stopped")
        finally:
            if pool is not None:
                pool.close()

    def _index_pool(self) -> IndexPool | None:
        """Worker processes for a big first index, when it pays (see `index_workers`)."""
        progress = self.store.indexing()
        if self.index_workers < 1 or progress["total"] - progress["done"] <= self.index_pool_min:
            return None
        if not pool_can_decode(self.store.saver.serde):
            return None
        return IndexPool(self.registry.matcher(), keep_nul=self.store.dialect.text_holds_nul, workers=self.index_workers)

    def on_indexed(self, hook: Callable[[list[str]], None]) -> None:
        """Call `hook(thread_ids)` after each refresh with the threads just re-indexed."""
        self._after_index.append(hook)

    def on_decided(self, hook: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call `hook(audit_rows)` after each recorded decision (one dict per interrupt, with `seq`).

        A hook that raises is logged and skipped: the decision is already recorded.
        """
        self._after_decision.append(hook)

    def on_deciding(self, hook: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call `hook(audit_rows)` inside each decision's write transaction, right after its
        audit rows (with `seq`) are appended: what the hook writes through `store` commits with
        the claims' close and the audit rows, or not at all (the webhook outbox). A hook that
        raises fails the recording, as a failed audit insert would."""
        self._in_decision.append(hook)

    def deciding(self, rows: list[dict[str, Any]]) -> None:
        for hook in self._in_decision:
            hook(rows)

    def decided(self, rows: list[dict[str, Any]]) -> None:
        for hook in self._after_decision:
            try:
                hook(rows)
            except Exception:
                logging.getLogger(__name__).exception("on_decided hook %r failed", hook)

    def _indexer(self, changed: list[str]) -> Callable[[str, dict[str, Any], list[RawInterrupt]], IndexEntry]:
        match = memo_match(self.registry.match)

        def index(thread_id: str, metadata: dict[str, Any], pending: list[RawInterrupt]) -> IndexEntry:
            changed.append(thread_id)
            return index_entry(match(metadata.get("graph_id"), [i.node for i in pending]), thread_id, pending)

        return index

    def counts(self, *, refresh: bool = False) -> dict[str, int]:
        """Threads per status."""
        if refresh:
            self.refresh()
        return self.store.status_counts()

    def match_graph(self, thread_id: str, metadata: dict[str, Any], raw: list[RawInterrupt]) -> GraphMatch:
        """The registered graph of a thread (from its metadata, else its pending nodes)."""
        return self.registry.match(metadata.get("graph_id"), [i.node for i in raw])

    def graph_with_requester(self, graph: Any, requester: str | None) -> Any:
        """`graph` bound (`with_config`) to write the thread's requester into the metadata of
        every checkpoint its runs write, as the first run put it there; cached per requester."""
        if not requester or not hasattr(graph, "with_config"):
            return graph
        cache: dict[tuple[int, str], tuple[Any, Any]] = self.__dict__.setdefault("_requester_graphs", {})
        key = (id(graph), requester)
        hit = cache.get(key)
        if hit is not None and hit[0] is graph:
            return hit[1]
        if len(cache) >= 1024:
            cache.clear()
        bound = graph.with_config(metadata=requester_metadata(requester))
        cache[key] = (graph, bound)
        return bound
