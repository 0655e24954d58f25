"""The desk's index of threads (`hitl_threads`): dirty marks from the saver's triggers,
re-derived rows, written so that a mark moved meanwhile is never lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

from hitl.errors import StoreError
from hitl.storage.checkpoints import CheckpointReads, decode_interrupts, metadata_of
from hitl.storage.records import ERROR, INTERRUPT, SPECIAL_CHANNELS, Indexer, RawInterrupt, checkpoint_time, no_nul

__all__ = ["Index", "thread_state", "index_rows"]

_first = itemgetter(0)


class Index(CheckpointReads):
    """Keeps `hitl_threads` in step with the checkpoints."""

    # ------------------------------------------------------------------ the index

    def refresh(
        self,
        indexer: Indexer,
        *,
        batch: int = 2000,
        max_batches: int | None = None,
        thread_ids: Sequence[str] | None = None,
    ) -> int:
        """Re-index dirty threads (only those of `thread_ids`, when given). Returns how many
        were indexed.

        Each batch reads dirty marks and the threads' state in one snapshot, writes their
        rows, and clears each mark only if its version did not move meanwhile.
        """
        if self.read_only:
            return self._refresh_read_only(indexer)
        if thread_ids is not None:
            ids = sorted(set(thread_ids))
            if not ids:
                return 0
            batch, max_batches = len(ids), 1
            where = f"WHERE thread_id IN ({','.join('?' for _ in ids)}) "
        else:
            ids, where = [], ""
            if not self.query("SELECT 1 FROM hitl_dirty LIMIT 1"):
                return 0  # nothing changed: skip the snapshot transaction (round trips on a server)
            if self.query("SELECT 1 FROM hitl_backfill LIMIT 1"):
                # A first index is under way: its version-0 marks are `backfill`'s work, so a
                # refresh (on every listing) takes only what agents changed (found by index).
                where = "WHERE version > 0 "
        done = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            batches += 1
            with self.connection(snapshot=True):
                # Dirty versions and the threads' state from one snapshot. Marks are read in
                # key order so concurrent refreshes lock them in the same order.
                dirty = [
                    (tid, int(version))
                    for tid, version in self.query(
                        f"SELECT thread_id, version FROM hitl_dirty {where}ORDER BY thread_id LIMIT ?", (*ids, batch)
                    )
                ]
                state = self._read_thread_state([tid for tid, _ in dirty]) if dirty else None
            if not dirty:
                break
            rows = self._index_rows(state, indexer)
            self._write_index(rows, dirty)
            done += len(dirty)
            if len(dirty) < batch:
                break
        return done

    def _refresh_read_only(self, indexer: Indexer) -> int:
        return 0

    def _read_thread_state(self, thread_ids: list[str]) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]]:
        """(latest root checkpoint rows, pending interrupts, threads with error writes), in one
        query per 500 threads."""
        found: list[tuple] = []
        for start in range(0, len(thread_ids), 500):
            chunk = thread_ids[start : start + 500]
            found += self.query(self._state_sql("ids", len(chunk)), [*chunk, *chunk])
        return self._state_from_rows(found)

    def _state_sql(self, source: str, n: int = 0) -> str:
        """The index's one read: per thread its latest root checkpoint (id, metadata) and that
        checkpoint's writes (task, path, channel, and the value only for `SPECIAL_CHANNELS`:
        a real channel's write only says its task completed), ordered by thread, task path,
        task. `source` "ids": the `n` thread ids given twice as parameters; "queue": the first
        index's next `?` threads, with each one's version-0 dirty mark in the second column
        (NULL: an agent changed it since, it is `refresh`'s) and NULLs for a thread without a
        root checkpoint."""
        writes, value = self.dialect.writes_table, self.dialect.write_value
        special = ",".join(f"'{c}'" for c in SPECIAL_CHANNELS)
        latest = "(SELECT MAX(m.checkpoint_id) FROM checkpoints m WHERE m.thread_id = {t} AND m.checkpoint_ns = '')"
        columns = (
            f"c.checkpoint_id, c.metadata, w.task_id, w.task_path, w.channel, w.type, "
            f"CASE WHEN w.channel IN ({special}) THEN w.{value} END"
        )
        if source == "ids":
            marks = ",".join("?" for _ in range(n))
            # The ids twice: also on the writes, so PostgreSQL finds them by index even when its
            # statistics predate a burst of new threads.
            return f"""
                SELECT c.thread_id, {columns}
                FROM checkpoints c LEFT JOIN {writes} w
                  ON w.thread_id = c.thread_id AND w.checkpoint_ns = '' AND w.checkpoint_id = c.checkpoint_id
                 AND w.thread_id IN ({marks})
                WHERE c.thread_id IN ({marks}) AND c.checkpoint_ns = ''
                  AND c.checkpoint_id = {latest.format(t="c.thread_id")}
                ORDER BY c.thread_id, w.task_path, w.task_id, w.idx
            """
        return f"""
            WITH q AS (SELECT thread_id FROM hitl_backfill ORDER BY latest DESC, thread_id DESC LIMIT ?)
            SELECT q.thread_id, d.version, {columns}
            FROM q
            LEFT JOIN hitl_dirty d ON d.thread_id = q.thread_id AND d.version = 0
            LEFT JOIN checkpoints c ON d.version IS NOT NULL AND c.thread_id = q.thread_id AND c.checkpoint_ns = ''
             AND c.checkpoint_id = {latest.format(t="q.thread_id")}
            LEFT JOIN {writes} w
              ON c.checkpoint_id IS NOT NULL AND w.thread_id = q.thread_id AND w.checkpoint_ns = ''
             AND w.checkpoint_id = c.checkpoint_id
            ORDER BY q.thread_id, w.task_path, w.task_id, w.idx
        """

    def _state_from_rows(self, found: list[tuple]) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]]:
        """`_read_thread_state`'s result from `_state_sql` rows (without the version column)."""
        latest, interrupts, errors, pushed = thread_state(self.saver.serde, found)
        for thread_id in pushed:
            interrupts[thread_id] = self._name_pushed_nodes(interrupts[thread_id])
        return latest, interrupts, errors

    def _index_rows(
        self, state: tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]], indexer: Indexer
    ) -> list[tuple]:
        """`hitl_threads` rows of the threads in `state` (see `index_rows`)."""
        rows = index_rows(state, indexer, keep_nul=self.dialect.text_holds_nul)
        return self.mark_running(rows)

    def mark_running(self, rows: list[tuple]) -> list[tuple]:
        """`rows` with "completed" made "running" where the checkpoint still has nodes scheduled."""
        scheduled = self._scheduled([(row[0], row[2]) for row in rows if row[1] == "completed"])
        if not scheduled:
            return rows
        return [(row[0], "running", *row[2:]) if row[1] == "completed" and row[0] in scheduled else row for row in rows]

    def _write_index(
        self, rows: list[tuple], dirty: list[tuple[str, int]], *, only: Callable[[Any], set[str] | None] | None = None
    ) -> None:
        """Write the rows built from the marks `dirty`, clearing each mark still at that version.

        `only(conn)` runs first in the same transaction and names the threads this write may
        touch (None: none at all), for the first index's queue.
        """
        by_thread = {row[0]: row for row in rows}
        sql = self.dialect.sql
        try:
            with self.connection(write=True) as conn:
                if only is not None:
                    allowed = only(conn)
                    if allowed is None:
                        return
                    dirty = [(tid, version) for tid, version in dirty if tid in allowed]
                cleared: list[str] = []
                for start in range(0, len(dirty), 400):
                    chunk = dirty[start : start + 400]
                    # Versions are unique (a clock, never reused), so a mark still holding the
                    # version this refresh read means no agent wrote the thread since: the row
                    # built from that read is current. A mark that moved was re-dirtied by a
                    # concurrent write (or taken by another desk's refresh): keep it, drop the row.
                    # (The ids alone first, so the marks are found by key, not by a scan.)
                    marks = ",".join("?" for _ in chunk)
                    pairs = ", ".join("(?, ?)" for _ in chunk)
                    cleared += [
                        r[0]
                        for r in conn.execute(
                            sql(
                                f"DELETE FROM hitl_dirty WHERE thread_id IN ({marks}) "
                                f"AND (thread_id, version) IN (VALUES {pairs}) RETURNING thread_id"
                            ),
                            [*(tid for tid, _ in chunk), *(value for pair in chunk for value in pair)],
                        ).fetchall()
                    ]
                gone = [tid for tid in cleared if tid not in by_thread]
                for start in range(0, len(gone), 500):
                    chunk = gone[start : start + 500]
                    conn.execute(
                        sql(f"DELETE FROM hitl_threads WHERE thread_id IN ({','.join('?' for _ in chunk)})"), chunk
                    )
                keep = [by_thread[tid] for tid in sorted(cleared) if tid in by_thread]
                # Multi-row statements, not executemany: SQLite's FTS5 flushes its pending terms
                # at the end of every statement that its triggers ran in, so one statement per
                # row cost a segment (and merges) per row: 5-10x slower writes.
                for start in range(0, len(keep), 1000):
                    chunk = keep[start : start + 1000]
                    conn.execute(
                        sql(
                            "INSERT INTO hitl_threads (thread_id, status, checkpoint_id, graph_id, graph_note, kinds, "
                            "summary, search_text, n_interrupts, interrupt_ids, nodes, waiting_since, updated_at) "
                            "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                            + " ON CONFLICT (thread_id) DO UPDATE SET "
                            "status = excluded.status, checkpoint_id = excluded.checkpoint_id, "
                            "graph_id = excluded.graph_id, graph_note = excluded.graph_note, kinds = excluded.kinds, "
                            "summary = excluded.summary, search_text = excluded.search_text, "
                            "n_interrupts = excluded.n_interrupts, interrupt_ids = excluded.interrupt_ids, "
                            "nodes = excluded.nodes, waiting_since = excluded.waiting_since, "
                            "updated_at = excluded.updated_at"
                        ),
                        [value for row in chunk for value in row],
                    )
        except StoreError as exc:
            raise StoreError(
                f"Could not update the desk's index in {self.display_url}: {exc.cause or exc}", cause=exc.cause
            ) from None

    def mark_dirty(self, thread_ids: Iterable[str]) -> None:
        """Force threads to be re-indexed on the next refresh."""
        with self.connection(write=True) as conn:
            for thread_id in thread_ids:
                if self.dialect.tick:
                    conn.execute(self.dialect.tick)
                conn.execute(
                    self.dialect.sql(
                        f"INSERT INTO hitl_dirty (thread_id, version) VALUES (?, {self.dialect.next_version}) "
                        "ON CONFLICT (thread_id) DO UPDATE SET version = excluded.version"
                    ),
                    (thread_id,),
                )

    def dirty_count(self) -> int:
        """Threads changed by agents since the last refresh."""
        return int(self.query("SELECT COUNT(*) FROM hitl_dirty")[0][0])



