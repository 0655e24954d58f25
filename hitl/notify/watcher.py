"""The watcher loop (`python -m hitl notify`) and the desk's background notifier."""

from __future__ import annotations

import logging
import threading
import time
from hitl.desk import Desk
from hitl.errors import HitlError
from hitl.notify.config import NotifyConfig, load_config
from hitl.notify.events import attach
from hitl.notify.notifier import Notifier

log = logging.getLogger("hitl.notify")  # one logger for the whole of notify


def run_watcher(
    inbox: Desk,
    once: bool = False,
    interval: float = 2.0,
    *,
    stop: threading.Event | None = None,
    config: NotifyConfig | None = None,
) -> None:
    """Refresh the inbox, queue notifications, deliver due ones; loop until `stop` is set.

    `python -m hitl notify` runs this. With `once`, one pass: everything due now is sent and
    awaited (retries it schedules are left for the next run). On stop (or Ctrl-C) in-flight
    sends finish and are recorded before it returns.

    Raises:
        HitlError: no webhook is configured, or the configuration is invalid.
    """
    config = config or load_config(inbox.settings)
    if not config.webhooks:
        raise HitlError(
            "No webhooks are configured. Add a [[webhooks]] entry (url, secret, events) to the "
            "HITL_CONFIG file; see hitl.toml.example."
        )
    stop = stop or threading.Event()
    attach(inbox, config)
    notifier = Notifier(inbox, config=config)
    log.info("Webhook watcher %s delivering to %s", notifier.worker_id, ", ".join(h.url for h in config.webhooks))
    next_scan = 0.0
    cutoff: float | None = None
    try:
        while not stop.is_set():
            if time.monotonic() >= next_scan and not (once and cutoff is not None):
                try:
                    inbox.refresh()  # on_indexed queues what this refresh found
                    notifier.reconcile()  # and this what other processes indexed
                except HitlError as exc:  # database locked or briefly unavailable: next scan
                    log.warning("Webhook scan failed: %s", exc)
                next_scan = time.monotonic() + interval
                cutoff = time.time() if once else None
            # Read before dispatching: a send finishing during dispatch() frees capacity this
            # round did not use, and a --once pass must come round again for it.
            was_busy = notifier.busy()
            try:
                started = notifier.dispatch(due_before=cutoff)
                due_in = None if once else notifier.next_due_in()
            except HitlError as exc:
                log.warning("Webhook dispatch failed: %s", exc)
                started, due_in = 0, None
            busy = notifier.busy()
            if once and not started and not was_busy and not busy:
                return
            # Sleep until the next scan or the next due retry; while sends are in flight, look
            # again soon, so capacity they free is used for rows already due.
            pause = 0.05 if once else next_scan - time.monotonic()
            if due_in is not None:
                pause = min(pause, due_in)
            if busy:
                pause = min(pause, 0.05)
            stop.wait(max(0.0, pause))
    except KeyboardInterrupt:
        pass
    finally:
        notifier.close(wait=True)


_background: dict[str, tuple[threading.Thread, threading.Event]] = {}


_background_lock = threading.Lock()


def start_background_notifier(inbox: Desk, *, interval: float = 2.0) -> threading.Thread | None:
    """Run the watcher in a daemon thread, once per process and database.

    Returns None without webhooks, or on a read-only database (where deliveries cannot be
    recorded: run `python -m hitl notify` against a writable one).
    """
    config = load_config(inbox.settings)
    if not config.webhooks:
        return None
    if inbox.store.read_only:
        log.warning("Webhook notifications are off: %s is read-only", inbox.store.display_url)
        return None
    with _background_lock:
        running = _background.get(inbox.store.url)
        if running and running[0].is_alive():
            return running[0]
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                try:
                    run_watcher(inbox, interval=interval, stop=stop, config=config)
                except Exception:  # keep notifying: log, pause, start over
                    log.exception("Webhook watcher stopped unexpectedly; restarting in %g s", interval)
                    stop.wait(interval)

        thread = threading.Thread(target=run, name="hitl-notifier", daemon=True)
        _background[inbox.store.url] = (thread, stop)
        thread.start()
        return thread


def stop_background_notifier(inbox: Desk, *, timeout: float | None = 30.0) -> None:
    """Stop this database's background notifier, letting in-flight sends finish."""
    with _background_lock:
        running = _background.pop(inbox.store.url, None)
    if running:
        running[1].set()
        running[0].join(timeout)
