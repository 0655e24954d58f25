"""The desk's value types: what a queue, a thread and a decision look like to every layer.

Frozen keyword-only dataclasses and `Literal` aliases, no behaviour beyond small properties;
they import nothing of the desk but `hitl.errors`, so storage, services, the facade and the
adapters can all speak them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from hitl.errors import NotAuthorized

__all__ = [
    "OutcomeStatus",
    "PendingInterrupt",
    "PendingThread",
    "Page",
    "CheckpointInfo",
    "ThreadView",
    "ResumeOutcome",
    "BatchResult",
    "Principal",
    "Source",
]

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


# --------------------------------------------------------------------------- principal


Source = Literal["local", "oidc", "api", "cli", "test"]
"""Where a principal's identity was established."""


# --------------------------------------------------------------------------- principal


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who is deciding: a verified identity and the roles the policy gives it."""

    identity: str
    """Email (else OIDC subject) or the API token's reviewer; recorded as the reviewer."""

    roles: frozenset[str] = frozenset()
    """Roles from `[[access.identities]]` (and an API token's own roles)."""

    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The identity provider's claims (st.user), or {} for API tokens."""

    source: Source = "oidc"
    """How the identity was established."""

    def __post_init__(self) -> None:
        if not isinstance(self.identity, str) or not self.identity.strip():
            raise NotAuthorized(
                f"A principal needs a non-empty identity, got {self.identity!r}. Sign in again, "
                "or configure the API token's reviewer."
            )

    @property
    def key(self) -> str:
        """The identity compared case-insensitively (emails)."""
        return self.identity.strip().lower()

    def describe_roles(self) -> str:
        """`"finance, manager"` or `"none"`."""
        return ", ".join(sorted(self.roles)) or "none"
