"""Reading the queue: checkpoint rows (`hitl.store`) turned into the desk's value types.

Pure functions over a `Store` and the payload kinds; every layer that lists or shows pending
interrupts (the facade, the services, the policies) converts them here, once.
"""

from __future__ import annotations

from hitl.domain import Page, PendingInterrupt, PendingThread
from hitl.payloads import classify, search_text, summarize
from hitl.registry import GraphMatch
from hitl.store import IndexEntry, RawInterrupt, Store, ThreadRow

__all__ = ["pending_interrupt", "pending_thread", "waiting_page", "index_entry"]


def pending_interrupt(item: RawInterrupt) -> PendingInterrupt:
    """The interrupt as the desk shows it: its kind and summary (or why it cannot be decoded)."""
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


def pending_thread(row: ThreadRow, raw: list[RawInterrupt]) -> PendingThread:
    """An index row with its answerable pending interrupts."""
    return PendingThread(
        thread_id=row.thread_id,
        graph_id=row.graph_id,
        checkpoint_id=row.checkpoint_id,
        waiting_since=row.waiting_since,
        interrupts=[pending_interrupt(item) for item in raw if item.answerable],
        kinds=row.kinds,
        summary=row.summary,
        read_only_reason=row.graph_note,
    )


def waiting_page(
    store: Store,
    *,
    limit: int,
    cursor: str | None = None,
    graph_id: str | None = None,
    kind: str | None = None,
    search: str | None = None,
    waiting_longer_than: float | None = None,
    newest_first: bool = False,
) -> Page:
    """One page of waiting threads, unfiltered by access; only the page is decoded."""
    rows, next_cursor, total = store.list_threads(
        status="waiting",
        limit=limit,
        cursor=cursor,
        graph_id=graph_id,
        kind=kind,
        search=search,
        waiting_longer_than=waiting_longer_than,
        newest_first=newest_first,
    )
    decoded = store.listed_interrupts([row.thread_id for row in rows])
    items = [pending_thread(row, decoded.get(row.thread_id, [])) for row in rows]
    return Page(items=items, next_cursor=next_cursor, total=total)


def index_entry(match: GraphMatch, thread_id: str, pending: list[RawInterrupt]) -> IndexEntry:
    """What the index keeps of a thread: its graph, kinds, summary and search text."""
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
