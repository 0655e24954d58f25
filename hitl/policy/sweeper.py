"""The desk's background sweeper thread, one per database."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from hitl.desk import Desk
from hitl.services.recovery import recover_stale_claims
from hitl.errors import HitlError
from hitl.policy.expiry import sweep

log = logging.getLogger("hitl.policy")  # one logger for the whole of policy


class BackgroundSweeper:
    """A daemon thread sweeping one database every `interval` seconds (see `start_background_sweeper`)."""

    def __init__(self, inbox: Desk, interval: float, *, recover: bool) -> None:
        self.inbox = inbox
        self.interval = interval
        self.recover = recover
        self.last_run: datetime | None = None
        """When the last pass finished (UTC)."""
        self.last_lines: list[str] = []
        """What the last pass did, one line per action."""
        self.last_error: str | None = None
        """Why the last pass failed, or None."""
        self.runs = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=f"hitl-sweeper-{inbox.store.display_url}", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                lines = list(sweep(self.inbox))
                if self.recover and not self.inbox.store.read_only:
                    lines += [f"{t} {i}: stale claim {result}" for t, i, result in recover_stale_claims(self.inbox)]
                self.last_lines, self.last_error = lines, None
            except HitlError as exc:
                self.last_error = str(exc)
            except Exception as exc:  # a bug: keep sweeping, but say so
                log.exception("background sweep failed")
                self.last_error = f"{type(exc).__name__}: {exc}"
            self.last_run = datetime.now(timezone.utc)
            self.runs += 1
            self._stop.wait(self.interval)

    @property
    def alive(self) -> bool:
        """Whether the thread is running."""
        return self.thread.is_alive()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout)


_SWEEPERS: dict[str, BackgroundSweeper] = {}


_SWEEPERS_LOCK = threading.Lock()


def start_background_sweeper(inbox: Desk, interval: float = 60.0, *, recover: bool = True) -> BackgroundSweeper:
    """Sweep this desk's database every `interval` seconds in a daemon thread, once per process.

    Calling it again (a Streamlit rerun) returns the running sweeper of the same database.
    With `recover`, each pass also settles stale claims (`recover_stale_claims`).
    """
    if interval <= 0:
        raise HitlError(f"interval={interval!r}; the sweeper needs a positive number of seconds, e.g. 60.")
    with _SWEEPERS_LOCK:
        running = _SWEEPERS.get(inbox.store.url)
        if running is not None and running.alive:
            return running
        sweeper = BackgroundSweeper(inbox, interval, recover=recover)
        _SWEEPERS[inbox.store.url] = sweeper
        sweeper.thread.start()
        return sweeper
