"""Checkpoint reads: the saver's own tables read with plain SQL (latest checkpoints, pending
interrupts, failed tasks, finished threads), decoding only what is asked for."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from hitl.storage.engine import Engine
from hitl.storage.records import ERROR, INTERRUPT, SPECIAL_CHANNELS, RawInterrupt

__all__ = ["CheckpointReads", "decode_interrupts", "metadata_of", "latest_root_sql"]


_CHANNEL_BLOB_SQL = (
    "SELECT b.type, b.blob FROM checkpoint_blobs b JOIN checkpoints c ON c.thread_id = b.thread_id "
    "AND c.checkpoint_ns = b.checkpoint_ns AND b.version = (c.checkpoint -> 'channel_versions' ->> b.channel) "
    "WHERE c.thread_id = ? AND c.checkpoint_ns = '' AND c.checkpoint_id = ? AND b.channel = ?"
)
"""PostgresSaver: one channel's blob at the version a checkpoint names."""

_SCHEDULED_JSONB_SQL = """
SELECT c.thread_id FROM (VALUES {pairs}) v JOIN checkpoints c
  ON c.thread_id = v.column1 AND c.checkpoint_ns = '' AND c.checkpoint_id = v.column2
WHERE (
    EXISTS (
        SELECT 1 FROM jsonb_object_keys(c.checkpoint -> 'channel_values') k
        WHERE k LIKE 'branch:to:%' OR k = '__start__'
    ) OR EXISTS (
        SELECT 1 FROM jsonb_each_text(c.checkpoint -> 'channel_versions') cv
        JOIN checkpoint_blobs b ON b.thread_id = c.thread_id AND b.checkpoint_ns = ''
         AND b.channel = cv.key AND b.version = cv.value
        WHERE (cv.key LIKE 'branch:to:%' OR cv.key = '__start__') AND b.type <> 'empty'
    )
)
"""
"""PostgresSaver: which of the (thread, checkpoint) pairs have a node scheduled. It keeps None
and primitive channel values inline in the checkpoint's JSON and the rest in checkpoint_blobs
(type 'empty' = absent)."""


def latest_root_sql(marks: str) -> str:
    """SQL for (thread_id, checkpoint_id) of the latest root checkpoint of each thread whose id
    is one of the `?` placeholders in `marks` (the desk's one "latest checkpoint" query)."""
    return (
        "SELECT thread_id, MAX(checkpoint_id) AS checkpoint_id FROM checkpoints "
        f"WHERE checkpoint_ns = '' AND thread_id IN ({marks}) GROUP BY thread_id"
    )


