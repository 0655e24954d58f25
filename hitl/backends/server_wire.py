"""The wire side of the LangGraph server backend: the SDK client, its errors, and what the
server's thread and state objects say, decoded for the desk (`hitl.backends.server` reads
threads with them, `hitl.backends.server_graphs` runs graphs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from hitl.errors import HitlError, StoreError
from hitl.store import RawInterrupt

__all__ = [
    "NotFound",
    "SKEW_SECONDS",
    "ServerUnreachable",
    "connect_client",
    "epoch",
    "http_error",
    "interrupts_of",
    "is_uuid",
    "latest_of",
    "metadata_of",
    "nothing_ran",
    "pending_of",
    "raw_interrupt",
]

SKEW_SECONDS = 2.0
"""A refresh re-reads threads updated this long before its watermark (and a lost request's run
is looked for this long before it was sent): the server's clock and updated_at granularity may
put a later write at an earlier time."""


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


class NotFound(Exception):
    """The server answered 404."""


def nothing_ran(exc: HitlError) -> HitlError:
    """Mark `exc` as raised before any run was created: the decision's claim is released."""
    exc.nothing_ran = True  # type: ignore[attr-defined]
    return exc


def interrupts_of(thread: dict[str, Any]) -> list[dict[str, Any]]:
    """The thread's pending interrupts, flattened from `{task_id: [{id, value}]}`, task ids kept."""
    return [
        {**item, "task_id": task_id}
        for task_id, items in (thread.get("interrupts") or {}).items()
        for item in items or []
    ]


def metadata_of(thread: dict[str, Any]) -> dict[str, Any]:
    metadata = dict(thread.get("metadata") or {})
    if not metadata.get("graph_id") and metadata.get("assistant_id"):
        metadata["graph_id"] = metadata["assistant_id"]
    return metadata


def latest_of(thread: dict[str, Any], state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    checkpoint = state.get("checkpoint") or {}
    metadata = {**(state.get("metadata") or {}), **metadata_of(thread)}
    return str(checkpoint.get("checkpoint_id") or ""), metadata


def pending_of(thread_id: str, thread: dict[str, Any], state: dict[str, Any]) -> list[RawInterrupt]:
    """Pending interrupts of an interrupted thread, named by the task (node) that raised them."""
    if thread.get("status") != "interrupted":
        return []
    checkpoint_id = str((state.get("checkpoint") or {}).get("checkpoint_id") or "")
    nodes = {task.get("id"): task.get("name") for task in state.get("tasks") or []}
    return [
        raw_interrupt(thread_id, checkpoint_id, {**item, "node": item.get("node") or nodes.get(item["task_id"])})
        for item in interrupts_of(thread)
    ]


def raw_interrupt(thread_id: str, checkpoint_id: str, item: dict[str, Any]) -> RawInterrupt:
    value = item.get("value")
    schema = item.get("response_schema")
    return RawInterrupt(
        thread_id=thread_id, checkpoint_id=checkpoint_id, task_id=str(item.get("task_id") or ""), node=item.get("node"),
        id=str(item["id"]), value=value, response_schema=schema if isinstance(schema, dict) else None,
    )  # fmt: skip


def epoch(stamp: Any) -> float:
    if isinstance(stamp, (int, float)):
        return float(stamp)
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def http_error(exc: httpx.HTTPStatusError) -> str:
    return f"HTTP {exc.response.status_code} {exc.response.text[:200]}"
