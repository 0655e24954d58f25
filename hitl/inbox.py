"""`Inbox`: the desk's public facade over the store, the registry and the resume logic."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from hitl import contracts, runner
from hitl.config import Settings
from hitl.errors import (
    AlreadyDecided,
    HitlError,
    InvalidAnswer,
    NotAuthorized,
    StoreError,
    ThreadNotFound,
    UnknownGraph,
)
from hitl.outcome import OutcomeUnknown, UnknownOutcome
from hitl.registry import GraphMatch, Registry
from hitl.store import IndexEntry, RawInterrupt, Store, ThreadRow, checkpoint_time

__all__ = [
    "Inbox",
    "Page",
    "PendingThread",
    "PendingInterrupt",
    "ThreadView",
    "CheckpointInfo",
    "ResumeOutcome",
    "BatchResult",
]

BATCH_CHUNK = 100
"""Threads `Inbox.batch` decides per claim transaction, audit transaction and index refresh."""


OutcomeStatus = Literal["completed", "waiting", "failed"]


@dataclass(frozen=True, kw_only=True)
class PendingInterrupt:
    """One interrupt waiting for a human."""

    id: str
    node: str | None
    value: Any
    response_schema: dict[str, Any] | None
    kind: str
    summary: str = ""
    task_id: str = ""
    decode_error: str | None = None
    failed_error: str | None = None
    """The node raised after this interrupt was answered; retry or resolve it."""
    checkpoint_id: str = ""
    """The checkpoint the interrupt belongs to; its time is when the interrupt began waiting."""


@dataclass(frozen=True, kw_only=True)
class PendingThread:
    """A thread paused at one or more interrupts."""

    thread_id: str
    graph_id: str | None
    checkpoint_id: str
    waiting_since: datetime
    interrupts: list[PendingInterrupt]
    kinds: tuple[str, ...] = ()
    summary: str = ""
    read_only_reason: str | None = None

    @property
    def waited_seconds(self) -> float:
        """Seconds since the thread paused."""
        return max(0.0, (datetime.now(timezone.utc) - self.waiting_since).total_seconds())


@dataclass(frozen=True, kw_only=True)
class Page:
    """One page of the queue."""

    items: list[PendingThread]
    next_cursor: str | None
    total: int
    waiting_on_others: int = 0
    """With `pending(principal=...)`: waiting threads under the same filters that this
    principal may not decide (other roles, own requests, already voted)."""


@dataclass(frozen=True, kw_only=True)
class CheckpointInfo:
    """One checkpoint in a thread's timeline."""

    checkpoint_id: str
    created_at: datetime
    step: int | None
    source: str | None
    channels_written: tuple[str, ...]
    metadata: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ThreadView:
    """Everything the review page shows about one thread."""

    thread_id: str
    graph_id: str | None
    status: str
    values: dict[str, Any]
    messages: list[Any]
    interrupts: list[PendingInterrupt]
    next_nodes: tuple[str, ...]
    checkpoints: list[CheckpointInfo]
    metadata: dict[str, Any]
    read_only_reason: str | None
    errors: list[tuple[str, str]]
    waiting_since: datetime | None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    votes: list[Any] = field(default_factory=list)
    """Quorum votes recorded on this thread (`hitl.access.Vote`), oldest first."""


@dataclass(frozen=True, kw_only=True)
class ResumeOutcome:
    """What happened when the graph was resumed."""

    status: OutcomeStatus
    new_interrupts: list[PendingInterrupt] = field(default_factory=list)
    error: str | None = None
    thread_id: str = ""
    note: str | None = None
    """Set when an approval was recorded as a quorum vote instead of resuming the graph."""


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """The result of one thread in a batch decision."""

    thread_id: str
    result: Literal[
        "completed", "waiting", "failed", "already decided", "invalid", "not found", "not authorized", "changed",
        "outcome unknown",
    ]
    message: str = ""


