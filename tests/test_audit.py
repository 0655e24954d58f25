"""Tamper-evident audit log: edits, insertions and deletions are named by `audit verify`.

Each test builds a real chain (one decision through the graph, the rest appended through
the store), tampers with it through a second raw SQLite connection, the way someone with
the database file would, and checks `verify` names the right seq.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hitl import Inbox
from hitl.__main__ import main
from hitl.audit import GENESIS_HASH, HMAC_PREFIX, Anchor, parse_anchor, row_hash, verify_chain
from hitl.errors import HitlError
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


# ---------------------------------------------------------------------------- with HITL_AUDIT_KEY: keyed everywhere


def _rechain_plain(inbox: Inbox, *, edit_seq: int, comment: str) -> None:
    """Rewrite the whole chain as someone without the key would: edit one row, recompute every
    row as plain SHA-256 from the first, and point the head at the new tip without a MAC."""
    previous = GENESIS_HASH
    for row in inbox.store.audit_rows():
        row = {**row, "prev_hash": previous}
        if int(row["seq"]) == edit_seq:
            row["comment"] = comment
        row["row_hash"] = row_hash(row)
        _sql(inbox, "UPDATE hitl_audit SET comment = ?, prev_hash = ?, row_hash = ? WHERE seq = ?",
             (row["comment"], row["prev_hash"], row["row_hash"], row["seq"]))  # fmt: skip
        previous = row["row_hash"]
    _sql(inbox, "UPDATE hitl_audit_head SET row_hash = ?, mac = NULL", (previous,))


def _cli(db_url: str, graphs_file: Path, *args: str) -> list[str]:
    return ["--database-url", db_url, "--graphs", str(graphs_file), "audit", *args]


def test_with_a_key_a_chain_rewritten_as_plain_sha256_from_the_first_row_is_tampering(
    inbox: Inbox, db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret-key-kept-outside-the-database")
    _fill(inbox)
    _rechain_plain(inbox, edit_seq=3, comment="approved by the CFO")
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 1)
    assert "not sealed with the audit key although HITL_AUDIT_KEY is set" in report.problem
    assert main(_cli(db_url, graphs_file, "verify")) == 1
    assert "BROKEN at row seq=1" in capsys.readouterr().out


def test_with_a_key_a_head_whose_mac_was_removed_is_tampering(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")
    _fill(inbox)
    _sql(inbox, "UPDATE hitl_audit_head SET mac = NULL")
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, ROWS)
    assert "the head has no HMAC although HITL_AUDIT_KEY is set" in report.problem


def test_with_a_key_a_missing_head_is_tampering(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")
    _fill(inbox)
    _sql(inbox, "DELETE FROM hitl_audit_head")
    report = inbox.verify_audit()
    assert not report.ok and "head (hitl_audit_head) is missing" in report.problem


def test_without_a_key_a_plain_chain_still_verifies(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HITL_AUDIT_KEY", raising=False)
    _fill(inbox)
    assert inbox.verify_audit().ok and inbox.store.audit_head()["mac"] is None


# ---------------------------------------------------------------------------- anchors


def test_cli_anchor_prints_the_heads_seq_and_hash_and_verify_accepts_it(
    inbox: Inbox, db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")
    _fill(inbox)
    assert main(_cli(db_url, graphs_file, "anchor")) == 0
    captured = capsys.readouterr()
    anchor = captured.out.strip()
    assert anchor == f"{ROWS}:{_row(inbox, ROWS)['row_hash']}" and anchor.startswith(f"{ROWS}:{HMAC_PREFIX}")
    assert f"audit verify --anchor {anchor}" in captured.err
    assert parse_anchor(anchor) == Anchor(seq=ROWS, row_hash=_row(inbox, ROWS)["row_hash"])
    # Later decisions extend the chain; the anchor still proves everything up to it.
    inbox.store.append_audit([{"thread_id": "later", "interrupt_id": "i", "outcome": "completed", "reviewer": "carol"}])
    assert main(_cli(db_url, graphs_file, "verify", "--anchor", anchor)) == 0
    assert f"rows 1..{ROWS} match the anchor {anchor}" in capsys.readouterr().out


def test_an_old_head_put_back_after_truncation_passes_alone_but_not_against_an_anchor(
    inbox: Inbox, db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")
    _fill(inbox, rows=4)
    old_head = inbox.store.audit_head()  # a copy someone with database access kept
    inbox.store.append_audit(
        [{"thread_id": f"late-{n}", "interrupt_id": "i", "outcome": "completed", "reviewer": "bob", "comment": "refund"} for n in range(2)]
    )
    assert main(_cli(db_url, graphs_file, "anchor")) == 0
    anchor = capsys.readouterr().out.strip()
    assert anchor.startswith("6:")
    _sql(inbox, "DELETE FROM hitl_audit WHERE seq > 4")
    _sql(inbox, "UPDATE hitl_audit_head SET seq = ?, row_hash = ?, mac = ?", (old_head["seq"], old_head["row_hash"], old_head["mac"]))
    assert inbox.verify_audit().ok  # the database alone cannot tell: the old head's HMAC is genuine
    assert main(_cli(db_url, graphs_file, "verify", "--anchor", anchor)) == 1
    out = capsys.readouterr().out
    assert "BROKEN at row seq=5" in out and "names row 6 but the log ends at row 4: rows 5..6 were deleted" in out


def test_a_chain_rewritten_from_the_start_does_not_match_its_anchor(
    inbox: Inbox, db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HITL_AUDIT_KEY", raising=False)  # plain chain: anyone can recompute it...
    _fill(inbox)
    anchor = f"4:{_row(inbox, 4)['row_hash']}"
    _rechain_plain(inbox, edit_seq=2, comment="approved by the CFO")
    _sql(inbox, "UPDATE hitl_audit_head SET mac = NULL")
    assert inbox.verify_audit().ok  # ...and the database alone says intact
    assert main(_cli(db_url, graphs_file, "verify", "--anchor", anchor)) == 1  # ...but not the anchor
    assert "BROKEN at row seq=4: it does not match the anchor" in capsys.readouterr().out


def test_rows_written_before_the_key_was_set_are_accepted_up_to_an_anchor_taken_then(
    inbox: Inbox, db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HITL_AUDIT_KEY", raising=False)
    _fill(inbox, rows=3)
    assert main(_cli(db_url, graphs_file, "anchor")) == 0
    anchor = capsys.readouterr().out.strip()
    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")  # the operator turns the key on
    inbox.store.append_audit([{"thread_id": "keyed", "interrupt_id": "i", "outcome": "completed", "reviewer": "carol"}])
    assert _row(inbox, 4)["row_hash"].startswith(HMAC_PREFIX)
    report = inbox.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 1) and "--anchor SEQ:HASH" in report.problem
    assert main(_cli(db_url, graphs_file, "verify", "--anchor", anchor)) == 0
    # A plain row after the anchor is still tampering.
    forged = {**_row(inbox, 4), "comment": "forged"}
    forged["row_hash"] = row_hash(forged)
    _sql(inbox, "UPDATE hitl_audit SET comment = ?, row_hash = ? WHERE seq = 4", (forged["comment"], forged["row_hash"]))
    assert main(_cli(db_url, graphs_file, "verify", "--anchor", anchor)) == 1
    assert "BROKEN at row seq=4: it is not sealed with the audit key" in capsys.readouterr().out


def test_anchor_refuses_a_broken_or_empty_chain(
    inbox: Inbox, db_url: str, graphs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_cli(db_url, graphs_file, "anchor")) == 1
    assert "the audit log is empty" in capsys.readouterr().err
    _fill(inbox)
    _sql(inbox, "UPDATE hitl_audit SET comment = 'edited' WHERE seq = 2")
    assert main(_cli(db_url, graphs_file, "anchor")) == 1
    captured = capsys.readouterr()
    assert "BROKEN at row seq=2" in captured.out and "an anchor taken now would vouch for tampered rows" in captured.err


@pytest.mark.parametrize("bad", ["6", "six:" + "a" * 64, "0:" + "a" * 64, "6:abc", "6:hmac-sha256:xyz", "-1:" + "a" * 64])
def test_a_malformed_anchor_is_a_usage_error_naming_the_expected_form(
    bad: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--database-url", f"sqlite:///{tmp_path / 'x.db'}", "audit", "verify", f"--anchor={bad}"])
    assert exited.value.code == 2
    assert "is not SEQ:HASH" in capsys.readouterr().err
    with pytest.raises(HitlError, match="42:<64 hex digits>"):
        parse_anchor(bad)


def test_decision_made_webhooks_carry_the_decisions_audit_anchor(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from hitl.notify import enqueue_decisions, load_config, outbox_rows

    monkeypatch.setenv("HITL_AUDIT_KEY", "s3cret")
    _fill(inbox, rows=2)
    config = load_config({"webhooks": [{"url": "https://hooks.example.com/hitl", "secret": "x", "events": ["decision_made"]}]})
    decisions = [{**_row(inbox, 2), "seq": 2}]
    assert enqueue_decisions(inbox, decisions, config=config) == 1
    (row,) = outbox_rows(inbox)
    body = json.loads(row.body)
    assert body["audit_anchor"] == f"2:{_row(inbox, 2)['row_hash']}"
    assert verify_chain(inbox.store.audit_rows(), head=inbox.store.audit_head(), key=b"s3cret", anchor=parse_anchor(body["audit_anchor"])).ok
