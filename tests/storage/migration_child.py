"""Child process for tests/storage/test_migrations.py: a desk with a test-only migration 2.

Run as `python -m tests.storage.migration_child URL READY_FILE GO_FILE`: registers step 2
(adds a column to `hitl_threads` and logs which process applied it), touches READY_FILE,
waits for GO_FILE, opens the store and prints one JSON object with what it saw.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import hitl.storage.migrations as migrations
from hitl.store import Store

applied_here: list[int] = []


def _step_sqlite(conn) -> None:
    time.sleep(0.3)  # widen the window in which the other desk could apply it too
    conn.execute("ALTER TABLE hitl_threads ADD COLUMN migration_probe TEXT")
    conn.execute("CREATE TABLE IF NOT EXISTS hitl_migration_probe_log (pid INTEGER NOT NULL)")
    conn.execute("INSERT INTO hitl_migration_probe_log (pid) VALUES (?)", (os.getpid(),))
    applied_here.append(2)


def _step_postgres(conn, schema: str) -> None:
    time.sleep(0.3)
    conn.execute("ALTER TABLE hitl_threads ADD COLUMN migration_probe TEXT")
    conn.execute("CREATE TABLE IF NOT EXISTS hitl_migration_probe_log (pid BIGINT NOT NULL)")
    conn.execute("INSERT INTO hitl_migration_probe_log (pid) VALUES (%s)", (os.getpid(),))
    applied_here.append(2)


def main(url: str, ready: str, go: str) -> dict:
    migrations.MIGRATIONS = (
        *migrations.MIGRATIONS,
        migrations.Migration(version=2, name="test: a column added later", sqlite=_step_sqlite, postgres=_step_postgres),
    )
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    with Store.open(url) as store:
        columns = (
            [row[1] for row in store.query("PRAGMA table_info(hitl_threads)")]
            if store.backend == "sqlite"
            else [row[0] for row in store.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'hitl_threads'"
            )]
        )  # fmt: skip
        return {
            "applied_here": applied_here,
            "versions": [int(row[0]) for row in store.query("SELECT version FROM hitl_migrations ORDER BY version")],
            "probe_rows": int(store.query("SELECT COUNT(*) FROM hitl_migration_probe_log")[0][0]),
            "thread_columns": columns,
        }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
