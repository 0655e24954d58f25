"""One thread as the Review page shows it: state, messages, interrupts, timeline, status."""

from __future__ import annotations

from typing import Any

from hitl.access import hidden_rows, thread_requesters, votes
from hitl.desk import Desk
from hitl.domain import CheckpointInfo, Principal, ThreadView
from hitl.errors import HitlError, NotAuthorized, ThreadNotFound
from hitl.reading import pending_interrupt
from hitl.registry import GraphMatch
from hitl.services.visibility import hidden_by
from hitl.store import RawInterrupt, checkpoint_time

__all__ = ["read_thread"]


def read_thread(desk: Desk, thread_id: str, *, history: int = 50, principal: Principal | None = None) -> ThreadView:
    """See `Inbox.thread`."""
    latest = desk.store.latest_checkpoint(thread_id)
    if latest is None:
        raise ThreadNotFound(thread_id)
    checkpoint_id, metadata = latest
    raw = desk.store.pending_interrupts([thread_id])[thread_id]
    match = desk.match_graph(thread_id, metadata, raw)
    if principal is not None:
        _check_visible(desk, principal, thread_id, metadata, match.graph_id, raw)
    values, next_nodes, saved_history, undecodable = _saved_state(desk, thread_id, match, history)
    errors = desk.store.failed_tasks(thread_id)
    messages = values.get("messages") or []
    return ThreadView(
        thread_id=thread_id,
        graph_id=match.graph_id,
        status=_status(raw, metadata, errors, next_nodes),
        values=values,
        messages=list(messages) if isinstance(messages, list) else [],
        interrupts=[pending_interrupt(item) for item in raw],
        next_nodes=next_nodes,
        checkpoints=_checkpoints(saved_history),
        metadata=metadata,
        read_only_reason=match.note or undecodable,
        errors=errors,
        waiting_since=checkpoint_time(checkpoint_id) if raw else None,
        decisions=desk.store.audit_rows(thread_id=thread_id),
        votes=votes(desk.store, thread_id),
    )


def _check_visible(
    desk: Desk, principal: Principal, thread_id: str, metadata: dict[str, Any], graph_id: str | None, raw: list[RawInterrupt]
) -> None:
    """Raise `NotAuthorized` unless the principal may see the thread."""
    requester = thread_requesters(desk.store, [thread_id], latest={thread_id: metadata}).get(thread_id)
    reason = hidden_by(desk, principal, thread_id, graph_id, raw, requester)
    if reason is not None:
        raise NotAuthorized(reason)
    if not raw:  # nothing pending: what was decided on it says what it is
        hidden = hidden_rows(desk.access, principal, desk.store.audit_rows(thread_id=thread_id), store=desk.store)
        if hidden:
            raise NotAuthorized(hidden[0][1])


def _saved_state(
    desk: Desk, thread_id: str, match: GraphMatch, history: int
) -> tuple[dict[str, Any], tuple[str, ...], list[Any], str | None]:
    """(state values, next nodes, the last `history` checkpoints, why they cannot be decoded)."""
    config = {"configurable": {"thread_id": thread_id}}
    values: dict[str, Any] = {}
    next_nodes: tuple[str, ...] = ()
    try:
        if match.graph_id and not match.note:
            state = desk.registry.graph(match.graph_id).get_state(config)
            values = dict(state.values) if isinstance(state.values, dict) else {"value": state.values}
            next_nodes = tuple(state.next)
        else:
            saved = desk.store.saver.get_tuple(config)
            if saved is not None:
                values = {
                    k: v for k, v in saved.checkpoint.get("channel_values", {}).items() if not k.startswith(("branch:", "__"))
                }
        # Materialise the listing before anything else touches the saver: SqliteSaver.list
        # holds its non-reentrant lock while the generator is open.
        return values, next_nodes, list(desk.store.saver.list(config, limit=history)), None
    except HitlError:
        raise
    except Exception as exc:  # a checkpoint or write from a newer or foreign serializer
        undecodable = (
            f"The thread's saved state could not be decoded ({type(exc).__name__}: {exc}); it may have been "
            "written by a newer checkpointer version. It is shown read-only: upgrade the desk's langgraph "
            "packages to read it."
        )
        return values, next_nodes, [], undecodable


def _checkpoints(saved_history: list[Any]) -> list[CheckpointInfo]:
    """The root checkpoints of the timeline, newest first, with the channels their writes name."""
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
    return checkpoints


def _status(raw: list[RawInterrupt], metadata: dict[str, Any], errors: list[Any], next_nodes: tuple[str, ...]) -> str:
    if any(item.answerable for item in raw):
        return "waiting"
    if metadata.get("hitl_resolved"):
        return "resolved"
    if errors or raw:
        return "failed"
    return "running" if next_nodes else "completed"


def _node_of_write(write: Any) -> str | None:
    # pending_writes are (task_id, channel, value); the channel names what was written.
    try:
        _, channel, _ = write
    except (TypeError, ValueError):
        return None
    if channel.startswith("branch:to:"):
        return None
    return None if channel.startswith("__") else channel
