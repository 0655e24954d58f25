"""The backend seam: one interface for where the checkpoints live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # the facade's value objects; the protocol only names them
    from hitl.domain import Page, ResumeOutcome, ThreadView

__all__ = ["Backend"]


@runtime_checkable
class Backend(Protocol):
    """What the desk needs from the place its threads live.

    The desk's own records (claims, audit, votes, outbox) are not part of it: they always stay
    in the desk's database (`HITL_DATABASE_URL`), whatever the backend.
    """

    name: str
    """Short label for the sidebar and `/healthz` ("langgraph-server")."""

    def pending(
        self,
        limit: int = 50,
        cursor: str | None = None,
        graph_id: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        *,
        newest_first: bool = False,
        refresh: bool = True,
    ) -> Page:
        """One cursor page of threads waiting for a human, with the total under the filters."""
        ...

    def thread(self, thread_id: str) -> ThreadView:
        """State, messages and pending interrupts of one thread (raises `ThreadNotFound`)."""
        ...

    def resume(self, thread_id: str, answers: dict[str, Any], *, reviewer: str = "", comment: str = "") -> ResumeOutcome:
        """Answer interrupts by id and resume the thread once (raises `AlreadyDecided` on a second answer)."""
        ...

    def changed_since(self, updated_after: float) -> list[str]:
        """Ids of threads the backend changed after `updated_after` (epoch seconds)."""
        ...

    def refresh(self) -> int:
        """Bring the desk-side index up to date; returns how many threads changed."""
        ...

    def graph_ids(self) -> list[str]:
        """Graphs (assistants) threads can belong to."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
