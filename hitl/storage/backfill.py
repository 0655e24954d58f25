"""The first index of a database the desk has never seen, worked through `hitl_backfill` in
batches under a lease in `hitl_indexer` (one indexer per database)."""

from __future__ import annotations

import time
from itertools import groupby
from operator import itemgetter
from typing import Any

from hitl.storage.index import Index
from hitl.storage.records import Indexer, RawInterrupt

__all__ = ["Backfill"]

_first = itemgetter(0)


class Backfill(Index):
    """The first index: progress, lease and batches."""

    # ------------------------------------------------------------------ the first index

    def indexing(self) -> dict[str, Any]:
        """Progress of the first index: `{"done", "total", "owner", "lease_until"}`.

        `done == total` once every thread the desk found on first opening the database has
        been indexed (threads changed since are indexed by `refresh` as usual).
        """
        if self.read_only:
            return {"done": 0, "total": 0, "owner": None, "lease_until": 0.0}
        rows = self.query("SELECT total, done, owner, lease_until FROM hitl_indexer WHERE id = 1")
        if not rows:
            return {"done": 0, "total": 0, "owner": None, "lease_until": 0.0}
        total, done, owner, lease_until = rows[0]
        return {"done": int(done), "total": int(total), "owner": owner, "lease_until": float(lease_until or 0)}

    def backfill_pending(self) -> bool:
        """Whether the first index still has threads to go."""
        if self.read_only:
            return False
        return bool(self.query("SELECT 1 FROM hitl_backfill LIMIT 1"))

    def take_index_lease(self, owner: str, *, lease_seconds: float) -> bool:
        """Take (or renew) the lease on the first index for `owner`; False while another
        desk process holds an unexpired one. One indexer per database, whatever the processes."""
        now = time.time()
        return (
            self.execute_write(
                "UPDATE hitl_indexer SET owner = ?, lease_until = ? "
                "WHERE id = 1 AND (owner IS NULL OR owner = ? OR lease_until < ?)",
                (owner, now + lease_seconds, owner, now),
            )
            == 1
        )

    def release_index_lease(self, owner: str) -> None:
        """Give the lease up (the first index is done, or this desk closes)."""
        self.execute_write("UPDATE hitl_indexer SET owner = NULL, lease_until = 0 WHERE id = 1 AND owner = ?", (owner,))

    def backfill(
        self,
        indexer: Indexer,
        *,
        batch: int = 5000,
        owner: str | None = None,
        lease_seconds: float = 30.0,
        pool: Any = None,
        chunk: int = 1000,
    ) -> int:
        """Index one batch of the first index's queue, newest threads first; returns how many
        threads left the queue (0: the first index is complete).

        The batch is read in one snapshot (its version-0 marks and the threads' state) and
        written in one transaction that also takes the threads off the queue and moves the
        progress counter, so a desk killed midway loses at most the batch it had not written,
        and the next desk starts where it stopped: no thread is indexed twice (only threads
        this transaction itself took off the queue get a row), none is skipped. A thread an
        agent changed meanwhile (its mark moved off version 0) is left to `refresh`. With
        `owner`, the write also renews that owner's lease and is refused (0, nothing written)
        when another desk has taken the lease over.

        With `pool` (`hitl.indexing.IndexPool`) the batch's rows are computed by worker
        processes, `chunk` threads at a time, and each chunk is written (as above: its rows,
        its queue entries and the counter in one transaction) while the next ones are computed.
        """
        if self.read_only:
            return 0
        with self.connection(snapshot=True):
            # One set-based read of the whole batch, in one snapshot: the queue's next threads
            # (newest first), each one's version-0 mark, its latest root checkpoint and that
            # checkpoint's writes (blobs only of the channels the summary reads).
            found = self.query(self._state_sql("queue"), (batch,))
        if not found:
            return 0
        if pool is None:
            return self._backfill_write(found, self._index_rows(self._backfill_state(found), indexer), owner, lease_seconds)
        chunks = [list(group) for _, group in groupby(found, key=_first)]
        chunks = [[row for group in chunks[start : start + chunk] for row in group] for start in range(0, len(chunks), chunk)]
        taken = 0
        computed = pool.map([[row[:1] + row[2:] for row in part if row[1] is not None and row[2] is not None] for part in chunks])
        for part, (rows, pushed) in zip(chunks, computed):
            if pushed:  # interrupts raised in Send tasks: their nodes are named from the checkpoint here
                left = set(pushed)
                rows = rows + self._index_rows(self._backfill_state([row for row in part if row[0] in left]), indexer)
            written = self._backfill_write(part, self.mark_running(rows), owner, lease_seconds)
            if written == 0:
                break  # the lease was lost: another desk goes on
            taken += written
        return taken

    def _backfill_state(self, found: list[tuple]) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]]:
        """The state of the threads of `backfill`'s read that still hold their version-0 mark."""
        return self._state_from_rows([row[:1] + row[2:] for row in found if row[1] is not None and row[2] is not None])

    def _backfill_write(self, found: list[tuple], rows: list[tuple], owner: str | None, lease_seconds: float) -> int:
        """Write `backfill`'s rows of the threads read in `found`, taking them off the queue."""
        queued = list(dict.fromkeys(row[0] for row in found))
        dirty = sorted({(row[0], int(row[1])) for row in found if row[1] is not None})
        taken: list[str] = []

        def take(conn: Any) -> set[str] | None:
            sql = self.dialect.sql
            if owner is not None:
                renewed = conn.execute(
                    sql("UPDATE hitl_indexer SET lease_until = ? WHERE id = 1 AND owner = ?"),
                    (time.time() + lease_seconds, owner),
                ).rowcount
                if renewed != 1:
                    return None
            for start in range(0, len(queued), 500):
                chunk = queued[start : start + 500]
                taken.extend(
                    r[0]
                    for r in conn.execute(
                        sql(f"DELETE FROM hitl_backfill WHERE thread_id IN ({','.join('?' for _ in chunk)}) RETURNING thread_id"),
                        chunk,
                    ).fetchall()
                )
            conn.execute(sql("UPDATE hitl_indexer SET done = done + ? WHERE id = 1"), (len(taken),))
            return set(taken)

        self._write_index(rows, dirty, only=take)
        return len(taken)
