"""The backend seam: one interface for where the threads live, one for the graphs that run them.

Pages, API and services talk to `Desk.store` (a `Backend`) and `Desk.registry` (a `Graphs`)
and never ask which implementation they got:

- the SQL store (`hitl.store.Store`, `sqlite://` / `postgresql://`) reads the savers' own
  tables with SQL, and its registry (`hitl.registry.Registry`) compiles the graphs of
  `HITL_GRAPHS` with the desk's checkpointer;
- the server client (`hitl.backends.server.ServerStore`, chosen by `HITL_LANGGRAPH_API_URL`)
  answers the same questions from a LangGraph API server through langgraph-sdk, and its
  registry (`ServerRegistry`) hands out the server's assistants as graphs whose `invoke`
  creates a run on the server.

Whatever the backend, the desk's own records (claims, audit chain, votes, deadlines, outbox,
index) are the store's SQL tables in `HITL_DATABASE_URL`: the methods below are only the
thread side. Four eyes, quorum, access rules, timeouts, webhooks, the REST API and History
are written once against these two interfaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # the store's value objects; the protocol only names them
    from hitl.registry import GraphMatch
    from hitl.store import Indexer, RawInterrupt, ThreadRow

__all__ = ["Backend", "Graphs"]


@runtime_checkable
class Backend(Protocol):
    """Where the threads live: listing, reading a thread, what changed since (resuming runs
    through `Graphs.graph(...).invoke`)."""

    url: str

    # ---- listing: the desk-side index, kept by `refresh`
    def refresh(self, indexer: Indexer, *, thread_ids: Sequence[str] | None = None) -> int:
        """Index the threads changed since the last call (only these, when given); returns how many."""
        ...

    def changed_since(self, updated_after: float) -> list[str]:
        """Ids of threads that changed after `updated_after` (epoch seconds)."""
        ...

    def list_threads(self, **filters: Any) -> tuple[list[ThreadRow], str | None, int]:
        """One cursor page of the index with the total under the filters."""
        ...

    def status_counts(self) -> dict[str, int]: ...

    def graph_ids(self) -> list[str]: ...

    def listed_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """The pending interrupts of a listed page, as indexed (pages only decode what they show)."""
        ...

    def listed_metadata(self, thread_ids: Iterable[str]) -> dict[str, dict[str, Any]] | None:
        """The listed threads' metadata as indexed, or None where the checkpoints hold it (SQL)."""
        ...

    def backfill_pending(self) -> bool: ...

    def indexing(self) -> dict[str, Any]: ...

    # ---- reading one thread, fresh (what deciding relies on)
    def thread_exists(self, thread_id: str) -> bool: ...

    def latest_checkpoint(self, thread_id: str) -> tuple[str, dict[str, Any]] | None: ...

    def latest_checkpoints(self, thread_ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]: ...

    def pending_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """The threads' pending interrupts read now from where they live (never from the index)."""
        ...

    def failed_tasks(self, thread_id: str) -> list[tuple[str, str]]: ...

    def failed_tasks_of(self, thread_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]: ...

    def finished(self, thread_ids: Iterable[str]) -> dict[str, str]:
        """{thread: latest checkpoint id} of the threads that reached END with nothing left."""
        ...


@runtime_checkable
class Graphs(Protocol):
    """The graphs threads belong to; `graph(id)` resumes (`invoke(Command(resume=...), config)`),
    reads (`get_state`), closes (`update_state(..., as_node=END)`) and draws (`get_graph`)."""

    def ids(self) -> list[str]: ...

    def error(self, graph_id: str) -> str | None: ...

    def graph(self, graph_id: str) -> Any: ...

    def match(self, metadata_graph_id: str | None, nodes: Iterable[str | None]) -> GraphMatch: ...

    def new_thread_id(self, graph_id: str) -> str:
        """An id for a new thread of `graph_id` (Start a run)."""
        ...
