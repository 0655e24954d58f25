"""The reviewer's queue as Review walks it: the Inbox's filters carried in the URL, and where
the current thread sits in that queue.

The Inbox's graph, kind, search, waiting and order filters become Review's query parameters
(`/review?thread=T&kind=question&graph=payments&order=newest`), so a link reproduces the queue,
J/K step through that queue from the current thread, and after a decision the next thread of
the same queue opens. Pure: no Streamlit here, so it is unit-tested with a plain Inbox.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitl.payloads import KINDS

__all__ = ["WAITING_LONGER_THAN", "ORDERS", "SCOPE_PARAMS", "QueueScope", "QueueWindow", "queue_window", "MAX_WALK"]

WAITING_LONGER_THAN: dict[str, float | None] = {"any time": None, "5 min": 300.0, "1 h": 3600.0, "24 h": 86400.0}
"""The Inbox's "Waiting longer than" choices, in seconds."""

ORDERS = ("oldest", "newest")
"""`order=` values: oldest first (the default) or newest first."""

SCOPE_PARAMS = ("graph", "kind", "q", "waiting", "order")
"""The query parameters a queue scope owns (besides `thread`)."""

MAX_WALK = 1000
"""At most this many threads of the queue are listed to place the current one; past it the
position is unknown (the neighbours still are, when the thread is within this reach)."""

_PAGE = 100
AHEAD = 5
"""Threads after the current one remembered, to go on from after it is decided."""


@dataclass(frozen=True, kw_only=True)
class QueueScope:
    """Which pending threads a reviewer walks through, and in which order."""

    graph: str | None = None
    kind: str | None = None
    search: str | None = None
    waiting: str | None = None
    """A key of `WAITING_LONGER_THAN` other than "any time"."""
    newest_first: bool = False
    ignored: tuple[str, ...] = field(default=(), compare=False)
    """Parameters that were given but not understood (shown to the reviewer, never applied)."""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> QueueScope:
        """The scope of a URL's query parameters; unknown values are ignored and named."""
        def value(name: str) -> str | None:
            raw = params.get(name)
            if isinstance(raw, (list, tuple)):
                raw = raw[-1] if raw else None
            text = str(raw).strip() if raw is not None else ""
            return text or None

        ignored = []
        kind = value("kind")
        if kind is not None and kind not in KINDS:
            ignored.append(f"kind={kind!r} (not a payload kind)")
            kind = None
        waiting = value("waiting")
        if waiting is not None and (waiting not in WAITING_LONGER_THAN or WAITING_LONGER_THAN[waiting] is None):
            if waiting not in WAITING_LONGER_THAN:
                ignored.append(f"waiting={waiting!r} (use one of {', '.join(k for k in WAITING_LONGER_THAN if k != 'any time')})")
            waiting = None
        order = value("order")
        if order is not None and order not in ORDERS:
            ignored.append(f"order={order!r} (use oldest or newest)")
            order = None
        return cls(graph=value("graph"), kind=kind, search=value("q"), waiting=waiting,
                   newest_first=order == "newest", ignored=tuple(ignored))  # fmt: skip

    def params(self) -> dict[str, str]:
        """The query parameters that reproduce this scope (only those that differ from the default)."""
        out = {"graph": self.graph, "kind": self.kind, "q": self.search, "waiting": self.waiting,
               "order": "newest" if self.newest_first else None}  # fmt: skip
        return {name: text for name, text in out.items() if text}

    def query(self) -> dict[str, Any]:
        """Keyword arguments of `Inbox.pending` for this scope."""
        return {
            "graph_id": self.graph,
            "kind": self.kind,
            "search": self.search,
            "waiting_longer_than": WAITING_LONGER_THAN.get(self.waiting) if self.waiting else None,
            "newest_first": self.newest_first,
        }

    @property
    def filtered(self) -> bool:
        return bool(self.graph or self.kind or self.search or self.waiting)

    def describe(self) -> str:
        """"kind = question, graph = payments" (or "all pending threads"), plus the order when newest first."""
        parts = [f"{name} = {text}" for name, text in (("kind", self.kind), ("graph", self.graph)) if text]
        if self.search:
            parts.append(f'search "{self.search}"')
        if self.waiting:
            parts.append(f"waiting > {self.waiting}")
        text = ", ".join(parts) if parts else "all pending threads"
        return text + (" (newest first)" if self.newest_first else "")


@dataclass(frozen=True, kw_only=True)
class QueueWindow:
    """Where one thread sits in its queue."""

    thread_id: str
    position: int | None
    """1-based; None when the thread is not (or no longer) in the queue, or beyond `MAX_WALK`."""
    total: int
    previous: str | None
    following: str | None
    ahead: tuple[str, ...] = ()
    """The next few threads after this one: where to go on once it is decided."""

    def line(self, scope: QueueScope) -> str:
        """"3 of 41 in: kind = question, graph = payments"."""
        if self.position is None:
            where = f"Not in this queue ({self.total:,} waiting)"
        else:
            where = f"{self.position:,} of {self.total:,}"
        return f"{where} in: {scope.describe()}"


def queue_window(
    inbox: Any,
    scope: QueueScope,
    thread_id: str,
    *,
    after: Sequence[str] = (),
    skip: Collection[str] = (),
    principal: Any = None,
) -> QueueWindow:
    """The thread's position and neighbours in the scope's queue.

    Args:
        inbox: an `Inbox` (only `pending` is called, without re-indexing).
        scope: the queue.
        thread_id: the thread shown.
        after: the threads that came right after `thread_id` when it was last listed (see
            `QueueWindow.ahead`): when `thread_id` has left the queue (it was just decided),
            `following` is the first of them still waiting, so the walk goes on from there
            instead of starting over at the head of the queue.
        skip: threads to leave out (decisions held in the undo window).
        principal: passed to `Inbox.pending` (login mode's "my queue").
    """
    ids: list[str] = []
    total = 0
    skipped = 0
    cursor = None
    query = scope.query()
    extra = {"principal": principal} if principal is not None else {}
    index = None
    while len(ids) < MAX_WALK:
        page = inbox.pending(limit=_PAGE, cursor=cursor, refresh=False, **query, **extra)
        total = page.total
        for item in page.items:
            if item.thread_id in skip and item.thread_id != thread_id:
                skipped += 1
            else:
                ids.append(item.thread_id)
        if index is None and thread_id in ids:
            index = ids.index(thread_id)
        # A few past the current one are enough for the neighbours and what comes after.
        if page.next_cursor is None or (index is not None and len(ids) > index + AHEAD):
            break
        cursor = page.next_cursor
    total = max(0, total - skipped)
    if index is not None:
        return QueueWindow(
            thread_id=thread_id,
            position=index + 1,
            total=total,
            previous=ids[index - 1] if index > 0 else None,
            following=ids[index + 1] if index + 1 < len(ids) else None,
            ahead=tuple(ids[index + 1 : index + 1 + AHEAD]),
        )
    waiting = set(ids)
    # The first of those that followed it and still wait; else (all decided meanwhile, or a
    # thread opened from outside the queue) the head of the queue.
    following = next((tid for tid in after if tid in waiting), None) or (ids[0] if ids else None)
    start = ids.index(following) if following is not None else 0
    return QueueWindow(thread_id=thread_id, position=None, total=total, previous=None, following=following,
                       ahead=tuple(ids[start : start + AHEAD]))
