"""The HITL review desk: review, answer and audit LangGraph interrupts.

    from hitl import Inbox
    inbox = Inbox.open()
    page = inbox.pending(limit=50)
    outcome = inbox.resume(thread_id, {interrupt_id: answer}, reviewer="alice")
"""

from __future__ import annotations

from hitl.errors import (
    AlreadyDecided,
    HitlError,
    InvalidAnswer,
    NotAuthorized,
    StoreError,
    ThreadNotFound,
    UnknownGraph,
)
from hitl.contracts import Contract
from hitl.inbox import (
    BatchResult,
    CheckpointInfo,
    Inbox,
    Page,
    PendingInterrupt,
    PendingThread,
    ResumeOutcome,
    ThreadView,
)
from hitl.outcome import OutcomeUnknown

__all__ = [
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