def thread_state(
    serde: Any, found: list[tuple]
) -> tuple[list[tuple], dict[str, list[RawInterrupt]], set[str], list[str]]:
    """(latest root checkpoint rows, pending interrupts, threads with error writes, threads
    whose interrupts were raised in `Send` tasks) from `Store._state_sql` rows without the
    version column: a task's `__interrupt__` writes are pending unless the task also wrote a
    real channel (it completed); its `__resume__` and `__error__` writes tell a failed answer.
    Pure (no database): the first index runs it in worker processes. The `Send` tasks' nodes
    are named by `Store._name_pushed_nodes`, which reads their checkpoint."""
    latest: list[tuple] = []
    interrupts: dict[str, list[RawInterrupt]] = {}
    errors: set[str] = set()
    pushed: list[str] = []
    for thread_id, group in groupby(found, key=_first):
        group = list(group)
        checkpoint_id = group[0][1]
        latest.append((thread_id, checkpoint_id, group[0][2]))
        tasks: dict[str, list[Any]] = {}  # task id -> [path, interrupt writes, resume, error, completed]
        for _, _, _, task_id, task_path, channel, type_, blob in group:
            if task_id is None:
                continue
            task = tasks.get(task_id)
            if task is None:
                task = tasks[task_id] = [task_path, [], None, None, False]
            if channel == INTERRUPT:
                task[1].append((type_, blob))
            elif channel == "__resume__":
                task[2] = task[2] or (type_, blob)
            elif channel == ERROR:
                task[3] = task[3] or (type_, blob)
                errors.add(thread_id)
            elif channel not in SPECIAL_CHANNELS:
                task[4] = True
        items: list[RawInterrupt] = []
        for task_id, (task_path, raised, resume, error, completed) in tasks.items():
            if completed:
                continue
            for type_, blob in raised:
                items.extend(
                    decode_interrupts(
                        serde, thread_id, checkpoint_id, task_id, task_path, type_, blob,
                        *(resume or (None, None)), *(error or (None, None)),
                    )  # fmt: skip
                )
        interrupts[thread_id] = items
        if any(i.node is None and i.task_path.startswith("~__pregel_push") for i in items):
            pushed.append(thread_id)
    return latest, interrupts, errors, pushed


