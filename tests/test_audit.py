"""Tamper-evident audit log: edits, insertions and deletions are named by `audit verify`.

Each test builds a real chain (one decision through the graph, the rest appended through
the store), tampers with it through a second raw SQLite connection, the way someone with
the database file would, and checks `verify` names the right seq.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hitl import Inbox
from hitl.__main__ import main
from hitl.audit import GENESIS_HASH, HMAC_PREFIX, row_hash, verify_chain
from tests.conftest import ROOT, start

ROWS = 6


def _fill(inbox: Inbox, rows: int = ROWS) -> None:
    """One real decision, then synthetic rows, so the chain has `rows` rows."""
    thread_id = start(inbox, "fragile")
    inbox.decide(thread_id, approve=True, reviewer="alice", comment="first")
    inbox.store.append_audit(
        [
            {"thread_id": f"t-{n}", "interrupt_id": f"i-{n}", "kind": "question", "action": "decision",
             "payload": {"amount": n * 100}, "answer": {"approved": n % 2 == 0}, "reviewer": "bob",
             "comment": f"row {n + 2}", "outcome": "completed"}
            for n in range(rows - 1)
        ]
    )  # fmt: skip
    assert inbox.verify_audit().ok


def _sql(inbox: Inbox, statement: str, params: tuple = ()) -> None:
    """Tamper through plain SQL on the database (any backend), outside the desk's API."""
    inbox.store.execute_write(statement, params)


def _row(inbox: Inbox, seq: int) -> dict:
    return next(row for row in inbox.store.audit_rows() if int(row["seq"]) == seq)


def _forge(inbox: Inbox, record: dict) -> None:
    columns = list(record)
    _sql(inbox, f"INSERT INTO hitl_audit ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", tuple(record.values()))


def test_an_intact_chain_verifies_and_every_row_links_to_the_one_before(inbox: Inbox) -> None:
    _fill(inbox)
    report = inbox.verify_audit()
    assert (report.ok, report.rows, report.first_bad_seq) == (True, ROWS, None)
    assert str(report) == f"audit chain intact: {ROWS} rows verified"
    assert _row(inbox, 1)["prev_hash"] == GENESIS_HASH
    assert _row(inbox, 2)["prev_hash"] == _row(inbox, 1)["row_hash"]
    assert inbox.store.audit_head() == {"seq": ROWS, "row_hash": _row(inbox, ROWS)["row_hash"], "mac": None}


def test_editing_a_rows_comment_is_named(inbox: Inbox) -> None:
    _fill(inbox)
    _sql(inbox, "UPDATE hitl_audit SET comment = 'approved by the CFO' WHERE seq = 3")
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "edited" in report.problem


def test_editing_a_row_and_recomputing_its_hash_is_named_at_that_row(inbox: Inbox) -> None:
    _fill(inbox)
    row = _row(inbox, 2)
    row["reviewer"] = "mallory"
    _sql(inbox, "UPDATE hitl_audit SET reviewer = ?, row_hash = ? WHERE seq = 2", ("mallory", row_hash(row)))
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 3)  # its own hash fits; the next row's link does not
    assert "prev_hash" in report.problem


def test_deleting_a_middle_row_is_named(inbox: Inbox) -> None:
    _fill(inbox)
    _sql(inbox, "DELETE FROM hitl_audit WHERE seq = 4")
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert report.problem == "row 4 is missing (deleted)"


def test_deleting_a_middle_row_and_renumbering_the_rest_is_named(inbox: Inbox) -> None:
    _fill(inbox)
    _sql(inbox, "DELETE FROM hitl_audit WHERE seq = 4")
    for seq in range(5, ROWS + 1):
        _sql(inbox, "UPDATE hitl_audit SET seq = ? WHERE seq = ?", (seq - 1, seq))
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert "original row 4 was deleted" in report.problem


def test_deleting_the_last_row_is_named_from_the_head(inbox: Inbox) -> None:
    _fill(inbox)
    _sql(inbox, f"DELETE FROM hitl_audit WHERE seq = {ROWS}")
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, ROWS)
    assert f"the head records {ROWS} rows" in report.problem
    # The rows alone form a valid shorter chain: only the head can tell.
    assert verify_chain(inbox.store.audit_rows()).ok


def test_a_decision_after_a_tail_deletion_keeps_the_gap_visible(inbox: Inbox) -> None:
    _fill(inbox)
    _sql(inbox, f"DELETE FROM hitl_audit WHERE seq IN ({ROWS - 1}, {ROWS})")
    thread_id = start(inbox, "fragile", {"topic": "later"}, thread_id="later")
    inbox.decide(thread_id, approve=False, reviewer="carol", comment="no")
    assert inbox.history(thread_id="later")["seq"].tolist() == [ROWS + 1]
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, ROWS - 1)
    assert report.problem == f"rows {ROWS - 1}..{ROWS} are missing (deleted)"


