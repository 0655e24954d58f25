"""The SQL of QA forks: where a fork branched off and how it ended."""

from __future__ import annotations

from typing import Any

from hitl.storage.qa.rows import FORK_COLUMNS, ForkRow, dump_json, load_json
from hitl.storage.qa.schema import QaSchema


class ForkTables(QaSchema):
    """Fork rows."""

    def add_fork(self, row: dict[str, Any]) -> None:
        values = []
        for column in FORK_COLUMNS:
            value = row.get(column)
            if column in ("answer", "original_answer", "state_update"):
                value = None if value is None else dump_json(value)
            elif column == "notify":
                value = int(bool(value))
            values.append(value)
        self.store.execute_write(
            f"INSERT INTO hitl_qa_forks ({', '.join(FORK_COLUMNS)}) VALUES ({', '.join('?' for _ in FORK_COLUMNS)})", values
        )

    def set_fork_status(self, fork_thread_id: str, status: str, error: str | None = None) -> None:
        self.store.execute_write("UPDATE hitl_qa_forks SET status = ?, error = ? WHERE fork_thread_id = ?", (status, error, fork_thread_id))

    def forks(self, *, source_thread_id: str | None = None, fork_thread_id: str | None = None) -> list[ForkRow]:
        sql = f"SELECT {', '.join(FORK_COLUMNS)} FROM hitl_qa_forks"
        where, params = [], []
        if source_thread_id is not None:
            where.append("source_thread_id = ?")
            params.append(source_thread_id)
        if fork_thread_id is not None:
            where.append("fork_thread_id = ?")
            params.append(fork_thread_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.store.query(sql + " ORDER BY created_at", params)
        out = []
        for r in rows:
            data = dict(zip(FORK_COLUMNS, r, strict=True))
            for key in ("answer", "original_answer", "state_update"):
                data[key] = load_json(data[key])
            data["notify"] = bool(data["notify"])
            data["created_at"] = float(data["created_at"])
            out.append(ForkRow(**data))
        return out

    def fork_thread_ids(self) -> set[str]:
        return {r[0] for r in self.store.query("SELECT fork_thread_id FROM hitl_qa_forks")}

    def task_paths(self, thread_id: str, checkpoint_id: str) -> dict[str, str]:
        """task_id -> task_path of the checkpointer's writes on one root checkpoint (the saver's
        `get_tuple` drops the path, which orders writes of parallel tasks)."""
        rows = self.store.query(
            f"SELECT DISTINCT task_id, task_path FROM {self.store.dialect.writes_table} "
            "WHERE thread_id = ? AND checkpoint_ns = '' AND checkpoint_id = ?",
            (thread_id, checkpoint_id),
        )
        return {r[0]: r[1] or "" for r in rows}
