"""`hitl.store.Store`, the one object the rest of the desk holds, over the storage repositories.

Its methods are defined by the repositories in `hitl.storage` (engine, checkpoints, index,
backfill, queue, claims, audit_log); the desk, its services and the LangGraph-server backend
call them by the names `Store` has always had, and a subclass that overrides a read (as
`ServerStore` does) is what every repository then uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hitl.errors import StoreError
from hitl.storage.engine import Engine
from hitl.store import RawInterrupt, Store

PUBLIC_BEFORE_THE_SPLIT = (
    "open", "close", "backend", "display_url", "connection", "query", "execute_write", "thread_exists",
    "latest_checkpoint", "latest_checkpoints", "pending_interrupts", "listed_interrupts", "changed_since",
    "failed_tasks", "failed_tasks_of", "finished", "refresh", "indexing", "backfill_pending", "take_index_lease",
    "release_index_lease", "backfill", "mark_running", "mark_dirty", "dirty_count", "thread_filter", "list_threads",
    "status_counts", "graph_ids", "claim", "claim_each", "renew_claims", "renew_claims_of", "finish_claims",
    "release_claims", "close_claims", "claim_of", "unknown_claims", "decided_claim", "stale_claims",
    "stale_claim_rows", "settle_stale_claim", "append_audit", "audit_head", "audit_rows",
)  # fmt: skip
"""Every public method of `Store` at main 136d825, when it was one 2,046-line class."""


def test_every_method_store_had_before_the_split_is_still_there() -> None:
    missing = [name for name in PUBLIC_BEFORE_THE_SPLIT if not hasattr(Store, name)]
    assert missing == []


def test_each_method_comes_from_a_storage_repository_not_from_store_py() -> None:
    """`hitl/store.py` only opens the database; the work is done in `hitl/storage/`."""
    opening = {"open"}
    owners = {
        name: next(klass for klass in Store.__mro__ if name in vars(klass)).__module__
        for name in PUBLIC_BEFORE_THE_SPLIT
    }
    assert {name for name, module in owners.items() if module == "hitl.store"} == opening
    assert {module for name, module in owners.items() if name not in opening} <= {
        "hitl.storage.engine", "hitl.storage.checkpoints", "hitl.storage.index", "hitl.storage.backfill",
        "hitl.storage.queue", "hitl.storage.claims", "hitl.storage.audit_log",
    }  # fmt: skip
    assert issubclass(Store, Engine)


def test_a_read_overridden_by_a_subclass_is_what_the_other_repositories_use(tmp_path: Path) -> None:
    """`finished` (checkpoint reads) asks `pending_interrupts`; a subclass's answer wins, as
    `ServerStore`'s reads from the server must."""

    class Overriding(Store):
        def pending_interrupts(self, thread_ids):
            return {tid: [RawInterrupt(thread_id=tid, checkpoint_id="c", task_id="t", node="n", id="i", value=1,
                                       response_schema=None)] for tid in thread_ids}  # fmt: skip

    with Overriding.open(f"sqlite:///{tmp_path / 'hitl.db'}", create=True) as store:
        assert isinstance(store, Overriding)
        store.saver.put(
            {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}},
            {"v": 1, "id": "1ef00000-0000-6000-8000-000000000001", "ts": "", "channel_values": {},
             "channel_versions": {}, "versions_seen": {}},
            {"source": "loop", "step": 1},
            {},
        )  # fmt: skip
        assert store.thread_exists("t1")
        assert store.finished(["t1"]) == {}  # the subclass says it waits, so it is not finished
    with Store.open(f"sqlite:///{tmp_path / 'hitl.db'}") as plain:
        # Without the override, that checkpoint (no writes, nothing scheduled) is finished.
        assert plain.pending_interrupts(["t1"]) == {"t1": []}
        assert plain.finished(["t1"]) == {"t1": "1ef00000-0000-6000-8000-000000000001"}


def test_the_store_opens_with_the_migrations_applied_and_its_search_index_known(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'hitl.db'}", create=True) as store:
        assert [row[0] for row in store.query("SELECT version FROM hitl_migrations")] == [1]
        assert store.search_index is True  # this SQLite has FTS5


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:/relative.db"])
def test_an_unsupported_url_names_the_supported_ones(url: str) -> None:
    with pytest.raises(StoreError, match="is not supported. Use sqlite:///path"):
        Store.open(url)