def test_deleting_the_head_with_the_tail_is_reported(inbox: Inbox) -> None:
    _fill(inbox)
    _sql(inbox, f"DELETE FROM hitl_audit WHERE seq = {ROWS}")
    _sql(inbox, "DELETE FROM hitl_audit_head")
    report = inbox.verify_audit()
    assert not report.ok and "head (hitl_audit_head) is missing" in report.problem


def test_a_forged_row_appended_with_a_valid_hash_is_named_as_not_sealed_by_the_head(inbox: Inbox) -> None:
    _fill(inbox)
    forged = {**_row(inbox, ROWS), "seq": ROWS + 1, "reviewer": "mallory", "comment": "approved", "prev_hash": _row(inbox, ROWS)["row_hash"]}
    forged["row_hash"] = row_hash(forged)
    _forge(inbox, forged)
    assert verify_chain(inbox.store.audit_rows()).ok  # a forger who knows the scheme fools the rows...
    report = inbox.verify_audit()  # ...but not the head
    assert (report.ok, report.first_bad_seq) == (False, ROWS + 1)
    assert "not sealed by the head: inserted" in report.problem


def test_a_forged_row_inserted_in_the_middle_is_named(inbox: Inbox) -> None:
    _fill(inbox)
    for seq in range(ROWS, 2, -1):  # make room at seq 3, as a forger would
        _sql(inbox, "UPDATE hitl_audit SET seq = ? WHERE seq = ?", (seq + 1, seq))
    forged = {**_row(inbox, 2), "seq": 3, "reviewer": "mallory", "comment": "refund approved", "prev_hash": _row(inbox, 2)["row_hash"]}
    forged["row_hash"] = row_hash(forged)
    _forge(inbox, forged)
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "inserted" in report.problem


def test_a_forged_row_with_a_made_up_hash_is_named(inbox: Inbox) -> None:
    _fill(inbox)
    forged = {**_row(inbox, ROWS), "seq": ROWS + 1, "comment": "forged", "prev_hash": _row(inbox, ROWS)["row_hash"], "row_hash": "f" * 64}
    _forge(inbox, forged)
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, ROWS + 1)


def test_with_an_audit_key_rows_are_hmac_sealed_and_a_recomputed_plain_chain_is_caught(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret-key-kept-outside-the-database")
    _fill(inbox)
    assert _row(inbox, 1)["row_hash"].startswith(HMAC_PREFIX)
    # Someone with the database but not the key edits row 4 and re-chains 4..end with SHA-256.
    previous = _row(inbox, 3)["row_hash"]
    for seq in range(4, ROWS + 1):
        row = {**_row(inbox, seq), "prev_hash": previous}
        if seq == 4:
            row["comment"] = "approved by the CFO"
        row["row_hash"] = row_hash(row)
        _sql(inbox, "UPDATE hitl_audit SET comment = ?, prev_hash = ?, row_hash = ? WHERE seq = ?", (row["comment"], row["prev_hash"], row["row_hash"], seq))
        previous = row["row_hash"]
    _sql(inbox, "UPDATE hitl_audit_head SET row_hash = ?, mac = NULL", (previous,))
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert "not sealed with the audit key" in report.problem


def test_with_an_audit_key_a_rewritten_head_is_caught(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")
    _fill(inbox)
    _sql(inbox, f"DELETE FROM hitl_audit WHERE seq = {ROWS}")
    _sql(inbox, "UPDATE hitl_audit_head SET seq = ?, row_hash = ?", (ROWS - 1, _row(inbox, ROWS - 1)["row_hash"]))
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, ROWS - 1)
    assert "head's HMAC does not match" in report.problem


def test_keyed_rows_verified_without_the_key_are_checked_for_links_and_say_so(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")
    _fill(inbox)
    monkeypatch.delenv("HITL_AUDIT_KEY")
    report = inbox.verify_audit()
    assert report.ok and "set HITL_AUDIT_KEY to check their content" in str(report)
    monkeypatch.setenv("HITL_AUDIT_KEY", "not-the-key")
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 1)
    assert "HITL_AUDIT_KEY is not the key" in report.problem


def test_cli_audit_verify_exits_0_when_intact_and_1_naming_the_row(
    inbox: Inbox, db_url: str, graphs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(inbox)
    assert main(["--database-url", db_url, "--graphs", str(graphs_file), "audit", "verify"]) == 0
    assert f"intact: {ROWS} rows" in capsys.readouterr().out
    _sql(inbox, "UPDATE hitl_audit SET answer = '{\"approved\": true, \"amount\": 1000000}' WHERE seq = 2")
    assert main(["--database-url", db_url, "--graphs", str(graphs_file), "audit", "verify"]) == 1
    assert "BROKEN at row seq=2" in capsys.readouterr().out


def test_cli_audit_verify_exit_code_from_a_real_process(inbox: Inbox, db_url: str, graphs_file: Path) -> None:
    _fill(inbox)
    _sql(inbox, f"DELETE FROM hitl_audit WHERE seq = {ROWS}")
    done = subprocess.run(
        [sys.executable, "-m", "hitl", "--database-url", db_url, "--graphs", str(graphs_file), "audit", "verify"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"BROKEN at row seq={ROWS}" in done.stdout
