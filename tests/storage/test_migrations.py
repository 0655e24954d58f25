"""The desk's schema migrations (`hitl.storage.migrations`): a database made by main at 136d825,
before `hitl_migrations` existed, is adopted with nothing lost, on SQLite and PostgreSQL; a step
added later applies once even when two desk processes open the database together.

The fixtures were written by that commit's own code (tests/storage/fixtures/make_main_fixture.py):
threads waiting and decided, a quorum vote, a deadline extension, outbox rows and QA rows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hitl import Inbox
from hitl.demo.seed import seed
from hitl.storage.migrations import MIGRATIONS, latest_version
from hitl.store import Store
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
SQLITE_FIXTURE = FIXTURES / "main-136d825.db"
POSTGRES_FIXTURE = FIXTURES / "main-136d825.pg.sql"
FIXTURE_SCHEMA = "hitl_main_fixture"
WAITING = ["fx-big-payment", "fx-email_approval-0002", "fx-email_approval-0003", "fx-email_approval-0004", "fx-simple_confirm-0001"]
NOT_EMPTY = (
    "hitl_threads", "hitl_audit", "hitl_audit_head", "hitl_claims", "hitl_votes", "hitl_extensions", "hitl_outbox",
    "hitl_qa_queues", "hitl_qa_items", "hitl_qa_submissions", "hitl_counts", "hitl_qa_schema",
)  # fmt: skip
"""Tables the fixture has rows in: a migration that emptied one of them could not pass unseen."""


# --------------------------------------------------------------------------- reading every row


def _sqlite_tables(path: Path) -> dict[str, Counter]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'hitl%'")]
        return {name: Counter(conn.execute(f'SELECT * FROM "{name}"').fetchall()) for name in names}
    finally:
        conn.close()


def _postgres_tables(base_url: str, schema: str) -> dict[str, Counter]:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'hitl%%'", (schema,))]
        return {name: Counter(conn.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()) for name in names}


@pytest.fixture
def main_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Callable[[], dict[str, Counter]]]]:
    """(URL, read every hitl_ table) of a copy of the fixture written by main at 136d825."""
    if request.param == "sqlite":
        path = tmp_path / "hitl.db"
        shutil.copy(SQLITE_FIXTURE, path)
        yield f"sqlite:///{path}", lambda: _sqlite_tables(path)
        return
    base = os.environ.get("HITL_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("HITL_TEST_POSTGRES_URL is not set")
    import psycopg

    from tests.pg import fresh_schema_url

    with fresh_schema_url(base) as url:
        schema = re.search(r"search_path%3D(\w+)", url).group(1)
        dump = POSTGRES_FIXTURE.read_text()
        # psql meta-commands (\restrict) and the dump's own CREATE SCHEMA: the schema exists.
        dump = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
        dump = dump.replace(f"CREATE SCHEMA {FIXTURE_SCHEMA};", "").replace(FIXTURE_SCHEMA, schema)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            conn.execute(dump)
        yield url, lambda: _postgres_tables(base, schema)


BACKENDS = ["sqlite", "postgres"]


# --------------------------------------------------------------------------- adopting main's schema


@pytest.mark.parametrize("main_database", BACKENDS, indirect=True)
def test_a_database_made_by_main_is_adopted_by_migration_1_with_every_row_kept(main_database, tmp_path: Path) -> None:
    url, read_tables = main_database
    before = read_tables()
    assert "hitl_migrations" not in before  # made before migrations existed
    assert [name for name in NOT_EMPTY if not before.get(name)] == []

    Store.open(url).close()

    after = read_tables()
    migrations = after.pop("hitl_migrations")
    assert sorted((version, name) for version, name, _ in migrations) == [(m.version, m.name) for m in MIGRATIONS]
    assert {name: after[name] for name in before} == before  # every row of every table, unchanged
    # Added: only the tables main created on first use by a LangGraph-server desk, empty.
    assert {name: rows for name, rows in after.items() if name not in before} == {
        "hitl_server_interrupts": Counter(), "hitl_server_runs": Counter(), "hitl_server_sync": Counter()
    }

    Store.open(url).close()  # opening again applies nothing
    assert read_tables()["hitl_migrations"] == migrations


@pytest.mark.parametrize("main_database", BACKENDS, indirect=True)
def test_a_migrated_database_from_main_lists_verifies_and_keeps_working(main_database, tmp_path: Path, monkeypatch) -> None:
    url, read_tables = main_database
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    desk = Inbox.open(database_url=url, graphs_path=str(ROOT / "langgraph.json"))
    try:
        assert desk.verify_audit().ok
        page = desk.pending(limit=50)
        assert sorted(item.thread_id for item in page.items) == WAITING
        assert page.total == len(WAITING)
        for thread_id in WAITING:  # the index agrees with the checkpoints
            assert desk.thread(thread_id).status == "waiting"
        history = desk.history()
        assert list(history["action"]) == ["decision", "decision", "batch", "vote", "extend"]
        assert [v.voter for v in desk.votes("fx-big-payment")] == ["fay@example.com"]

        # The triggers still index agents' writes, and the chain goes on from main's head.
        [new] = seed(desk, 1, graph_ids=["simple_confirm"], prefix="after")
        desk.refresh()
        assert new in {item.thread_id for item in desk.pending(limit=50).items}
        assert desk.decide("fx-email_approval-0003", approve=True, reviewer="zoe").status == "completed"
        assert desk.verify_audit().ok
        assert len(desk.history()) == 6
    finally:
        desk.close()
    assert [row[0] for row in read_tables()["hitl_migrations"]] == [latest_version()]


def test_a_read_only_database_that_needs_a_migration_says_so(tmp_path: Path) -> None:
    """A desk that may not write cannot migrate: it refuses with the step it needs, not a SQL error."""
    path = tmp_path / "hitl.db"
    shutil.copy(SQLITE_FIXTURE, path)
    done = _in_child_read_only(path)
    if done.get("can_write"):
        pytest.skip("the child process can still write the database file: file modes do not apply here")
    assert "needs schema migration 1 (baseline" in done["open_error"], done
    assert "read-only for this user" in done["open_error"]
    assert "hitl_migrations" not in _sqlite_tables(path)  # nothing was changed


def test_a_read_only_database_at_the_latest_version_opens_read_only(tmp_path: Path) -> None:
    path = tmp_path / "hitl.db"
    shutil.copy(SQLITE_FIXTURE, path)
    Store.open(f"sqlite:///{path}").close()
    done = _in_child_read_only(path)
    if done.get("can_write"):
        pytest.skip("the child process can still write the database file: file modes do not apply here")
    assert done == {"can_write": False, "read_only": True, "waiting": len(WAITING)}


def _in_child_read_only(path: Path) -> dict:
    from tests.storage.test_readonly import _as_unprivileged

    os.chmod(path, 0o444)
    os.chmod(path.parent, 0o555)
    try:
        script = (
            "import json, os, sys\n"
            "from hitl.store import Store\n"
            "path = sys.argv[1]\n"
            "report = {'can_write': os.access(path, os.W_OK)}\n"
            "try:\n"
            "    store = Store.open('sqlite:///' + path)\n"
            "except Exception as exc:\n"
            "    report['open_error'] = str(exc)\n"
            "else:\n"
            "    report['read_only'] = store.read_only\n"
            "    report['waiting'] = store.status_counts().get('waiting', 0)\n"
            "    store.close()\n"
            "print(json.dumps(report))\n"
        )
        done = subprocess.run(
            _as_unprivileged([sys.executable, "-c", script, str(path)]), cwd=ROOT, capture_output=True, text=True, timeout=120
        )
    finally:
        os.chmod(path.parent, 0o755)
        os.chmod(path, 0o644)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- a later step, two desks at once


def test_a_step_added_later_applies_once_when_two_desks_open_together(db_url: str, tmp_path: Path) -> None:
    Store.open(db_url, create=True).close()  # a database at step 1, as this release leaves it
    go = tmp_path / "go"
    children = []
    for n in range(2):
        ready = tmp_path / f"ready-{n}"
        command = [sys.executable, "-m", "tests.storage.migration_child", db_url, str(ready), str(go)]
        children.append((ready, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in children):  # both imported, waiting at the gate
        assert time.monotonic() < deadline and all(child.poll() is None for _, child in children), [c.communicate() for _, c in children]
        time.sleep(0.02)
    go.touch()
    reports = []
    for _, child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err  # a second ALTER TABLE ADD COLUMN would have failed
        reports.append(json.loads(out.strip().splitlines()[-1]))
    # Exactly one desk ran step 2 (it logs itself); both see it applied, once, with its column.
    assert sorted(len(report["applied_here"]) for report in reports) == [0, 1]
    for report in reports:
        assert report["versions"] == [1, 2]
        assert report["probe_rows"] == 1
        assert "migration_probe" in report["thread_columns"]
