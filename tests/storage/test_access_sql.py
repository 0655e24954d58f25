"""hitl.storage.access_sql: votes, pinned requesters and the my-queue predicate, on SQLite and PostgreSQL."""

from __future__ import annotations

from hitl.storage.access_sql import (
    decidable_predicate,
    ensure_access_tables,
    insert_vote,
    like_escape,
    pin_requesters,
    selector_sql,
    vote_rows,
)
from hitl.storage.threads_sql import indexed_threads


def test_each_voter_votes_once_per_interrupt(inbox) -> None:
    store = inbox.store
    ensure_access_tables(store)
    vote = dict(thread_id="t1", interrupt_id="i1", vote="approve", answer_json="true", agreement=None, comment="")
    assert insert_vote(store, voter="ann", voted_at=2.0, **vote) is True
    assert insert_vote(store, voter="ann", voted_at=3.0, **vote) is False
    assert insert_vote(store, voter="bob", voted_at=1.0, **vote) is True
    assert [row[2] for row in vote_rows(store, "t1")] == ["bob", "ann"]  # oldest first
    assert vote_rows(store, "t1", "other") == []


def test_the_first_pinned_requester_stays(inbox) -> None:
    store = inbox.store
    ensure_access_tables(store)
    assert pin_requesters(store, [("t1", "ann", "c1", 1.0)]) == {"t1": "ann"}
    assert pin_requesters(store, [("t1", "bob", "c2", 2.0), ("t2", "bob", "c2", 2.0)]) == {"t1": "ann", "t2": "bob"}


def test_the_queue_predicate_binds_its_parameters_in_the_order_of_its_text() -> None:
    params: list = []
    sql = decidable_predicate(
        params, refused=[((), (), ["make_payment"])], levels=["manager"], covered=[(["g"], ["kind"], [])],
        levels_cover=True, requester_key="ann", voter="ann",
    )  # fmt: skip
    assert sql.count("?") == len(params)
    assert params == ["%,make\\_payment,%", "manager", "g", "kind", "ann", "ann"]
    assert "f.level IS NOT NULL" in sql


def test_selectors_escape_like_wildcards() -> None:
    params: list = []
    assert selector_sql([], [], ["50%_off"], params) == "((f.tools LIKE ? ESCAPE '\\'))"
    assert params == ["%,50\\%\\_off,%"]
    assert like_escape("a\\b") == "a\\\\b"
    assert selector_sql([], [], [], []) == "(1 = 1)"


def test_indexed_threads_of_nothing_reads_nothing(inbox) -> None:
    assert indexed_threads(inbox.store, []) == {}
    assert indexed_threads(inbox.store, ["not-indexed"]) == {}