def index_rows(
    state: tuple[list[tuple], dict[str, list[RawInterrupt]], set[str]], indexer: Indexer, *, keep_nul: bool
) -> list[tuple]:
    """`hitl_threads` rows (in its column order) of the threads in `state`. A thread with
    nothing pending, no error and not resolved is "completed" here; `Store.mark_running` tells
    which of those still have nodes scheduled. Pure: runs in the first index's workers too.

    Args:
        keep_nul: False for PostgreSQL, whose text cannot hold NUL: payload text is indexed
            with U+2400 there.
    """
    latest, interrupts, errors = state
    now = time.time()
    rows = []
    text = (lambda value: value) if keep_nul else no_nul
    for thread_id, checkpoint_id, blob in latest:
        metadata = metadata_of(blob)
        everything = interrupts.get(thread_id, [])
        pending = [i for i in everything if i.answerable]
        entry = indexer(thread_id, metadata, pending or everything)
        if pending:
            status = "waiting"
        elif metadata.get("hitl_resolved"):
            status = "resolved"
        elif thread_id in errors or everything:
            status = "failed"
        else:
            status = "completed"
        rows.append(
            (
                thread_id,
                status,
                checkpoint_id,
                entry.graph_id,
                text(entry.graph_note),
                "," + ",".join(entry.kinds) + ",",
                text(entry.summary),
                text(entry.search_text.lower()),
                len(pending),
                ",".join(i.id for i in pending),
                ",".join(dict.fromkeys(i.node or "" for i in pending)),
                checkpoint_time(checkpoint_id).timestamp(),
                now,
            )
        )
    return rows