class CheckpointReads(Engine):
    """Reads of the saver's tables."""

    # ------------------------------------------------------------------ raw reads

    def thread_exists(self, thread_id: str) -> bool:
        """Whether the checkpointer holds any checkpoint for this thread."""
        rows = self.query("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (thread_id,))
        return bool(rows)

    def latest_checkpoint(self, thread_id: str) -> tuple[str, dict[str, Any]] | None:
        """The latest root checkpoint id of a thread and its metadata, or None."""
        rows = self.query(
            "SELECT checkpoint_id, metadata FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
            "ORDER BY checkpoint_id DESC LIMIT 1",
            (thread_id,),
        )
        if not rows:
            return None
        return rows[0][0], metadata_of(rows[0][1])

    def latest_checkpoints(self, thread_ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """`latest_checkpoint` of many threads in one query per 500; threads without one are left out."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, tuple[str, dict[str, Any]]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = self.query(
                f"SELECT c.thread_id, c.checkpoint_id, c.metadata FROM checkpoints c JOIN ({latest_root_sql(marks)}) l "
                "ON c.thread_id = l.thread_id AND c.checkpoint_ns = '' AND c.checkpoint_id = l.checkpoint_id",
                chunk,
            )
            result.update({thread_id: (checkpoint_id, metadata_of(metadata)) for thread_id, checkpoint_id, metadata in rows})
        return result

    def pending_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """Decode the pending interrupts of these threads only, fresh from the checkpointer."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, list[RawInterrupt]] = {tid: [] for tid in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in self._interrupt_rows(chunk):
                result[row[0]].extend(self._decode_interrupts(*row))
        return {tid: self._name_pushed_nodes(items) for tid, items in result.items()}

    def listed_metadata(self, thread_ids: Iterable[str]) -> dict[str, dict[str, Any]] | None:
        """The listed threads' metadata where the index holds it; None: read it from the checkpoints."""
        return None

    def listed_interrupts(self, thread_ids: Iterable[str]) -> dict[str, list[RawInterrupt]]:
        """The pending interrupts of a listed page (`hitl.backends.Backend`): here the same fresh
        read as `pending_interrupts`, which is cheap on the savers' own tables."""
        return self.pending_interrupts(thread_ids)

    def changed_since(self, updated_after: float) -> list[str]:
        """Threads re-indexed after `updated_after` (epoch seconds) or changed by agents since the
        last refresh (`hitl.backends.Backend`)."""
        rows = self.query(
            "SELECT thread_id FROM hitl_threads WHERE updated_at > ? UNION SELECT thread_id FROM hitl_dirty",
            (updated_after,),
        )
        return sorted(row[0] for row in rows)

    def _name_pushed_nodes(self, items: list[RawInterrupt]) -> list[RawInterrupt]:
        """Name the node of interrupts raised in `Send` tasks (e.g. create_agent's tool calls).

        Their task path holds only an index into the checkpoint's `__pregel_tasks`; the node
        name is in that `Send`, so the checkpoint is decoded, once, only for such threads.
        """
        pushed = [i for i in items if i.node is None and i.task_path.startswith("~__pregel_push")]
        if not pushed:
            return items
        try:
            sends = list(self._checkpoint_channel(pushed[0].thread_id, pushed[0].checkpoint_id, "__pregel_tasks") or [])
        except Exception:  # an undecodable checkpoint: leave the node unnamed
            return items
        named = []
        for item in items:
            node = None
            if item in pushed:
                parts = [p.strip() for p in item.task_path.split(",")]
                index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
                node = getattr(sends[index], "node", None) if 0 <= index < len(sends) else None
            named.append(replace(item, node=node) if node else item)
        return named

    def _checkpoint_channel(self, thread_id: str, checkpoint_id: str, channel: str) -> Any:
        """One channel's value in a checkpoint, read with SQL (safe inside a desk transaction,
        where calling the saver would wait on its non-reentrant lock)."""
        if self.dialect.channels_in_checkpoint:
            rows = self.query(
                "SELECT type, checkpoint FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id = ?",
                (thread_id, checkpoint_id),
            )
            if not rows:
                return None
            checkpoint = self.saver.serde.loads_typed((rows[0][0], bytes(rows[0][1])))
            return checkpoint.get("channel_values", {}).get(channel)
        rows = self.query(_CHANNEL_BLOB_SQL, (thread_id, checkpoint_id, channel))
        if not rows or rows[0][0] == "empty":
            return None
        return self.saver.serde.loads_typed((rows[0][0], bytes(rows[0][1])))

    def _interrupt_rows(self, thread_ids: Sequence[str]) -> list[tuple]:
        marks = ",".join("?" for _ in thread_ids)
        special = ",".join(f"'{c}'" for c in SPECIAL_CHANNELS)
        writes, value = self.dialect.writes_table, self.dialect.write_value
        sql = f"""
            WITH latest AS ({latest_root_sql(marks)})
            SELECT w.thread_id, w.checkpoint_id, w.task_id, w.task_path, w.type, w.{value},
                   r.type, r.{value}, e.type, e.{value}
            FROM latest l JOIN {writes} w
              ON w.thread_id = l.thread_id AND w.checkpoint_ns = '' AND w.checkpoint_id = l.checkpoint_id
             AND w.thread_id IN ({marks})
            LEFT JOIN {writes} r
              ON r.thread_id = w.thread_id AND r.checkpoint_ns = '' AND r.checkpoint_id = w.checkpoint_id
             AND r.task_id = w.task_id AND r.channel = '__resume__'
            LEFT JOIN {writes} e
              ON e.thread_id = w.thread_id AND e.checkpoint_ns = '' AND e.checkpoint_id = w.checkpoint_id
             AND e.task_id = w.task_id AND e.channel = '{ERROR}'
            WHERE w.channel = '{INTERRUPT}' AND NOT EXISTS (
                SELECT 1 FROM {writes} d
                WHERE d.thread_id = w.thread_id AND d.checkpoint_ns = '' AND d.checkpoint_id = w.checkpoint_id
                  AND d.task_id = w.task_id AND d.channel NOT IN ({special})
            )
            ORDER BY w.thread_id, w.task_path, w.task_id
        """
        # The ids twice: also on the writes, so PostgreSQL finds them by index even when its
        # statistics predate a burst of new threads (it scanned all writes once per id then).
        return self.query(sql, [*thread_ids, *thread_ids])

    def _decode_interrupts(self, *row: Any) -> list[RawInterrupt]:
        return decode_interrupts(self.saver.serde, *row)

    def failed_tasks(self, thread_id: str) -> list[tuple[str, str]]:
        """(node, error text) of tasks whose latest attempt raised, at the latest checkpoint."""
        return self.failed_tasks_of([thread_id])[thread_id]

    def failed_tasks_of(self, thread_ids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """`failed_tasks` of many threads, in one query per 500."""
        ids = list(dict.fromkeys(thread_ids))
        result: dict[str, list[tuple[str, str]]] = {tid: [] for tid in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = self.query(
                f"""
                WITH latest AS ({latest_root_sql(marks)})
                SELECT w.thread_id, w.task_path, w.type, w.{self.dialect.write_value}
                FROM latest l JOIN {self.dialect.writes_table} w
                  ON w.thread_id = l.thread_id AND w.checkpoint_ns = '' AND w.checkpoint_id = l.checkpoint_id
                 AND w.thread_id IN ({marks})
                WHERE w.channel = '{ERROR}'
                ORDER BY w.thread_id, w.task_path, w.task_id
                """,
                [*chunk, *chunk],
            )
            for thread_id, task_path, type_, blob in rows:
                try:
                    error = self.saver.serde.loads_typed((type_, bytes(blob)))
                except Exception as exc:  # pragma: no cover - foreign serializer
                    error = f"(undecodable error: {exc})"
                result[thread_id].append((_node_from_task_path(task_path) or "?", str(error)))
        return result

    def finished(self, thread_ids: Iterable[str]) -> dict[str, str]:
        """{thread: latest checkpoint id} for the threads whose latest checkpoint has nothing
        left to do: no interrupt, no failed task, no node scheduled (the run reached END)."""
        latest = self.latest_checkpoints(thread_ids)
        pending = self.pending_interrupts(latest)
        failed = self.failed_tasks_of(latest)
        quiet = [(tid, latest[tid][0]) for tid in latest if not pending[tid] and not failed[tid]]
        scheduled = self._scheduled(quiet)
        return {tid: checkpoint_id for tid, checkpoint_id in quiet if tid not in scheduled}

    def _scheduled(self, checkpoints: list[tuple[str, str]]) -> set[str]:
        """The threads among (thread, checkpoint) pairs whose checkpoint has a node scheduled.

        One query per 500 checkpoints, where the saver's `get_tuple` would read each one with
        its pending writes. A checkpoint that cannot be read counts as not scheduled."""
        found: set[str] = set()
        for start in range(0, len(checkpoints), 500):
            chunk = checkpoints[start : start + 500]
            pairs = ", ".join("(?, ?)" for _ in chunk)
            params = [value for pair in chunk for value in pair]
            if not self.dialect.channels_in_checkpoint:
                found.update(row[0] for row in self.query(_SCHEDULED_JSONB_SQL.format(pairs=pairs), params))
                continue
            rows = self.query(
                f"SELECT c.thread_id, c.type, c.checkpoint FROM (VALUES {pairs}) v JOIN checkpoints c "
                "ON c.thread_id = v.column1 AND c.checkpoint_ns = '' AND c.checkpoint_id = v.column2",
                params,
            )
            for thread_id, type_, blob in rows:
                try:
                    channels = self.saver.serde.loads_typed((type_, bytes(blob))).get("channel_values", {})
                except Exception:
                    continue
                if any(key.startswith("branch:to:") or key == "__start__" for key in channels):
                    found.add(thread_id)
        return found


def decode_interrupts(
    serde: Any,
    thread_id: str,
    checkpoint_id: str,
    task_id: str,
    task_path: str,
    type_: str,
    blob: Any,
    resume_type: str | None = None,
    resume_blob: Any = None,
    error_type: str | None = None,
    error_blob: Any = None,
) -> list[RawInterrupt]:
    """One `__interrupt__` write decoded with the saver's serializer (and, when its task has
    both, its `__resume__` and `__error__` writes: an answered interrupt whose node then
    raised). An undecodable write gives one item with `decode_error`."""
    node = _node_from_task_path(task_path)
    try:
        resumes: list[Any] = []
        error_text = None
        if error_type is not None and resume_type is not None:
            resumes = list(serde.loads_typed((resume_type, bytes(resume_blob))) or [])
            error = serde.loads_typed((error_type, bytes(error_blob)))
            error_text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
        decoded = serde.loads_typed((type_, bytes(blob) if blob is not None else b""))
        items = decoded if isinstance(decoded, (list, tuple)) else [decoded]
        out = []
        for item in items:
            interrupt_id = getattr(item, "id", None)
            if interrupt_id is None:
                raise ValueError(f"not an Interrupt: {type(item).__name__}")
            schema = getattr(item, "response_schema", None)
            failed = error_text if resumes and _answered(interrupt_id, node, task_id, len(resumes)) else None
            out.append(
                RawInterrupt(
                    thread_id=thread_id,
                    checkpoint_id=checkpoint_id,
                    task_id=task_id,
                    node=node,
                    task_path=task_path or "",
                    id=interrupt_id,
                    value=getattr(item, "value", None),
                    response_schema=schema if isinstance(schema, dict) else None,
                    failed_error=failed,
                )
            )
        return out
    except Exception as exc:  # a checkpoint from a newer or foreign serializer
        return [
            RawInterrupt(
                thread_id=thread_id,
                checkpoint_id=checkpoint_id,
                task_id=task_id,
                node=node,
                task_path=task_path or "",
                id=f"undecodable:{task_id}",
                value=None,
                response_schema=None,
                decode_error=(
                    f"This interrupt could not be decoded ({type(exc).__name__}: {exc}). It may "
                    "have been written by a newer checkpointer version; upgrade the desk's "
                    "langgraph packages to read it."
                ),
            )
        ]




def metadata_of(blob: Any) -> dict[str, Any]:
    if blob is None:
        return {}
    if isinstance(blob, dict):
        return blob
    try:
        data = json.loads(bytes(blob).decode("utf-8") if isinstance(blob, (bytes, memoryview)) else blob)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _node_from_task_path(task_path: str | None) -> str | None:
    """`~__pregel_pull, node` -> `node`; other paths (Send tasks) name no single node."""
    if not task_path:
        return None
    parts = [p.strip() for p in task_path.split(",")]
    if parts[0] == "~__pregel_pull" and len(parts) >= 2:
        return parts[1]
    if parts[0] == "~__pregel_push":
        return None
    return None


def _answered(interrupt_id: str, node: str | None, task_id: str, resumes: int) -> bool:
    """Whether the task's stored resume values already include this interrupt's answer."""
    from langgraph.types import _interrupt_id

    if node is None:
        return True
    namespace = f"{node}:{task_id}"
    for slot in range(resumes + 1):
        if _interrupt_id(namespace, slot) == interrupt_id:
            return slot < resumes
    return True  # raised inside a subgraph: its answer was stored with the parent task
