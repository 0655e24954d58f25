"""The public API of `hitl` (shared/DESIGN.md, "Public API") is pinned: integrators call it.

A name leaving `hitl.__all__`, a documented parameter renamed or a documented field dropped is a
breaking change; this test makes it a deliberate one.
"""

from __future__ import annotations

import dataclasses
import inspect

import hitl
from hitl import errors

PUBLIC = [
    "Inbox",
    "Page",
    "PendingThread",
    "PendingInterrupt",
    "ThreadView",
    "CheckpointInfo",
    "ResumeOutcome",
    "BatchResult",
    "HitlError",
    "ThreadNotFound",
    "UnknownGraph",
    "AlreadyDecided",
    "InvalidAnswer",
    "NotAuthorized",
    "StoreError",
    "OutcomeUnknown",
    "Contract",
]

# What DESIGN.md documents, by method: parameters that must keep their names (more may be added).
DOCUMENTED_PARAMETERS = {
    "open": {"database_url", "graphs_path"},
    "pending": {"limit", "cursor", "graph_id", "kind", "search"},
    "thread": {"thread_id"},
    "resume": {"thread_id", "answers", "reviewer", "comment"},
    "history": {"thread_id", "reviewer", "graph_id", "kind", "outcome", "since", "until"},
}

DOCUMENTED_FIELDS = {
    "Page": {"items", "next_cursor", "total"},
    "PendingThread": {"thread_id", "graph_id", "checkpoint_id", "waiting_since", "interrupts"},
    "PendingInterrupt": {"id", "node", "value", "response_schema", "kind"},
    "ResumeOutcome": {"status", "new_interrupts", "error"},
}


def test_all_is_exactly_the_documented_names_and_each_one_imports() -> None:
    assert hitl.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(hitl, name) is not None, name


def test_errors_share_one_base_and_come_from_hitl_errors() -> None:
    for name in ("ThreadNotFound", "UnknownGraph", "AlreadyDecided", "InvalidAnswer", "NotAuthorized", "StoreError"):
        error = getattr(hitl, name)
        assert error is getattr(errors, name)
        assert issubclass(error, hitl.HitlError), name


def test_documented_parameters_keep_their_names() -> None:
    for method, names in DOCUMENTED_PARAMETERS.items():
        parameters = set(inspect.signature(getattr(hitl.Inbox, method)).parameters)
        assert names <= parameters, f"Inbox.{method} lost {sorted(names - parameters)}"
    # pending's documented order is positional: pending(50, cursor) keeps working.
    assert list(inspect.signature(hitl.Inbox.pending).parameters)[1:6] == ["limit", "cursor", "graph_id", "kind", "search"]


def test_documented_fields_are_there() -> None:
    for cls, names in DOCUMENTED_FIELDS.items():
        fields = {field.name for field in dataclasses.fields(getattr(hitl, cls))}
        assert names <= fields, f"{cls} lost {sorted(names - fields)}"
