"""Webhook notifications against real HTTP receivers (http.server on 127.0.0.1, random ports)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hitl import HitlError, Inbox
from hitl.notify import (
    Notifier,
    NotifyConfig,
    attach,
    delivery_attempts,
    enqueue_approvals,
    load_config,
    outbox_rows,
    retry_delivery,
    run_watcher,
    stop_background_notifier,
    verify_signature,
)
from tests.conftest import ROOT, start

SECRET = "whsec-test-0123456789"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event_key(self) -> str:
        event = self.json
        return f"{event['type']}:{event['thread_id']}:{event['interrupt_id']}"


Respond = Callable[[int, Received], tuple[int, float]]
"""(index of this request at the receiver, the request) -> (status, seconds to sleep first)."""


class Receiver:
    """An HTTP server in a thread that records every POST and answers as told."""

    def __init__(self, respond: Respond | None = None) -> None:
        self.respond: Respond = respond or (lambda index, request: (200, 0.0))
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = Received(dict(self.headers), body, time.monotonic())
                with receiver._lock:
                    index = len(receiver.received)
                    receiver.received.append(request)
                status, delay = receiver.respond(index, request)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the desk gave up waiting and closed the connection
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def keys(self) -> Counter[str]:
        with self._lock:
            return Counter(request.event_key for request in self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Receiver]]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    made: list[Receiver] = []

    def make(respond: Respond | None = None) -> Receiver:
        made.append(Receiver(respond))
        return made[-1]

    yield make
    for item in made:
        item.close()


def config_for(*receivers: Receiver, events: tuple[str, ...] = ("approval_needed",), **notify: Any) -> NotifyConfig:
    hook_keys = {"timeout", "max_attempts", "backoff_base_seconds", "backoff_max_seconds"}
    per_hook = {k: v for k, v in notify.items() if k in hook_keys}
    return load_config(
        {
            "notify": {k: v for k, v in notify.items() if k not in hook_keys},
            "webhooks": [
                {"name": f"hook{n}", "url": r.url, "secret": SECRET, "events": list(events), **per_hook}
                for n, r in enumerate(receivers)
            ],
        }
    )


def run_until(inbox: Inbox, config: NotifyConfig, done: Callable[[], bool], *, timeout: float = 15.0) -> float:
    """Run a watcher in a thread until `done()`; returns the seconds it took."""
    stop = threading.Event()
    started = time.monotonic()
    watcher = threading.Thread(target=run_watcher, args=(inbox,), kwargs={"interval": 0.05, "stop": stop, "config": config})
    watcher.start()
    try:
        while not done():
            assert time.monotonic() - started < timeout, "the watcher did not finish in time"
            time.sleep(0.02)
        return time.monotonic() - started
    finally:
        stop.set()
        watcher.join(30)


# ---------------------------------------------------------------------------- the message


def test_approval_needed_is_signed_and_carries_the_interrupt(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    hook = receiver()
    thread_id = start(inbox, "fragile")
    interrupt = inbox.pending().items[0].interrupts[0]

    run_watcher(inbox, once=True, config=config_for(hook))

    (request,) = hook.received
    event = request.json
    assert event["type"] == "approval_needed"
    assert (event["thread_id"], event["interrupt_id"], event["graph_id"], event["kind"]) == (thread_id, interrupt.id, "fragile", "question")
    assert event["data"] == interrupt.value
    assert event["review_url"] == "http://localhost:8501/review?thread=fragile-t"
    assert datetime.fromisoformat(event["timestamp"]).tzinfo is not None
    assert request.headers["X-HITL-Event"] == "approval_needed"
    assert request.headers["X-HITL-Delivery"] == event["event_id"]

    timestamp = request.headers["X-HITL-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 30
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-HITL-Signature"] == f"sha256={expected}"
    assert verify_signature(SECRET, request.body, request.headers["X-HITL-Signature"], timestamp)
    assert not verify_signature(SECRET, request.body.replace(b"fragile", b"fragilf"), request.headers["X-HITL-Signature"], timestamp)
    assert not verify_signature("another-secret", request.body, request.headers["X-HITL-Signature"], timestamp)
    replayed_later = int(timestamp) + 3600
    assert not verify_signature(SECRET, request.body, request.headers["X-HITL-Signature"], timestamp, now=replayed_later)

    (row,) = outbox_rows(inbox)
    assert row.state == "delivered" and row.attempts == 1 and row.last_status == 200
    assert [(a.outcome, a.status_code) for a in delivery_attempts(inbox, row.id)] == [("delivered", 200)]


def test_a_qa_fork_waiting_at_an_interrupt_sends_no_approval_needed(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    config = config_for(receiver())
    fork = "deploy-a~fork-1"
    inbox.graph("fragile").invoke({"topic": "a"}, {"configurable": {"thread_id": fork},
                                                   "metadata": {"graph_id": "fragile", "hitl_fork_of": "deploy-a"}})
    production = start(inbox, "fragile", {"topic": "b"}, thread_id="deploy-b")
    inbox.refresh()
    assert enqueue_approvals(inbox, [fork, production], config=config) == 1
    assert {row.thread_id for row in outbox_rows(inbox)} == {production}


def test_each_interrupt_is_queued_once_per_endpoint_however_often_it_is_offered(
    inbox: Inbox, receiver: Callable[..., Receiver]
) -> None:
    config = config_for(receiver(), receiver())
    thread_id = start(inbox, "parallel")
    inbox.refresh()
    assert enqueue_approvals(inbox, [thread_id], config=config) == 6  # 3 interrupts x 2 endpoints
    assert enqueue_approvals(inbox, [thread_id, thread_id], config=config) == 0
    with Notifier(inbox, config=config) as notifier:
        assert notifier.reconcile() == 0
    assert Counter(row.endpoint for row in outbox_rows(inbox)) == {"hook0": 3, "hook1": 3}

    two = start(inbox, "two_in_one")
    attach(inbox, config)
    first = inbox.pending().items[-1].interrupts[0]  # the refresh queued it through on_indexed
    assert len(outbox_rows(inbox, thread_id=two)) == 2
    inbox.resume(two, {first.id: True}, reviewer="alice")  # the second interrupt of the node is new
    rows = outbox_rows(inbox, thread_id=two)
    assert len(rows) == 4 and len({row.interrupt_id for row in rows}) == 2


# ---------------------------------------------------------------------------- retries


def test_a_500_is_retried_with_exponential_backoff_then_delivered(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    hook = receiver(lambda index, request: (500 if index < 2 else 200, 0.0))
    start(inbox, "fragile")
    config = config_for(hook, backoff_base_seconds=0.3, max_attempts=5)

    run_until(inbox, config, lambda: outbox_rows(inbox)[0].state == "delivered" if outbox_rows(inbox) else False)

    assert len(hook.received) == 3
    first, second, third = (request.at for request in hook.received)
    assert second - first >= 0.3  # base
    assert third - second >= 0.6  # base x 2
    assert len({request.body for request in hook.received}) == 1
    assert len({request.headers["X-HITL-Delivery"] for request in hook.received}) == 1
    attempts = sorted(delivery_attempts(inbox), key=lambda a: a.attempt)
    assert [(a.attempt, a.outcome, a.status_code) for a in attempts] == [(1, "retry", 500), (2, "retry", 500), (3, "delivered", 200)]
    assert "HTTP 500" in (attempts[0].error or "")


def test_a_4xx_is_not_retried_and_a_manual_retry_sends_it_again(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    statuses = iter([410, 200])
    hook = receiver(lambda index, request: (next(statuses), 0.0))
    start(inbox, "fragile")
    config = config_for(hook, backoff_base_seconds=0.05)

    run_watcher(inbox, once=True, config=config)
    run_watcher(inbox, once=True, config=config)
    (row,) = outbox_rows(inbox)
    assert row.state == "failed" and row.last_status == 410 and "HTTP 410" in (row.last_error or "")
    assert len(hook.received) == 1

    assert retry_delivery(inbox, row.id).state == "pending"
    run_watcher(inbox, once=True, config=config)
    (row,) = outbox_rows(inbox)
    assert row.state == "delivered" and row.attempts == 2
    assert [a.status_code for a in sorted(delivery_attempts(inbox, row.id), key=lambda a: a.attempt)] == [410, 200]
    with pytest.raises(HitlError, match="is delivered already"):
        retry_delivery(inbox, row.id)
    with pytest.raises(HitlError, match="not in the outbox"):
        retry_delivery(inbox, "nope")


def test_429_is_retried_and_giving_up_is_recorded_as_failed(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    hook = receiver(lambda index, request: (429, 0.0))
    start(inbox, "fragile")
    config = config_for(hook, backoff_base_seconds=0.05, max_attempts=3)

    run_until(inbox, config, lambda: bool(outbox_rows(inbox)) and outbox_rows(inbox)[0].state == "failed")

    assert len(hook.received) == 3
    (row,) = outbox_rows(inbox)
    assert "gave up after 3 attempt(s)" in (row.last_error or "")
    assert [a.outcome for a in sorted(delivery_attempts(inbox), key=lambda a: a.attempt)] == ["retry", "retry", "failed"]


def test_a_receiver_that_hangs_does_not_block_the_others(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    hanging = receiver(lambda index, request: (200, 5.0))
    healthy = receiver()
    for topic in ("a", "b", "c"):
        start(inbox, "fragile", {"topic": topic}, thread_id=f"deploy-{topic}")
    config = config_for(hanging, healthy, timeout=0.5, backoff_base_seconds=30, concurrency_per_endpoint=1)

    watcher = threading.Thread(target=run_watcher, args=(inbox,), kwargs={"once": True, "config": config})
    watcher.start()
    watcher.join(30)

    assert len(healthy.received) == 3
    # Queued behind the hanging endpoint, each healthy delivery would follow a hanging attempt
    # (every one of them held until its 0.5 s timeout); side by side, all three arrive before
    # the hanging endpoint's last attempt has even been sent.
    assert len(hanging.received) == 3
    last_healthy, last_hanging = max(r.at for r in healthy.received), max(r.at for r in hanging.received)
    assert last_healthy < last_hanging, "the healthy endpoint waited behind the hanging one"
    by_endpoint = {row.endpoint: [] for row in outbox_rows(inbox)}
    for row in outbox_rows(inbox):
        by_endpoint[row.endpoint].append(row)
    assert {row.state for row in by_endpoint["hook1"]} == {"delivered"}
    timed_out = [row for row in by_endpoint["hook0"] if row.state == "pending"]
    assert len(timed_out) == 3, [r.last_error for r in timed_out]
    assert all("no answer within 0.5 s" in (row.last_error or "") for row in timed_out), [r.last_error for r in timed_out]


# ---------------------------------------------------------------------------- exactly once


def test_a_watcher_stopped_midway_and_restarted_delivers_each_notification_once(
    inbox: Inbox, db_url: str, graphs_file: Path, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver(lambda index, request: (200, 0.1))
    threads = [start(inbox, "fragile", {"topic": f"t{n}"}, thread_id=f"deploy-{n}") for n in range(8)]
    config = config_for(hook, concurrency_per_endpoint=1)

    stop = threading.Event()
    first = threading.Thread(target=run_watcher, args=(inbox,), kwargs={"interval": 0.05, "stop": stop, "config": config})
    first.start()
    while len(hook.received) < 3:
        time.sleep(0.01)
    stop.set()
    first.join(30)
    delivered_before_restart = len(hook.received)
    assert 3 <= delivered_before_restart < 8
    assert {row.state for row in outbox_rows(inbox)} == {"delivered", "pending"}  # nothing left mid-send

    # The restart: two fresh processes' worth of desks on the same database, racing for the rows.
    desks = [Inbox.open(database_url=db_url, graphs_path=str(graphs_file)) for _ in range(2)]
    try:
        stop = threading.Event()
        watchers = [
            threading.Thread(target=run_watcher, args=(desk,), kwargs={"interval": 0.02, "stop": stop, "config": config})
            for desk in desks
        ]
        for watcher in watchers:
            watcher.start()
        deadline = time.monotonic() + 15
        while {row.state for row in outbox_rows(inbox)} != {"delivered"} and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # give a duplicate the chance to arrive
        stop.set()
        for watcher in watchers:
            watcher.join(30)
    finally:
        for desk in desks:
            desk.close()

    counts = hook.keys()
    assert len(counts) == 8 and set(counts.values()) == {1}
    assert {key.split(":")[1] for key in counts} == set(threads)


def test_a_row_leased_by_a_crashed_watcher_is_sent_once_after_the_lease(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    hook = receiver()
    start(inbox, "fragile")
    config = config_for(hook, timeout=0.05, lease_seconds=0.2)
    inbox.refresh()
    with Notifier(inbox, config=config) as notifier:
        notifier.reconcile()
        (row,) = outbox_rows(inbox)
        inbox.store.execute_write(  # a watcher claimed it, then died before sending
            "UPDATE hitl_outbox SET state = 'sending', claimed_by = 'dead', lease_until = ?, attempts = 1 WHERE id = ?",
            (time.time() + 0.4, row.id),
        )
        assert notifier.dispatch() == 0
        time.sleep(0.5)
        assert notifier.dispatch() == 1
        notifier.wait()
        assert notifier.dispatch() == 0
    assert len(hook.received) == 1
    assert outbox_rows(inbox)[0].state == "delivered" and outbox_rows(inbox)[0].attempts == 2


def test_threads_indexed_by_another_process_or_before_webhooks_are_still_notified(
    inbox: Inbox, db_url: str, graphs_file: Path, receiver: Callable[..., Receiver]
) -> None:
    hook = receiver()
    start(inbox, "fragile", thread_id="backlog")
    assert inbox.pending().total == 1  # indexed before any webhook existed
    other = Inbox.open(database_url=db_url, graphs_path=str(graphs_file))
    try:
        start(other, "fragile", thread_id="elsewhere")
        assert other.pending().total == 2  # the Streamlit app, say, consumed the index marks
    finally:
        other.close()

    run_watcher(inbox, once=True, config=config_for(hook))

    assert sorted(request.json["thread_id"] for request in hook.received) == ["backlog", "elsewhere"]


# ---------------------------------------------------------------------------- decisions


def test_decision_made_is_sent_after_a_decision(inbox: Inbox, receiver: Callable[..., Receiver]) -> None:
    hook = receiver()
    config = config_for(hook, events=("decision_made",))
    attach(inbox, config)
    thread_id = start(inbox, "fragile")
    interrupt = inbox.pending().items[0].interrupts[0]
    assert outbox_rows(inbox) == []  # not subscribed to approval_needed

    inbox.resume(thread_id, {interrupt.id: {"approved": False, "reason": "not on a Friday"}}, reviewer="alice", comment="later")
    run_watcher(inbox, once=True, config=config)

    (request,) = hook.received
    event = request.json
    assert event["type"] == "decision_made" and request.headers["X-HITL-Event"] == "decision_made"
    assert (event["thread_id"], event["interrupt_id"], event["reviewer"]) == (thread_id, interrupt.id, "alice")
    assert event["answer"] == {"approved": False, "reason": "not on a Friday"}
    assert (event["outcome"], event["comment"], event["graph_id"], event["kind"]) == ("completed", "later", "fragile", "question")
    assert verify_signature(SECRET, request.body, request.headers["X-HITL-Signature"], request.headers["X-HITL-Timestamp"])


def test_a_decisions_webhook_is_in_the_outbox_as_soon_as_the_decision_is_recorded(
    inbox: Inbox, receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox row commits with the audit row: a desk that dies right after the decision's
    transaction, before any after-decision hook runs, has not lost its webhook."""
    hook = receiver()
    config = config_for(hook, events=("decision_made",))
    attach(inbox, config)
    thread_id = start(inbox, "fragile")
    interrupt = inbox.pending().items[0].interrupts[0]
    monkeypatch.setattr(inbox, "decided", lambda rows: None)  # the process is gone once the transaction commits

    inbox.resume(thread_id, {interrupt.id: {"approved": True}}, reviewer="alice")

    (seq,) = [row["seq"] for row in inbox.store.audit_rows(thread_id=thread_id)]
    assert [row.event_key for row in outbox_rows(inbox)] == [f"decision_made:{seq}"]
    run_watcher(inbox, once=True, config=config)  # the next watcher sends it
    assert [request.json["thread_id"] for request in hook.received] == [thread_id]


