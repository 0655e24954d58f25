"""Which audit rows a principal may see, and what a row that lacks them was about (`audit_context`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from hitl.domain import Principal
from hitl.errors import HitlError
from hitl.payloads import classify
from hitl.storage.access_sql import audit_context_row
from hitl.storage.threads_sql import indexed_threads
from hitl.store import Store
from hitl.access.items import ReviewItem
from hitl.access.policy import AccessPolicy
from hitl.access.requesters import thread_requesters
from hitl.jsondata import from_json_text


def hidden_rows(
    policy: AccessPolicy, principal: Principal, rows: Iterable[Mapping[str, Any]], *, store: Store | None = None
) -> list[tuple[Mapping[str, Any], str]]:
    """Audit rows about items the principal may not see (its own decisions are never hidden),
    each with the reason.

    A row is judged on its graph, kind and payload, on what its answer approves, and on its
    thread's requester. A row that does not say what it was about (recovery and takeover
    rows written before they carried it) borrows that from another row of its interrupt, or,
    given the `store`, from `audit_context`; a row that still cannot be judged but records
    an answer is hidden from all but viewers: it fails closed.
    """
    rows = list(rows)
    if not policy.enabled:
        return []
    known: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
    for row in rows:
        if row.get("kind") and from_json_text(row.get("payload"), invalid=None) is not None:
            known.setdefault(_row_key(row), (row.get("graph_id"), row.get("kind"), from_json_text(row.get("payload"), invalid=None)))
    requesters: dict[str, str] = {}
    if store is not None:
        try:
            requesters = thread_requesters(store, [str(row.get("thread_id")) for row in rows])
        except HitlError:
            requesters = {}
    viewer = bool(policy.viewers & principal.roles)
    looked_up: dict[tuple[str, str], dict[str, Any]] = {}
    hidden = []
    for row in rows:
        if str(row.get("reviewer") or "").strip().lower() == principal.key:
            continue
        key = _row_key(row)
        graph_id, kind, value = row.get("graph_id"), row.get("kind"), from_json_text(row.get("payload"), invalid=None)
        answer = from_json_text(row.get("answer"), invalid=None)
        # Only a row with an answer can tell what its payload did not (the store writes a
        # missing payload as JSON null); a resolve row without either is judged as it is.
        if (not kind or value is None) and answer is not None:
            context = known.get(key)
            if context is None and store is not None:
                if key not in looked_up:
                    looked_up[key] = audit_context(store, *key)
                found = looked_up[key]
                context = (found.get("graph_id"), found.get("kind"), found.get("payload")) if found.get("kind") else None
                graph_id = graph_id or found.get("graph_id")
            if context is not None:
                graph_id, kind = graph_id or context[0], kind or context[1]
                value = context[2] if value is None else value
        if not kind and answer is not None and not viewer:
            hidden.append((row, (
                f"{principal.identity} may not see this audit row: it records an answer but not what it "
                "answered (graph, kind, payload), so [access] cannot tell who may see it. Ask for a viewer role."
            )))  # fmt: skip
            continue
        item = ReviewItem(
            thread_id=key[0], interrupt_id=key[1], graph_id=graph_id, kind=str(kind or "json"), value=value,
            requested_by=requesters.get(key[0]),
        )  # fmt: skip
        allowed, reason = policy.can_see(principal, item, answer=answer)
        if not allowed:
            hidden.append((row, reason))
    return hidden


def _row_key(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row.get("thread_id")), str(row.get("interrupt_id") or "")


def audit_context(store: Store, thread_id: str, interrupt_id: str, *, history: int = 100) -> dict[str, Any]:
    """What an audit row about this interrupt should carry so `[access]` can judge it:
    `graph_id`, `kind` and `payload` (the interrupt value), each where it can be found.

    Looked up, in order: the audit log's other rows of the interrupt, the thread's pending
    interrupts, its last `history` checkpoints (an interrupt already resumed), and, for the
    graph, the desk's index. For rows that do not know them (recovery, takeover); never raises.
    """
    found: dict[str, Any] = {}
    try:
        row = audit_context_row(store, thread_id, interrupt_id)
        if row is not None:
            found = {"graph_id": row[0], "kind": row[1], "payload": from_json_text(row[2], invalid=None)}
    except Exception:  # no audit table yet, a database error: look elsewhere
        pass
    if "kind" not in found:
        try:
            for raw in store.pending_interrupts([thread_id]).get(thread_id, []):
                if raw.id == interrupt_id and not raw.decode_error:
                    found.update(kind=classify(raw.value, raw.response_schema), payload=raw.value)
        except Exception:
            pass
    if "kind" not in found:
        try:
            found.update(_interrupt_in_history(store, thread_id, interrupt_id, history, classify))
        except Exception:
            pass
    if not found.get("graph_id"):
        try:
            graph_id = indexed_threads(store, [thread_id]).get(thread_id, (None, None))[1]
            if not graph_id:
                latest = store.latest_checkpoint(thread_id)
                graph_id = latest[1].get("graph_id") if latest else None
            if graph_id:
                found["graph_id"] = graph_id
        except Exception:
            pass
    return found


def _interrupt_in_history(store: Store, thread_id: str, interrupt_id: str, limit: int, classify: Any) -> dict[str, Any]:
    # Materialised at once: SqliteSaver.list holds its lock while the generator is open.
    for saved in list(store.saver.list({"configurable": {"thread_id": thread_id}}, limit=limit)):
        for _task, channel, value in saved.pending_writes or []:
            if channel != "__interrupt__":
                continue
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if getattr(item, "id", None) == interrupt_id:
                    schema = getattr(item, "response_schema", None)
                    payload = getattr(item, "value", None)
                    return {"kind": classify(payload, schema if isinstance(schema, dict) else None), "payload": payload}
    return {}
