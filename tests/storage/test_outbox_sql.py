"""hitl.storage.outbox: the outbox's SQL on SQLite and PostgreSQL (the use cases are tests/test_notify.py)."""

from __future__ import annotations

from hitl.storage.outbox import (
    claim_due,
    delivery_query,
    insert_outbox_rows,
    next_due_at,
    outbox_query,
    outbox_row,
    outbox_state_counts,
    record_delivery,
    reset_for_retry,
)


def _row(row_id: str, *, key: str = "k1", endpoint: str = "hook", due: float = 100.0) -> dict:
    return {
        "id": row_id, "event_key": key, "event_type": "decision_made", "endpoint": endpoint, "thread_id": "t1",
        "interrupt_id": "i1", "body": "{}", "state": "pending", "next_attempt_at": due, "created_at": due,
    }  # fmt: skip


def test_an_event_is_queued_once_per_endpoint(inbox) -> None:
    store = inbox.store
    assert insert_outbox_rows(store, [_row("a"), _row("b", endpoint="other")]) == 2
    assert insert_outbox_rows(store, [_row("c")]) == 0  # same (event_key, endpoint): left alone
    assert insert_outbox_rows(store, []) == 0
    assert outbox_state_counts(store) == {"pending": 2}
    assert [row[0] for row in outbox_query(store, filters={"endpoint": "hook", "state": None, "thread_id": None}, limit=10)] == ["a"]


def test_a_due_row_is_leased_to_one_worker_only(inbox) -> None:
    store = inbox.store
    insert_outbox_rows(store, [_row("a", due=100.0), _row("b", key="k2", due=500.0)])
    assert next_due_at(store, ["hook"]) == 100.0
    taken = claim_due(store, "hook", limit=5, due=200.0, now=200.0, worker_id="w1", lease_until=260.0)
    assert taken == [("a", "decision_made", "{}", 0, 0)]  # "b" is not due yet
    assert claim_due(store, "hook", limit=5, due=200.0, now=200.0, worker_id="w2", lease_until=260.0) == []
    # The lease runs out: another worker takes the row over (its second attempt).
    assert claim_due(store, "hook", limit=5, due=300.0, now=300.0, worker_id="w2", lease_until=360.0)[0][:4] == (
        "a", "decision_made", "{}", 1
    )


def test_a_delivery_is_recorded_by_the_worker_holding_the_lease(inbox) -> None:
    store = inbox.store
    insert_outbox_rows(store, [_row("a")])
    claim_due(store, "hook", limit=1, due=200.0, now=200.0, worker_id="w1", lease_until=260.0)
    settle = dict(attempt=1, state="failed", outcome="failed", next_at=200.0, status=500, error="HTTP 500", excerpt="no",
                  started=200.0, duration_ms=12.34)  # fmt: skip
    record_delivery(store, "a", worker_id="w2", **settle)  # not the lease holder: the row stays sending
    assert outbox_row(store, "a")[7] == "sending"
    record_delivery(store, "a", worker_id="w1", **settle)
    assert outbox_row(store, "a")[7] == "failed"
    attempts = delivery_query(store, "a", limit=10)
    assert len(attempts) == 2 and attempts[0][5] == 12.3  # both attempts logged, duration rounded
    assert reset_for_retry(store, "a", now=400.0) is True
    assert outbox_row(store, "a")[7] == "pending"
    assert reset_for_retry(store, "missing", now=400.0) is False
    assert outbox_row(store, "missing") is None