def test_an_outbox_that_cannot_be_written_leaves_no_audit_row_behind(
    inbox: Inbox, receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing: when the outbox insert fails, the audit row and the claim's close roll
    back with it (the decision is then recovered like any unrecorded run), never an audit row
    whose webhook is silently missing."""
    import hitl.notify.events as events
    from hitl.errors import StoreError

    config = config_for(receiver(), events=("decision_made",))
    attach(inbox, config)
    thread_id = start(inbox, "fragile")
    interrupt = inbox.pending().items[0].interrupts[0]

    def refuse(store: Any, rows: Any) -> int:
        with store.connection(write=True) as conn:  # a write inside the decision's transaction, then a failure
            conn.execute(store.dialect.sql("DELETE FROM hitl_outbox WHERE 1 = 0"))
        raise StoreError("disk full")

    monkeypatch.setattr(events, "insert_outbox_rows", refuse)
    with pytest.raises(HitlError):
        inbox.resume(thread_id, {interrupt.id: {"approved": True}}, reviewer="alice")

    assert inbox.store.audit_rows(thread_id=thread_id) == []
    assert outbox_rows(inbox) == []
    assert inbox.store.claim_of(thread_id, interrupt.id)["state"] == "claimed"  # left for recover_stale_claims


def test_the_api_app_notifies_in_the_background_when_webhooks_are_configured(
    db_url: str, graphs_file: Path, tmp_path: Path, receiver: Callable[..., Receiver]
) -> None:
    from hitl.api import create_app

    hook = receiver()
    config_file = tmp_path / "hitl.toml"
    config_file.write_text(
        f'[notify]\nbackoff_base_seconds = 0.05\n[[webhooks]]\nurl = "{hook.url}"\nsecret = "{SECRET}"\n'
        'events = ["approval_needed", "decision_made"]\ntimeout = 2\n'
        '[[api.tokens]]\ntoken = "alice-secret"\nreviewer = "alice@example.com"\n'
    )
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs_file), config_path=str(config_file), create=True)
    try:
        thread_id = start(inbox, "fragile")
        with TestClient(create_app(inbox)) as client:
            deadline = time.monotonic() + 10
            while not hook.received and time.monotonic() < deadline:
                time.sleep(0.02)
            assert [r.json["type"] for r in hook.received] == ["approval_needed"]
            response = client.post("/approve", headers={"Authorization": "Bearer alice-secret"}, json={"thread_id": thread_id, "approved": True})
            assert response.status_code == 200
            while len(hook.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
        decision = hook.received[1].json
        assert (decision["type"], decision["reviewer"], decision["outcome"]) == ("decision_made", "alice@example.com", "completed")
    finally:
        stop_background_notifier(inbox)
        inbox.close()


def test_the_api_started_from_the_environment_notifies_before_any_request(
    inbox: Inbox, db_url: str, graphs_file: Path, tmp_path: Path, receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hitl.api import create_app

    hook = receiver()
    config_file = tmp_path / "hitl.toml"
    config_file.write_text(f'[[webhooks]]\nurl = "{hook.url}"\nsecret = "{SECRET}"\n')
    start(inbox, "fragile")
    for name, value in {"HITL_DATABASE_URL": db_url, "HITL_GRAPHS": str(graphs_file), "HITL_CONFIG": str(config_file)}.items():
        monkeypatch.setenv(name, value)
    try:
        with TestClient(create_app()):  # `uvicorn hitl.api:app` runs the same lifespan
            deadline = time.monotonic() + 10
            while not hook.received and time.monotonic() < deadline:
                time.sleep(0.02)
        assert [r.json["thread_id"] for r in hook.received] == ["fragile-t"]
    finally:
        stop_background_notifier(inbox)


# ---------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"url": "ftp://x"}, "expected an http:// or https:// URL"),
        ({"url": "https://x"}, "has no secret"),
        ({"url": "https://x", "secret_env": "HITL_TEST_UNSET_SECRET"}, r"\$HITL_TEST_UNSET_SECRET, which is not set"),
        ({"url": "https://x", "secret": "s", "events": ["approval_needed", "lunch"]}, "unknown events \\['lunch'\\]"),
        ({"url": "https://x", "secret": "s", "timeout": 0}, "timeout=0 .* must be a positive number"),
    ],
)
def test_bad_webhook_entries_are_named(entry: dict, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HITL_TEST_UNSET_SECRET", raising=False)
    with pytest.raises(HitlError, match=message):
        load_config({"webhooks": [entry]})


def test_watcher_without_webhooks_says_how_to_add_one(inbox: Inbox) -> None:
    with pytest.raises(HitlError, match=r"No webhooks are configured. Add a \[\[webhooks\]\]"):
        run_watcher(inbox, once=True)


def test_the_example_config_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    from hitl.api import load_tokens

    monkeypatch.setenv("HITL_WEBHOOK_SECRET", "from-the-environment")
    policy = tomllib.loads((ROOT / "hitl.toml.example").read_text())
    config = load_config(policy)
    assert config.webhooks and all(hook.secret for hook in config.webhooks)
    assert {event for hook in config.webhooks for event in hook.events} == {"approval_needed", "decision_made"}
    assert load_tokens(policy, env={})
    assert "from-the-environment" not in repr(config)


# ---------------------------------------------------------------------------- the Webhooks page


def test_webhooks_page_shows_failures_and_retries_one(
    inbox: Inbox, db_url: str, graphs_file: Path, tmp_path: Path, receiver: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from hitl.ui.desk import _open_inbox

    statuses = iter([410, 200])
    hook = receiver(lambda index, request: (next(statuses), 0.0))
    config_file = tmp_path / "hitl.toml"
    config_file.write_text(f'[[webhooks]]\nname = "ops"\nurl = "{hook.url}"\nsecret = "{SECRET}"\ntimeout = 2\n')
    start(inbox, "fragile")
    run_watcher(inbox, once=True, config=load_config(tomllib.loads(config_file.read_text())))
    assert outbox_rows(inbox)[0].state == "failed"

    for name, value in {"HITL_DATABASE_URL": db_url, "HITL_GRAPHS": str(graphs_file), "HITL_CONFIG": str(config_file),
                        "HITL_SWEEP_SECONDS": "0"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    _open_inbox.clear()
    try:
        page = AppTest.from_file(str(ROOT / "pages" / "deliveries.py"), default_timeout=30).run()
        assert not page.exception, [e.value for e in page.exception]
        assert {m.label: m.value for m in page.metric}["Failed"] == "1"
        assert any("HTTP 410" in text.value for text in page.text)
        page.button(key=f"deliveries_retry_{outbox_rows(inbox)[0].id}").click().run()
        assert not page.exception
        deadline = time.monotonic() + 10  # the page's process runs the background notifier
        while outbox_rows(inbox)[0].state != "delivered" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert outbox_rows(inbox)[0].state == "delivered" and len(hook.received) == 2
    finally:
        stop_background_notifier(inbox)
        _open_inbox.clear()
        st.cache_data.clear()
