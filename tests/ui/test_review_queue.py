"""The queue Review walks (`hitl.ui.review_queue`): the scope from the URL and the window around
the current thread, over a real desk with mixed demo threads."""

from __future__ import annotations

from hitl import Inbox
from hitl.ui.review_queue import QueueScope, queue_window
from tests.ui.conftest import seed


def test_scope_round_trips_through_query_parameters() -> None:
    scope = QueueScope.from_params({"kind": "question", "graph": "payments", "q": " acme ", "waiting": "1 h",
                                    "order": "newest"})
    assert scope.params() == {"graph": "payments", "kind": "question", "q": "acme", "waiting": "1 h", "order": "newest"}
    assert QueueScope.from_params(scope.params()) == scope
    assert scope.query() == {"graph_id": "payments", "kind": "question", "search": "acme",
                             "waiting_longer_than": 3600.0, "newest_first": True}
    assert scope.describe() == 'kind = question, graph = payments, search "acme", waiting > 1 h (newest first)'
    assert QueueScope.from_params({}).describe() == "all pending threads"
    assert QueueScope.from_params({}).params() == {}


def test_values_the_desk_does_not_know_are_ignored_and_named() -> None:
    scope = QueueScope.from_params({"kind": "payments", "waiting": "3 weeks", "order": "sideways", "thread": "t"})
    assert (scope.kind, scope.waiting, scope.newest_first) == (None, None, False)
    assert len(scope.ignored) == 3 and "kind='payments'" in scope.ignored[0]
    assert QueueScope.from_params({"waiting": "any time"}).waiting is None  # the default, not an error
    assert not QueueScope.from_params({"waiting": "any time"}).ignored


def test_the_window_walks_only_the_filtered_queue(inbox: Inbox) -> None:
    confirms = seed(inbox, "simple_confirm", 3)
    seed(inbox, "draft_edit", 2)
    confirms += seed(inbox, "simple_confirm", 2, start=3)
    scope = QueueScope(kind="confirm")
    window = queue_window(inbox, scope, confirms[2])
    assert (window.position, window.total) == (3, 5)
    assert (window.previous, window.following) == (confirms[1], confirms[3])
    assert window.line(scope) == "3 of 5 in: kind = confirm"
    first = queue_window(inbox, scope, confirms[0])
    assert (first.previous, first.position) == (None, 1)
    last = queue_window(inbox, scope, confirms[4])
    assert last.following is None
    newest = QueueScope(kind="confirm", newest_first=True)
    assert queue_window(inbox, newest, confirms[4]).position == 1


def test_after_a_decision_the_walk_goes_on_from_the_decided_thread(inbox: Inbox) -> None:
    confirms = seed(inbox, "simple_confirm", 4)
    scope = QueueScope(kind="confirm")
    before = queue_window(inbox, scope, confirms[1])
    assert before.ahead == (confirms[2], confirms[3])
    inbox.decide(confirms[1], approve=True, reviewer="alice")
    inbox.decide(confirms[2], approve=True, reviewer="bob")  # someone else took the next one meanwhile
    after = queue_window(inbox, scope, confirms[1], after=before.ahead)
    assert (after.position, after.following, after.total) == (None, confirms[3], 2)
    assert "Not in this queue" in after.line(scope)


def test_held_threads_are_left_out_of_the_queue(inbox: Inbox) -> None:
    confirms = seed(inbox, "simple_confirm", 3)
    window = queue_window(inbox, QueueScope(), confirms[0], skip={confirms[1]})
    assert (window.following, window.total) == (confirms[2], 2)
