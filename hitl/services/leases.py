"""The heartbeat that keeps a resume's claims leased until they are closed."""

from __future__ import annotations

import threading
from hitl.errors import HitlError
from hitl.desk import Desk


class Leases:
    """Keeps the leases of this desk's open claims ahead of the clock until they are closed.

    A resume that outlived its lease would look like a dead desk's and could be taken over
    and run twice. One heartbeat thread renews every open claim of a resume (or of a batch
    chunk, whose later graphs wait their turn) in one transaction per beat; it stops when the
    last claim is closed. A desk that dies stops renewing, and its claims go stale after one
    lease.
    """

    def __init__(self, inbox: Desk, reviewer: str, claims: dict[str, list[str]]) -> None:
        self._store = inbox.store
        self._reviewer = reviewer
        self._lease = inbox.settings.claim_lease_seconds
        self._open = dict(claims)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if not self._open:
            self._stop.set()
            return
        name = f"hitl-lease-{next(iter(self._open))}" + (f"+{len(self._open) - 1}" if len(self._open) > 1 else "")
        threading.Thread(target=self._beat, name=name, daemon=True).start()

    def close(self, thread_id: str) -> None:
        """Stop renewing a thread's claims (closed, or about to be)."""
        with self._lock:
            self._open.pop(thread_id, None)
            if not self._open:
                self._stop.set()

    def _beat(self) -> None:
        while not self._stop.wait(max(self._lease / 3, 0.05)):
            with self._lock:
                claims = dict(self._open)
            try:
                self._store.renew_claims_of(claims, reviewer=self._reviewer, lease_seconds=self._lease)
            except HitlError:
                pass  # the next beat tries again; the leases are still running
