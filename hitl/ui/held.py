"""The undo window: a decision is held for a few seconds before its resume starts.

After a reviewer decides on Review, the answer waits `HITL_UNDO_SECONDS` (default 5; 0 sends at
once) in this process, keyed by (thread, interrupt): Undo within the window sends nothing and
records nothing; when the window ends (or on "Send now") the decision goes through the same
`Inbox.resume` call an immediate decision makes, exactly once. The hold lives in the server
process, not in a browser session, so a rerun, another page or a closed tab neither loses it nor
sends it twice. Another reviewer answering the same interrupt meanwhile goes through the normal
claim: the held answer then comes back `already` (AlreadyDecided), never as a second resume.

Pure Python (a lock and one timer thread per hold), unit-tested without Streamlit.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hitl.errors import AlreadyDecided, HitlError, InvalidAnswer

__all__ = ["DEFAULT_UNDO_SECONDS", "undo_seconds", "Hold", "HeldDecisions", "HELD"]

DEFAULT_UNDO_SECONDS = 5.0


def undo_seconds() -> float:
    """HITL_UNDO_SECONDS (default 5); 0 (or a negative or unreadable value: 5) sends at once."""
    raw = os.environ.get("HITL_UNDO_SECONDS", "")
    try:
        seconds = float(raw) if raw.strip() else DEFAULT_UNDO_SECONDS
    except ValueError:
        return DEFAULT_UNDO_SECONDS
    if seconds != seconds or seconds < 0:  # NaN or negative
        return DEFAULT_UNDO_SECONDS
    return min(seconds, 600.0)


@dataclass(kw_only=True)
class Hold:
    """One held decision and, once sent, its outcome (the dict `cards.render_outcome` reads)."""

    thread_id: str
    interrupt_id: str
    answer: Any
    comment: str
    verb: str
    reviewer: str
    principal: Any = None
    due: float = 0.0
    """`time.time()` at which the resume starts."""
    held_for: float = 0.0
    state: str = "held"
    """held → sending → sent, or held → undone. Only `HeldDecisions` changes it, under its lock."""
    outcome: dict[str, Any] | None = None
    inbox: Any = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.thread_id, self.interrupt_id)

    def seconds_left(self, now: float | None = None) -> float:
        return max(0.0, self.due - (time.time() if now is None else now))


class HeldDecisions:
    """Decisions waiting out their undo window in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: dict[tuple[str, str], Hold] = {}
        self._timers: dict[tuple[str, str], threading.Timer] = {}

    def hold(
        self,
        inbox: Any,
        *,
        thread_id: str,
        interrupt_id: str,
        answer: Any,
        reviewer: str,
        comment: str = "",
        verb: str = "decided",
        principal: Any = None,
        seconds: float,
        on_sent: Callable[[Hold], None] | None = None,
    ) -> Hold:
        """Hold one answer for `seconds`, then resume with it (on a timer thread).

        A second hold of the same interrupt while the first is held or sending returns the
        first, unchanged: one decision per interrupt, and never a second resume.
        """
        with self._lock:
            current = self._holds.get((thread_id, interrupt_id))
            if current is not None and current.state in ("held", "sending"):
                return current
            held = Hold(thread_id=thread_id, interrupt_id=interrupt_id, answer=answer, comment=comment, verb=verb,
                        reviewer=reviewer, principal=principal, due=time.time() + seconds, held_for=seconds,
                        inbox=inbox)  # fmt: skip
            self._holds[held.key] = held
            timer = threading.Timer(seconds, self.send, args=(held.key,), kwargs={"on_sent": on_sent})
            timer.daemon = True
            timer.name = f"hitl-undo-{thread_id}"
            self._timers[held.key] = timer
        timer.start()
        return held

    def get(self, key: tuple[str, str]) -> Hold | None:
        with self._lock:
            return self._holds.get(key)

    def pending(self) -> list[Hold]:
        """Holds still in their window or being sent."""
        with self._lock:
            return [held for held in self._holds.values() if held.state in ("held", "sending")]

    def undo(self, key: tuple[str, str]) -> bool:
        """Cancel a held decision; False when it was already sending or sent (too late)."""
        with self._lock:
            held = self._holds.get(key)
            if held is None or held.state != "held":
                return False
            held.state = "undone"
            timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        return True

    def send(self, key: tuple[str, str], *, on_sent: Callable[[Hold], None] | None = None) -> Hold | None:
        """Resume with the held answer now (the timer, or "Send now"). Runs at most once per
        hold: a call that finds it sending, sent or undone does nothing and returns it."""
        with self._lock:
            held = self._holds.get(key)
            if held is None or held.state != "held":
                return held
            held.state = "sending"
            timer = self._timers.pop(key, None)
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        outcome = _resume(held)
        with self._lock:
            held.outcome = outcome
            held.state = "sent"
        if on_sent is not None:
            on_sent(held)
        return held

    def forget(self, key: tuple[str, str]) -> None:
        """Drop a finished hold (after its outcome was shown)."""
        with self._lock:
            held = self._holds.get(key)
            if held is not None and held.state in ("sent", "undone"):
                del self._holds[key]

    def wait(self, key: tuple[str, str], timeout: float) -> Hold | None:
        """Block until the hold is sent or undone (tests, shutdown); the hold."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            held = self.get(key)
            if held is None or held.state in ("sent", "undone"):
                return held
            time.sleep(0.02)
        return self.get(key)


def _resume(held: Hold) -> dict[str, Any]:
    """The same `Inbox.resume` an immediate decision makes; its outcome as the page shows it."""
    outcome: dict[str, Any] = {"thread_id": held.thread_id, "verb": held.verb, "at": time.time(),
                               "interrupt_id": held.interrupt_id}  # fmt: skip
    extra = {"principal": held.principal} if held.principal is not None else {}
    try:
        result = held.inbox.resume(held.thread_id, {held.interrupt_id: held.answer}, reviewer=held.reviewer,
                                   comment=held.comment, **extra)  # fmt: skip
    except AlreadyDecided as error:
        outcome.update(status="already", reviewer=error.reviewer,
                       decided_at=error.decided_at.timestamp() if error.decided_at else None)  # fmt: skip
    except InvalidAnswer as error:
        outcome.update(status="error", error=f"Your answer was not sent: {error}")
    except HitlError as error:
        outcome.update(status="error", error=str(error))
    except Exception as error:  # noqa: BLE001 - a timer thread must record, not die silently
        outcome.update(status="error", error=f"The resume failed unexpectedly: {type(error).__name__}: {error}")
    else:
        outcome.update(status=result.status, error=result.error, new=len(result.new_interrupts), note=result.note)
    return outcome


HELD = HeldDecisions()
"""The process's held decisions (every session of the app shares them)."""
