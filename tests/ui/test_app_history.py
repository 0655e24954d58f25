"""The History page, driven through AppTest."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from hitl import Inbox
from tests.ui.conftest import inert_texts, markdown_texts, plain, seed


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """What the app hands to Streamlit's media storage: the bytes a download button serves."""
    served: list[dict] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        served.append({"data": path_or_data, "mimetype": mimetype, "filename": filename})
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return served


def _csv(downloads: list[dict]) -> pd.DataFrame:
    last = next(d for d in reversed(downloads) if d["mimetype"] == "text/csv")
    return pd.read_csv(io.BytesIO(last["data"]), keep_default_na=False)


def _table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.main.dataframe if "Verdict" in d.value.columns)


def _decide_a_mix(inbox: Inbox) -> dict[str, str]:
    """Five decisions: two reviewers, three graphs, approvals, a rejection, a failure."""
    emails = seed(inbox, "email_approval", 2)
    confirm = seed(inbox, "simple_confirm", 1)[0]
    chain = seed(inbox, "approval_chain", 1)[0]
    explosive = inbox.start_run("explosive", {"topic": "cache"}, thread_id="explosive-0")
    inbox.refresh()  # as the Inbox page does before anyone decides
    inbox.decide(emails[0], approve=True, reviewer="alice", comment="fine")
    inbox.decide(emails[1], approve=False, reviewer="bob", comment="wrong recipient")
    inbox.decide(confirm, approve=True, reviewer="bob")
    inbox.decide(chain, approve=True, reviewer="alice")
    inbox.decide(explosive, approve=True, reviewer="alice")
    return {"email_ok": emails[0], "email_no": emails[1], "confirm": confirm, "chain": chain, "explosive": explosive}


def test_history_lists_every_decision_with_verdicts_and_chain_status(inbox: Inbox, app) -> None:
    threads = _decide_a_mix(inbox)

    at = app("pages/history.py")

    assert not at.exception
    assert plain(at.success[0].value).startswith("Audit chain intact: 5 rows verified")
    table = _table(at).set_index("Thread")
    assert len(table) == 5
    assert table.loc[threads["email_ok"], "Verdict"] == "approved"
    assert table.loc[threads["email_no"], "Verdict"] == "rejected"
    assert table.loc[threads["email_no"], "Comment"] == "wrong recipient"
    assert table.loc[threads["explosive"], "Outcome"] == "failed"
    assert "cluster API refused" in table.loc[threads["explosive"], "Error"]
    assert list(_table(at)["Seq"]) == [5, 4, 3, 2, 1]  # newest first
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics == {"Decisions": "5", "Approval rate": "80%", "Median time to decision": metrics["Median time to decision"], "Reviewers": "2"}
    assert len(at.main.get("vega_lite_chart")) == 3


def test_history_filters_narrow_the_table_and_the_csv(inbox: Inbox, app, downloads) -> None:
    threads = _decide_a_mix(inbox)
    at = app("pages/history.py")
    assert len(_csv(downloads)) == 5

    at.multiselect(key="_w_history_reviewers").set_value(["bob"]).run()
    assert sorted(_table(at)["Thread"]) == sorted([threads["email_no"], threads["confirm"]])
    assert "2 of 5 decisions match the filters." in [plain(c.value) for c in at.caption]
    assert at.download_button(key="history_csv").label == "Download CSV (2 rows)"
    csv = _csv(downloads)
    assert sorted(csv["thread_id"]) == sorted([threads["email_no"], threads["confirm"]])
    assert set(csv["reviewer"]) == {"bob"}
    assert {"payload", "answer", "row_hash", "prev_hash", "verdict"} <= set(csv.columns)

    at.multiselect(key="_w_history_reviewers").set_value([]).run()
    at.multiselect(key="_w_history_graphs").set_value(["email_approval"]).run()
    at.multiselect(key="_w_history_outcomes").set_value(["completed"]).run()
    assert sorted(_table(at)["Thread"]) == sorted([threads["email_ok"], threads["email_no"]])
    assert len(_csv(downloads)) == 2

    at.multiselect(key="_w_history_graphs").set_value([]).run()
    at.multiselect(key="_w_history_outcomes").set_value([]).run()
    at.multiselect(key="_w_history_kinds").set_value(["approval_level"]).run()
    assert list(_table(at)["Thread"]) == [threads["chain"]]
    assert json.loads(_csv(downloads)["answer"][0]) == {"approved": True, "approver_id": "alice"}

    at.multiselect(key="_w_history_kinds").set_value([]).run()
    today = inbox.history()["decided_at"].dt.date.max()  # the UTC day the decisions were taken
    at.date_input(key="_w_history_to").set_value(today - timedelta(days=1)).run()
    assert _table(at).empty
    assert len(_csv(downloads)) == 0
    at.date_input(key="_w_history_from").set_value(today).run()
    at.date_input(key="_w_history_to").set_value(today).run()
    assert len(_table(at)) == 5

    at.multiselect(key="_w_history_reviewers").set_value(["alice"]).run()
    next(b for b in at.button if b.label == "Clear filters").click().run()
    assert len(_table(at)) == 5


def test_thread_query_param_shows_one_threads_decision_trail(inbox: Inbox, app) -> None:
    chain = seed(inbox, "approval_chain", 1)[0]
    other = seed(inbox, "simple_confirm", 1)[0]
    inbox.decide(chain, approve=True, reviewer="alice", comment="manager ok")
    inbox.decide(chain, approve=True, reviewer="bob", comment="director ok")
    inbox.decide(other, approve=True, reviewer="bob")

    at = app("pages/history.py", query={"thread": chain})

    assert plain(at.info[0].value) == f"Decision trail of thread {chain}"
    table = _table(at)
    assert list(table["Thread"]) == [chain, chain]
    assert list(table["Comment"]) == ["director ok", "manager ok"]

    at.button(key="history_all_threads").click().run()
    assert len(_table(at)) == 3


def test_empty_history_says_where_decisions_come_from(app) -> None:
    at = app("pages/history.py")

    assert not at.exception
    assert "No decisions recorded yet" in plain(at.info[0].value)


def test_a_tampered_audit_log_is_flagged(inbox: Inbox, app) -> None:
    _decide_a_mix(inbox)
    inbox.store.execute_write("UPDATE hitl_audit SET comment = 'all good' WHERE seq = 2")

    at = app("pages/history.py")

    assert not at.exception
    assert plain(at.error[0].value).startswith("Audit chain broken at row 2")


def test_hostile_audit_text_is_inert_and_csv_cells_cannot_run_formulas(inbox: Inbox, app, downloads) -> None:
    hostile = "=HYPERLINK(\"http://evil.example\",\"ok\") <script>alert(1)</script> [x](javascript:alert(2)) ![p](http://e.example/p.png) مرحبا"
    thread_id = inbox.start_run("fragile", {"topic": "z" * 1_000_000}, thread_id="hostile-0")
    inbox.decide(thread_id, approve=False, reviewer="<img src=x onerror=alert(3)>", comment=hostile)

    at = app("pages/history.py")

    assert not at.exception
    shown = "\n".join(inert_texts(at))
    assert "<script>alert(1)</script>" in shown
    assert "<img src=x onerror=alert(3)>" in shown
    assert "مرحبا" in shown
    for text in markdown_texts(at):
        for needle in ("<script", "onerror", "](javascript", "![p]", "مرحبا"):
            assert needle not in text
    csv = _csv(downloads)
    assert csv["comment"][0] == "'" + hostile
    assert csv["reviewer"][0] == "<img src=x onerror=alert(3)>"
    assert "z" * 1000 in csv["payload"][0]
