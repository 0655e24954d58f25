"""hitl.storage.deadlines: escalations and extensions, on SQLite and PostgreSQL (the rules: tests/test_policy.py)."""

from __future__ import annotations

from hitl.storage.deadlines import ensure_deadline_tables, escalation_rows, extension_rows, insert_escalation, insert_extension


def test_an_interrupt_is_extended_once_and_escalated_once_per_level(inbox) -> None:
    store = inbox.store
    assert ensure_deadline_tables(store) is True
    extension = dict(thread_id="t1", interrupt_id="i1", level="", extra_seconds=60.0, reviewer="ann", reason="busy")
    assert insert_extension(store, extended_at=1.0, **extension) is True
    assert insert_extension(store, extended_at=2.0, **extension) is False
    assert extension_rows(store, ["t1"]) == [("t1", "i1", "", 60.0, "ann", "busy", 1.0)]
    escalation = dict(thread_id="t1", interrupt_id="i1", from_level=None, reviewer="system:timeout")
    assert insert_escalation(store, level="director", escalated_at=5.0, **escalation) is True
    assert insert_escalation(store, level="director", escalated_at=6.0, **escalation) is False
    assert insert_escalation(store, level="vp", escalated_at=7.0, **escalation) is True
    assert [row[2] for row in escalation_rows(store, ["t1", "t2"])] == ["director", "vp"]
    assert escalation_rows(store, []) == []
