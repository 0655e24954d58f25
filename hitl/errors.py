"""Errors raised by the desk.

Every error the desk raises on purpose derives from `HitlError`; pages, the CLI and the
REST API catch that base and show its message. Anything else escaping is a bug.

    HitlError
    ├── ThreadNotFound      no thread with this id in the checkpointer database
    ├── UnknownGraph        the thread's graph is not registered, or cannot be loaded
    ├── AlreadyDecided      someone else answered this interrupt first
    ├── InvalidAnswer       the answer does not fit the request or its response_schema
    ├── NotAuthorized       the reviewer may not see or decide this item
    └── StoreError          the database is missing, corrupt, read-only or locked
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = [
    "HitlError",
    "ThreadNotFound",
    "UnknownGraph",
    "AlreadyDecided",
    "InvalidAnswer",
    "NotAuthorized",
    "StoreError",
]


class HitlError(Exception):
    """Base of every error the desk raises on purpose."""


class ThreadNotFound(HitlError):
    """No thread with this id exists in the checkpointer database."""

    def __init__(self, thread_id: str) -> None:
        self.thread_id = thread_id
        super().__init__(
            f"Thread {thread_id!r} was not found in the checkpointer database. "
            "Check the id, or that the desk points at the database your agents write to "
            "(HITL_DATABASE_URL)."
        )


class UnknownGraph(HitlError):
    """The thread's graph is not registered or could not be loaded."""


class AlreadyDecided(HitlError):
    """Someone answered this interrupt first; nothing was resumed by this call."""

    def __init__(
        self,
        interrupt_id: str,
        *,
        reviewer: str | None,
        decided_at: datetime | None,
        thread_id: str | None = None,
    ) -> None:
        self.interrupt_id = interrupt_id
        self.reviewer = reviewer
        self.decided_at = decided_at
        self.thread_id = thread_id
        when = decided_at.strftime("%Y-%m-%d %H:%M:%S UTC") if decided_at else "an unknown time"
        who = reviewer or "another reviewer"
        super().__init__(
            f"Interrupt {interrupt_id} was already decided by {who} at {when}; "
            "nothing was resumed. Reload the thread to see its current state."
        )


class InvalidAnswer(HitlError):
    """The answer does not fit the request or its response_schema; nothing was saved.

    Attributes:
        field_errors: optional mapping of a field path ("args.amount", "" for the whole
            answer) to a message, so forms can show each error next to its field.
    """

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None) -> None:
        self.field_errors: dict[str, str] = dict(field_errors or {})
        super().__init__(message)


class NotAuthorized(HitlError):
    """The reviewer may not see or decide this item."""


class StoreError(HitlError):
    """The database is missing, corrupt, read-only or locked; nothing was lost."""

    def __init__(self, message: str, *, cause: Any = None) -> None:
        self.cause = cause
        super().__init__(message)