class Inbox:
    """The review queue over one checkpointer database and one graph registry.

    Open with `Inbox.open()`; it reads the environment (HITL_DATABASE_URL, HITL_GRAPHS,
    HITL_CONFIG) at call time, and keyword arguments override it.
    """

    backend: Any = None
    """`hitl.backends.Backend` the threads live behind when it is not `store` (a LangGraph
    server, `HITL_LANGGRAPH_API_URL`): listing, reading and resuming go to it; `store` then
    holds only the desk's own records (claims, audit, votes)."""

    def __init__(self, store: Store, registry: Registry, settings: Settings) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self._refresh_lock = threading.Lock()
        self._first_index_lock = threading.Lock()
        self._first_index_thread: threading.Thread | None = None
        self._first_index_stop = threading.Event()
        self._after_index: list[Callable[[list[str]], None]] = []
        self._after_decision: list[Callable[[list[dict[str, Any]]], None]] = []

    @classmethod
    def open(
        cls,
        *,
        database_url: str | None = None,
        graphs_path: str | None = None,
        config_path: str | None = None,
        create: bool = False,
        **settings: Any,
    ) -> Inbox:
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
        store = Store.open(
            resolved.database_url,
            create=create or bool(resolved.langgraph_api_url),
            busy_timeout_ms=resolved.busy_timeout_ms,
            lock_retry_seconds=float(resolved.policy.get("database", {}).get("lock_retry_seconds", 30.0)),
        )
        registry = Registry.from_file(Path(resolved.graphs_path), checkpointer=store.saver)
        inbox = cls(store, registry, resolved)
        if resolved.langgraph_api_url:
            # Imported only when configured: a desk over its own database never loads the SDK client.
            from hitl.backends.server import ServerBackend

            inbox.backend = ServerBackend.connect(
                store, resolved.langgraph_api_url, api_key=resolved.langgraph_api_key,
                lease_seconds=resolved.claim_lease_seconds,
            )  # fmt: skip
        return inbox

    def close(self) -> None:
        """Stop the background first index (its lease lapses; another desk resumes it) and
        close the database connection."""
        self._first_index_stop.set()
        worker = self._first_index_thread
        if worker is not None:
            worker.join(timeout=60)
        if self.backend is not None:
            self.backend.close()
        self.store.close()

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ graphs

    def graph(self, graph_id: str) -> Any:
        """The registered graph, compiled with this desk's checkpointer."""
        return self.registry.graph(graph_id)

    def graph_ids(self) -> list[str]:
        """Registered graph ids plus any seen on threads."""
        if self.backend is not None:
            return self.backend.graph_ids()
        return list(dict.fromkeys([*self.registry.ids(), *self.store.graph_ids()]))

    # ------------------------------------------------------------------ access

    @property
    def access(self) -> Any:
        """The `[access]` policy of HITL_CONFIG (`hitl.access.AccessPolicy`), parsed once."""
        policy = self.__dict__.get("_access")
        if policy is None:
            from hitl.access import AccessPolicy

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

    def require_principal(self, provider: Callable[[], Any] | None) -> None:
        """Login mode: calls that pass no `principal` act as `provider()` (the signed-in reviewer).

        The UI installs this so every page is checked without threading the principal through
        each call; when `provider()` returns None (nobody signed in) those calls raise
        `NotAuthorized` instead of falling back to local mode. `None` uninstalls it.
        """
        self.__dict__["_principal_provider"] = provider

    def _acting(self, principal: Any) -> Any:
        if principal is not None:
            return principal
        provider = self.__dict__.get("_principal_provider")
        if provider is None:
            return None
        current = provider()
        if current is None:
            raise NotAuthorized("This desk requires signing in: log in to see or decide review items.")
        return current

    def principal(
        self, identity: str, *, claims: dict[str, Any] | None = None, roles: Sequence[str] = (), source: str = "oidc"
    ) -> Any:
        """The `hitl.access.Principal` for a verified identity, with the roles the policy maps."""
        return self.access.principal(identity, claims=claims, roles=roles, source=source)

    def review_items(self, thread_id: str, *, principal: Any = None) -> list[Any]:
        """The thread's pending interrupts as `hitl.access.ReviewItem`s (what the rules see)."""
        from hitl.access import ReviewItem, thread_requesters

        latest = self.store.latest_checkpoint(thread_id)
        if latest is None:
            raise ThreadNotFound(thread_id)
        raw = [i for i in self.store.pending_interrupts([thread_id])[thread_id] if i.answerable]
        graph_id = self._match(thread_id, latest[1], raw).graph_id
        requester = thread_requesters(self.store, [thread_id], latest={thread_id: latest[1]}).get(thread_id)
        return [ReviewItem.of(thread_id, graph_id, self._interrupt(i), requester) for i in raw]

    def start_run(
        self,
        graph_id: str,
        graph_input: Any,
        *,
        thread_id: str | None = None,
        requested_by: str | None = None,
        background: bool = False,
    ) -> str:
        """Start a new run of a registered graph; returns the thread id.

        With `background=True` the run executes in a daemon thread and this returns at once.
        """
        import uuid

        graph = self.graph(graph_id)
        thread_id = thread_id or f"{graph_id}-{uuid.uuid4().hex[:8]}"
        if self.store.thread_exists(thread_id):
            raise InvalidAnswer(f"Thread {thread_id!r} already exists; pick another id or leave it empty.")
        metadata = {"graph_id": graph_id}
        if requested_by:
            metadata["requested_by"] = requested_by
        config = {"configurable": {"thread_id": thread_id}, "metadata": metadata}

        def run() -> None:
            try:
                runner.invoke(graph, graph_input, config, database_url=self.store.url)
            except Exception:  # the failure is in the checkpoint's error writes
                pass

        if background:
            threading.Thread(target=run, name=f"hitl-run-{thread_id}", daemon=True).start()
        else:
            try:
                runner.invoke(graph, graph_input, config, database_url=self.store.url)
            except HitlError:
                raise
            except Exception as exc:
                raise HitlError(f"The run of {graph_id!r} on thread {thread_id!r} failed: {type(exc).__name__}: {exc}") from exc
        return thread_id

    # ------------------------------------------------------------------ listing

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
        if self.backend is not None:
            return self.backend.refresh()
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

    def _index_first_batches(self, *, owner: str | None, stop: threading.Event | None = None) -> int:
        """Work the first index's queue until it is empty (or the lease is lost, or `stop`)."""
        count = 0
        started = time.monotonic()
        while stop is None or not stop.is_set():
            changed: list[str] = []
            taken = self.store.backfill(
                self._indexer(changed), batch=self.index_batch, owner=owner, lease_seconds=self.index_lease_seconds
            )
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
        try:
            while not stop.is_set() and self.store.backfill_pending():
                if not self.store.take_index_lease(owner, lease_seconds=self.index_lease_seconds):
                    # Another desk process indexes: watch for it to finish or die.
                    stop.wait(min(self.index_lease_seconds / 2, 5.0))
                    continue
                self._index_first_batches(owner=owner, stop=stop)
            self.store.release_index_lease(owner)
        except Exception:  # the next listing starts another worker
            logging.getLogger(__name__).exception("The background first index stopped")

    def on_indexed(self, hook: Callable[[list[str]], None]) -> None:
        """Call `hook(thread_ids)` after each refresh with the threads just re-indexed."""
        self._after_index.append(hook)

    def on_decided(self, hook: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call `hook(audit_rows)` after each recorded decision (one dict per interrupt, with `seq`).

        A hook that raises is logged and skipped: the decision is already recorded.
        """
        self._after_decision.append(hook)

    def _decided(self, rows: list[dict[str, Any]]) -> None:
        for hook in self._after_decision:
            try:
                hook(rows)
            except Exception:
                logging.getLogger(__name__).exception("on_decided hook %r failed", hook)

    def _indexer(self, changed: list[str]) -> Callable[[str, dict[str, Any], list[RawInterrupt]], IndexEntry]:
        from hitl.payloads import classify, search_text, summarize

        def index(thread_id: str, metadata: dict[str, Any], pending: list[RawInterrupt]) -> IndexEntry:
            changed.append(thread_id)
            match = self.registry.match(metadata.get("graph_id"), [i.node for i in pending])
            kinds, summaries, texts = [], [], []
            for item in pending:
                if item.decode_error:
                    kinds.append("json")
                    summaries.append("undecodable payload")
                    continue
                kind = classify(item.value, item.response_schema)
                kinds.append(kind)
                summaries.append(summarize(item.value, kind))
                texts.append(search_text(item.value))
            summary = summaries[0] if len(summaries) == 1 else f"{len(summaries)} decisions: " + " | ".join(summaries)
            return IndexEntry(
                graph_id=match.graph_id,
                graph_note=match.note,
                kinds=tuple(dict.fromkeys(kinds)),
                summary=summary[:300] if summaries else "",
                search_text=" ".join([thread_id, *texts])[:8000],
            )

        return index

    def pending(
        self,
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        *,
        waiting_longer_than: float | None = None,
        newest_first: bool = False,
        refresh: bool = True,
        principal: Any = None,
    ) -> Page:
        """One page of threads waiting for a human, oldest first, with the total count.

        Only the returned page's interrupts are decoded. With `principal` (a signed-in
        `hitl.access.Principal`) this is "my queue": threads with an interrupt the principal
        may decide, and `Page.waiting_on_others` counts the rest.
        """
        if not 1 <= limit <= 1000:
            raise InvalidAnswer(f"limit={limit} is out of range; use 1 to 1000.")
        if self.backend is not None:
            return self.backend.pending(
                limit, cursor, graph_id, kind, search, newest_first=newest_first, refresh=refresh
            )  # fmt: skip
        if refresh:
            self.refresh()
        principal = self._acting(principal)
        if principal is not None:
            from hitl.access import my_queue

            return my_queue(
                self, principal, limit=limit, cursor=cursor, graph_id=graph_id, kind=kind, search=search,
                waiting_longer_than=waiting_longer_than, newest_first=newest_first,
            )  # fmt: skip
        rows, next_cursor, total = self.store.list_threads(
            status="waiting",
            limit=limit,
            cursor=cursor,
            graph_id=graph_id,
            kind=kind,
            search=search,
            waiting_longer_than=waiting_longer_than,
            newest_first=newest_first,
        )
        decoded = self.store.pending_interrupts([row.thread_id for row in rows])
        items = [self._pending_thread(row, decoded.get(row.thread_id, [])) for row in rows]
        return Page(items=items, next_cursor=next_cursor, total=total)

    def threads(
        self,
        status: str | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        search: str | None = None,
        refresh: bool = True,
        principal: Any = None,
    ) -> tuple[list[ThreadRow], str | None, int]:
        """Threads of any status (waiting, running, completed, failed, resolved), newest first.

        With `principal` (or a signed-in reviewer, see `require_principal`), a thread whose
        interrupts the principal may not see is listed with its id, status and graph only:
        its summary says why it is hidden instead of what it asks.
        """
        if refresh:
            self.refresh()
        rows, next_cursor, total = self.store.list_threads(
            status=status, limit=limit, cursor=cursor, graph_id=graph_id, search=search, newest_first=True
        )
        principal = self._acting(principal)
        if principal is not None:
            rows = self._redacted(rows, principal)
        return rows, next_cursor, total

    def _redacted(self, rows: list[ThreadRow], principal: Any) -> list[ThreadRow]:
        """`rows` with the summary of each thread the principal may not see replaced by why."""
        ids = [row.thread_id for row in rows if row.summary]
        if not ids:
            return rows
        raw = self.store.pending_interrupts(ids)
        from hitl.access import thread_requesters

        requesters = thread_requesters(self.store, ids)
        hidden: dict[str, str] = {}
        for row in rows:
            requested_by = requesters.get(row.thread_id)
            reason = self._hidden_by(principal, row.thread_id, row.graph_id, raw.get(row.thread_id) or [], requested_by)
            if reason is not None:
                hidden[row.thread_id] = reason
        return [
            replace(row, summary=f"(hidden: {_why_hidden(hidden[row.thread_id])})") if row.thread_id in hidden else row
            for row in rows
        ]

    def _hidden_by(
        self, principal: Any, thread_id: str, graph_id: str | None, raw: list[RawInterrupt], requested_by: Any
    ) -> str | None:
        """Why the principal may not see the thread, judged by its interrupts `raw`: hidden
        when it may see none of them (the first refusal's reason); None when it may see one,
        or when there are none to judge by."""
        from hitl.access import ReviewItem

        seen = [self.access.can_see(principal, ReviewItem.of(thread_id, graph_id, self._interrupt(i), requested_by)) for i in raw]
        if seen and not any(allowed for allowed, _ in seen):
            return next(reason for allowed, reason in seen if not allowed)
        return None

    def counts(self, *, refresh: bool = False) -> dict[str, int]:
        """Threads per status."""
        if refresh:
            self.refresh()
        return self.store.status_counts()

    def _pending_thread(self, row: ThreadRow, raw: list[RawInterrupt]) -> PendingThread:
        interrupts = [self._interrupt(item) for item in raw if item.answerable]
        return PendingThread(
            thread_id=row.thread_id,
            graph_id=row.graph_id,
            checkpoint_id=row.checkpoint_id,
            waiting_since=row.waiting_since,
            interrupts=interrupts,
            kinds=row.kinds,
            summary=row.summary,
            read_only_reason=row.graph_note,
        )

    @staticmethod
    def _interrupt(item: RawInterrupt) -> PendingInterrupt:
        from hitl.payloads import classify, summarize

        if item.decode_error:
            return PendingInterrupt(
                id=item.id, node=item.node, value=None, response_schema=None, kind="json",
                summary="undecodable payload", task_id=item.task_id, decode_error=item.decode_error,
            )  # fmt: skip
        kind = classify(item.value, item.response_schema)
        return PendingInterrupt(
            id=item.id,
            node=item.node,
            value=item.value,
            response_schema=item.response_schema,
            kind=kind,
            summary=summarize(item.value, kind),
            task_id=item.task_id,
            failed_error=item.failed_error,
            checkpoint_id=item.checkpoint_id,
        )

    # ------------------------------------------------------------------ one thread

    def _match(self, thread_id: str, metadata: dict[str, Any], raw: list[RawInterrupt]) -> GraphMatch:
        return self.registry.match(metadata.get("graph_id"), [i.node for i in raw])

    def thread(self, thread_id: str, *, history: int = 50, principal: Any = None) -> ThreadView:
        """State, messages, pending interrupts and checkpoint timeline of one thread.

        Raises:
            ThreadNotFound: the thread has no checkpoint.
            NotAuthorized: `principal` may not see any of the thread's pending interrupts
                (nothing of the thread is returned).
        """
        if self.backend is not None:
            return self.backend.thread(thread_id)
        latest = self.store.latest_checkpoint(thread_id)
        if latest is None:
            raise ThreadNotFound(thread_id)
        checkpoint_id, metadata = latest
        raw = self.store.pending_interrupts([thread_id])[thread_id]
        match = self._match(thread_id, metadata, raw)
        principal = self._acting(principal)
        if principal is not None:
            from hitl.access import thread_requesters

            requester = thread_requesters(self.store, [thread_id], latest={thread_id: metadata}).get(thread_id)
            reason = self._hidden_by(principal, thread_id, match.graph_id, raw, requester)
            if reason is not None:
                raise NotAuthorized(reason)
            if not raw:  # nothing pending: what was decided on it says what it is
                from hitl.access import hidden_rows

                hidden = hidden_rows(self.access, principal, self.store.audit_rows(thread_id=thread_id), store=self.store)
                if hidden:
                    raise NotAuthorized(hidden[0][1])
        config = {"configurable": {"thread_id": thread_id}}
        values: dict[str, Any] = {}
        next_nodes: tuple[str, ...] = ()
        undecodable: str | None = None
        try:
            if match.graph_id and not match.note:
                state = self.registry.graph(match.graph_id).get_state(config)
                values = dict(state.values) if isinstance(state.values, dict) else {"value": state.values}
                next_nodes = tuple(state.next)
            else:
                saved = self.store.saver.get_tuple(config)
                if saved is not None:
                    values = {
                        k: v for k, v in saved.checkpoint.get("channel_values", {}).items() if not k.startswith(("branch:", "__"))
                    }
            # Materialise the listing before anything else touches the saver: SqliteSaver.list
            # holds its non-reentrant lock while the generator is open.
            saved_history = list(self.store.saver.list(config, limit=history))
        except HitlError:
            raise
        except Exception as exc:  # a checkpoint or write from a newer or foreign serializer
            undecodable = (
                f"The thread's saved state could not be decoded ({type(exc).__name__}: {exc}); it may have been "
                "written by a newer checkpointer version. It is shown read-only: upgrade the desk's langgraph "
                "packages to read it."
            )
            saved_history = []
        checkpoints = []
        for saved in saved_history:
            cfg = saved.config["configurable"]
            if cfg.get("checkpoint_ns", ""):
                continue
            meta = dict(saved.metadata or {})
            writers = tuple(dict.fromkeys(_node_of_write(w) for w in (saved.pending_writes or []) if _node_of_write(w)))
            checkpoints.append(
                CheckpointInfo(
                    checkpoint_id=cfg["checkpoint_id"],
                    created_at=checkpoint_time(cfg["checkpoint_id"]),
                    step=meta.get("step"),
                    source=meta.get("source"),
                    channels_written=writers,
                    metadata=meta,
                )
            )
        errors = self.store.failed_tasks(thread_id)
        if any(item.answerable for item in raw):
            status = "waiting"
        elif metadata.get("hitl_resolved"):
            status = "resolved"
        elif errors or raw:
            status = "failed"
        elif next_nodes:
            status = "running"
        else:
            status = "completed"
        messages = values.get("messages") or []
        return ThreadView(
            thread_id=thread_id,
            graph_id=match.graph_id,
            status=status,
            values=values,
            messages=list(messages) if isinstance(messages, list) else [],
            interrupts=[self._interrupt(item) for item in raw],
            next_nodes=next_nodes,
            checkpoints=checkpoints,
            metadata=metadata,
            read_only_reason=match.note or undecodable,
            errors=errors,
            waiting_since=checkpoint_time(checkpoint_id) if raw else None,
            decisions=self.store.audit_rows(thread_id=thread_id),
            votes=self.votes(thread_id),
        )

    def votes(self, thread_id: str) -> list[Any]:
        """Quorum votes recorded on a thread (`hitl.access.Vote`), oldest first."""
        from hitl.access import votes

        return votes(self.store, thread_id)

    # ------------------------------------------------------------------ deciding

    def resume(
        self,
        thread_id: str,
        answers: dict[str, Any],
        *,
        reviewer: str = "",
        comment: str = "",
        action: str = "decision",
        principal: Any = None,
    ) -> ResumeOutcome:
        """Answer pending interrupts of one thread and resume its graph once.

        Args:
            thread_id: the thread.
            answers: `{interrupt_id: answer}`; answering some of several pending interrupts
                is allowed.
            reviewer: who decides (recorded in the audit log); with `principal`, empty or
                equal to its identity.
            comment: free text recorded with the decision.
            action: the audit action name ("decision", "batch", ...).
            principal: the signed-in `hitl.access.Principal`; its roles, four eyes and quorum
                are enforced. None is local mode: the typed `reviewer`, no checks.

        Raises:
            ThreadNotFound: no such thread.
            InvalidAnswer: an id is not pending, or an answer does not fit; nothing saved.
            AlreadyDecided: another reviewer answered one of these interrupts first.
            UnknownGraph: the thread's graph is not registered or does not load.
            StoreError: the database is read-only or stayed locked; nothing resumed.
            NotAuthorized: `principal` may not decide one of these interrupts (role, four
                eyes, a second vote by the same identity); nothing saved.
            OutcomeUnknown: an earlier resume of this decision may have run a node without
                its result being saved (nothing was run now: `retry(..., accept_repeat=True)`
                or `resolve` it), or this resume did (a node started, then saving failed).
        """
        if self.backend is not None:
            return self.backend.resume(thread_id, answers, reviewer=reviewer, comment=comment)
        from hitl import resume as resume_module

        return resume_module.resume(
            self, thread_id, answers, reviewer=reviewer, comment=comment, action=action, principal=self._acting(principal)
        )

    def decide(
        self,
        thread_id: str,
        *,
        approve: bool,
        reviewer: str = "",
        comment: str = "",
        interrupt_id: str | None = None,
        action: str = "decision",
        principal: Any = None,
    ) -> ResumeOutcome:
        """One-click approve or reject of a thread's (only, or given) pending interrupt."""
        principal = self._acting(principal)
        if principal is not None:
            reviewer = reviewer or principal.identity

        raw = [i for i in self.store.pending_interrupts([thread_id])[thread_id] if i.answerable]
        answers = self._one_click(thread_id, raw, approve=approve, reviewer=reviewer, comment=comment, interrupt_id=interrupt_id)
        return self.resume(thread_id, answers, reviewer=reviewer, comment=comment, action=action, principal=principal)

    def _one_click(
        self, thread_id: str, raw: list[RawInterrupt], *, approve: bool, reviewer: str, comment: str, interrupt_id: str | None
    ) -> dict[str, Any]:
        """`decide`'s answer, {interrupt_id: answer}, for a thread's answerable pending interrupts `raw`."""
        if not raw:
            if not self.store.thread_exists(thread_id):
                raise ThreadNotFound(thread_id)
            unknown = self.outcome_unknown(thread_id)
            if unknown is not None:
                raise OutcomeUnknown(unknown)
            last = _last_decision(self.store.audit_rows(thread_id=thread_id))
            if last:
                raise AlreadyDecided(
                    last["interrupt_id"],
                    reviewer=last["reviewer"],
                    decided_at=datetime.fromtimestamp(float(last["decided_at"]), timezone.utc),
                    thread_id=thread_id,
                )
            # A resume still in flight (its node ran, its audit row not yet written) holds the claim.
            claim = self.store.decided_claim(thread_id)
            if claim is not None:
                raise AlreadyDecided(claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"],
                                     thread_id=thread_id)
            raise InvalidAnswer(f"Thread {thread_id!r} has no pending interrupt to decide.")
        if interrupt_id is None and len(raw) > 1:
            raise InvalidAnswer(
                f"Thread {thread_id!r} has {len(raw)} pending interrupts; name the one to decide "
                f"(one of {', '.join(i.id for i in raw)})."
            )
        target = next((i for i in raw if interrupt_id in (None, i.id)), None)
        if target is None:
            raise InvalidAnswer(f"Interrupt {interrupt_id!r} is not pending on thread {thread_id!r}.")
        item = self._interrupt(target)
        latest = self.store.latest_checkpoint(thread_id)
        match = self._match(thread_id, latest[1] if latest else {}, raw)
        if match.graph_id is None or match.note:
            raise UnknownGraph(f"Thread {thread_id!r} cannot be resumed from the desk: {match.note}.")
        graph_id = match.graph_id
        answer = contracts.quick(
            self.contract(item, graph_id), item.kind, item.value, approve=approve, comment=comment, reviewer=reviewer,
            response_schema=item.response_schema,
        )  # fmt: skip
        return {item.id: answer}

    def batch(
        self,
        thread_ids: Sequence[str],
        *,
        approve: bool,
        reviewer: str = "",
        comment: str = "",
        progress: Callable[[int, int, BatchResult], None] | None = None,
        principal: Any = None,
        seen: Mapping[str, str] | None = None,
        chunk_size: int = BATCH_CHUNK,
    ) -> list[BatchResult]:
        """Approve or reject many threads with one comment; one result per thread.

        Each thread is decided as `decide` would (same checks, claims, audit rows and
        outcomes), but `chunk_size` threads at a time share their database work: one read
        of their pending interrupts, one transaction claiming them all, one closing the
        claims and appending the audit rows, one refresh of the index (see
        `hitl.resume.resume_many`). `progress(done, total, result)` is called per thread,
        in order, once its chunk is recorded.

        Args:
            seen: thread id -> the interrupt id the reviewer was shown. A thread that has
                moved on to another interrupt since is reported "changed" and not answered:
                a batch never approves a request nobody saw. (The claim and the resume
                re-check the id against the checkpointer, so there is no window between
                check and answer.)
        """
        from hitl import resume as resume_module

        principal = self._acting(principal)
        if principal is not None:
            reviewer = reviewer or principal.identity
        seen = seen or {}
        results: list[BatchResult] = []
        for chunk in _chunks(thread_ids, max(1, chunk_size)):
            raw = self.store.pending_interrupts(chunk)
            latest = self.store.latest_checkpoints(chunk)
            outcomes: dict[str, BatchResult | ResumeOutcome | HitlError] = {}
            requests: dict[str, dict[str, Any]] = {}
            for thread_id in chunk:
                answerable = [i for i in raw[thread_id] if i.answerable]
                shown = seen.get(thread_id)
                if shown is not None and answerable and shown not in {i.id for i in answerable}:
                    outcomes[thread_id] = BatchResult(
                        thread_id=thread_id,
                        result="changed",
                        message="It moved on to a new request after you selected it; nothing was sent. Review it again.",
                    )
                    continue
                try:
                    requests[thread_id] = self._one_click(
                        thread_id, answerable, approve=approve, reviewer=reviewer, comment=comment, interrupt_id=shown
                    )
                except InvalidAnswer as exc:
                    # Nothing pending and no decision in the audit log yet: another desk may be
                    # resuming it right now (its audit row comes when its resume ends).
                    claim = None if answerable else self.store.decided_claim(thread_id)
                    outcomes[thread_id] = exc if claim is None else AlreadyDecided(
                        claim["interrupt_id"], reviewer=claim["reviewer"], decided_at=claim["claimed_at"], thread_id=thread_id
                    )  # fmt: skip
                except HitlError as exc:
                    outcomes[thread_id] = exc
            if requests:
                outcomes.update(
                    resume_module.resume_many(
                        self, requests, raw=raw, metadata={t: latest.get(t, ("", {}))[1] for t in requests},
                        reviewer=reviewer, comment=comment, action="batch", principal=principal,
                    )  # fmt: skip
                )
            for thread_id in chunk:
                result = _batch_result(thread_id, outcomes[thread_id])
                results.append(result)
                if progress:
                    progress(len(results), len(thread_ids), result)
        return results

    def retry(
        self, thread_id: str, *, reviewer: str = "", comment: str = "", principal: Any = None, accept_repeat: bool = False
    ) -> ResumeOutcome:
        """Run a failed thread again; interrupts answered before the failure keep their answers.

        A thread whose decision is outcome unknown (`outcome_unknown`) is resumed again with
        that decision's answers only with `accept_repeat=True`: the nodes it started may then
        run twice (`UnknownOutcome.warning` says which). Without it, `InvalidAnswer` says so.
        """
        from hitl import resume as resume_module

        reviewer = self._authorize_thread(thread_id, reviewer, principal)

        return resume_module.retry(self, thread_id, reviewer=reviewer, comment=comment, accept_repeat=accept_repeat)

    def outcome_unknown(self, thread_id: str) -> UnknownOutcome | None:
        """The thread's outcome-unknown decision, or None: a resume that may have run a node
        whose result was not saved; plain decisions on it are refused until it is retried
        (`retry(..., accept_repeat=True)`) or resolved. See `hitl.outcome`."""
        from hitl import resume as resume_module

        return resume_module.unknown_outcome(self, thread_id)

    def resolve(self, thread_id: str, *, reviewer: str = "", reason: str, principal: Any = None) -> None:
        """Close a thread without resuming it (`update_state(..., as_node=END)`), with a reason."""
        from hitl import resume as resume_module

        reviewer = self._authorize_thread(thread_id, reviewer, principal)

        resume_module.resolve(self, thread_id, reviewer=reviewer, reason=reason)

    def _authorize_thread(self, thread_id: str, reviewer: str, principal: Any) -> str:
        """For retry/resolve: the principal must be allowed to decide every pending interrupt."""
        principal = self._acting(principal)
        if principal is None:
            return reviewer
        if reviewer and reviewer != principal.identity:
            raise NotAuthorized(
                f"Reviewer {reviewer!r} is not the signed-in identity {principal.identity!r}; "
                "decisions are recorded under the signed-in identity."
            )
        self.access.authorize(principal, self.review_items(thread_id))
        return principal.identity

    # ------------------------------------------------------------------ history

    def history(
        self,
        *,
        thread_id: str | None = None,
        reviewer: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        principal: Any = None,
    ) -> pd.DataFrame:
        """The audit log as a DataFrame, one row per decision, oldest first.

        With `principal` (or in login mode), rows about items it may not see are left out,
        except its own decisions.
        """
        rows = self.store.audit_rows(
            thread_id=thread_id, reviewer=reviewer, graph_id=graph_id, kind=kind, outcome=outcome, since=since, until=until
        )
        principal = self._acting(principal)
        if principal is not None and self.access.enabled:
            from hitl.access import hidden_rows

            hidden = {id(row) for row, _ in hidden_rows(self.access, principal, rows, store=self.store)}
            rows = [row for row in rows if id(row) not in hidden]
        frame = pd.DataFrame(rows, columns=list(_HISTORY_COLUMNS))
        frame["decided_at"] = pd.to_datetime(frame["decided_at"].astype("float64"), unit="s", utc=True)
        return frame

    def verify_audit(self) -> Any:
        """Check the audit log's hash chain and head; returns an `audit.ChainReport`.

        Names the first edited, inserted or deleted row; rows sealed with HITL_AUDIT_KEY are
        checked with it when it is set.
        """
        from hitl.audit import audit_key, verify_chain

        return verify_chain(self.store.audit_rows(), head=self.store.audit_head(), key=audit_key())


_HISTORY_COLUMNS = (
    "seq", "thread_id", "interrupt_id", "graph_id", "kind", "action", "reviewer", "comment",
    "answer", "payload", "decided_at", "waited_seconds", "outcome", "error", "prev_hash", "row_hash",
)  # fmt: skip


def _why_hidden(reason: str) -> str:
    """The core of an access refusal, short enough for a table cell:
    "bob (roles: none) may not decide X: tool X needs one of the roles finance. Ask ..." ->
    "tool X needs one of the roles finance"."""
    decided = reason.split(" may not decide ", 1)[-1]
    why = decided.split(": ", 1)[1] if ": " in decided else decided
    return why.split(". Ask ", 1)[0].rstrip(".")


def _chunks(thread_ids: Sequence[str], size: int) -> list[list[str]]:
    """Consecutive chunks of at most `size` ids; a repeated id starts a new chunk, so it is
    decided after (and sees) its first occurrence, as one-by-one decisions would."""
    chunks: list[list[str]] = [[]]
    members: set[str] = set()
    for thread_id in thread_ids:
        if len(chunks[-1]) >= size or thread_id in members:
            chunks.append([])
            members = set()
        chunks[-1].append(thread_id)
        members.add(thread_id)
    return [chunk for chunk in chunks if chunk]


def _batch_result(thread_id: str, outcome: BatchResult | ResumeOutcome | HitlError) -> BatchResult:
    if isinstance(outcome, BatchResult):
        return outcome
    if isinstance(outcome, ResumeOutcome):
        return BatchResult(thread_id=thread_id, result=outcome.status, message=outcome.error or outcome.note or "")
    labels = ((AlreadyDecided, "already decided"), (ThreadNotFound, "not found"), (InvalidAnswer, "invalid"),
              (NotAuthorized, "not authorized"), (OutcomeUnknown, "outcome unknown"))  # fmt: skip
    label = next((label for kind, label in labels if isinstance(outcome, kind)), "failed")
    return BatchResult(thread_id=thread_id, result=label, message=str(outcome))  # type: ignore[arg-type]


def _last_decision(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    decided = [r for r in rows if r["outcome"] in ("completed", "waiting", "resolved")]
    return decided[-1] if decided else None


def _node_of_write(write: Any) -> str | None:
    # pending_writes are (task_id, channel, value); the channel names what was written.
    try:
        _, channel, _ = write
    except (TypeError, ValueError):
        return None
    if channel.startswith("branch:to:"):
        return None
    return None if channel.startswith("__") else channel
