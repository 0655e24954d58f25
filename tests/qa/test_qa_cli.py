"""`python -m hitl qa ...` over a real desk (in-process `main`)."""

from __future__ import annotations

import json

from hitl.__main__ import main
from tests.qa.conftest import finish


def test_export_and_agreement_from_the_command_line(inbox, graphs_file, tmp_path, monkeypatch, capsys) -> None:
    (thread_id,) = finish(inbox, 1)
    policy = tmp_path / "hitl.toml"
    policy.write_text('[[qa.rubrics]]\nname = "correct"\ntype = "boolean"\n\n[[qa.queues]]\nname = "cli"\nreviewers_per_item = 2\n')
    monkeypatch.setenv("HITL_CONFIG", str(policy))
    base = ["--database-url", inbox.store.url, "--graphs", str(graphs_file), "qa"]
    assert main([*base, "sync", "cli"]) == 0
    assert "1 item(s) added" in capsys.readouterr().out
    from hitl import Inbox
    from hitl.qa import QA

    with Inbox.open(database_url=inbox.store.url, graphs_path=str(graphs_file)) as desk:
        qa = QA.of(desk)
        qa.submit("cli", thread_id, reviewer="alice", scores={"correct": True})
        qa.submit("cli", thread_id, reviewer="bob", scores={"correct": True})
    out = tmp_path / "cli.jsonl"
    assert main([*base, "export", "cli", "--format", "jsonl", "--output", str(out)]) == 0
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["metadata"]["scores"] == {"correct": True} and record["metadata"]["reviewers"] == ["alice", "bob"]
    assert main([*base, "agreement", "cli", "--json"]) == 0
    (figure,) = json.loads(capsys.readouterr().out)
    assert (figure["rubric"], figure["alpha"], figure["n_items"]) == ("correct", None, 1)
    assert main([*base, "export", "nope"]) == 2
    assert "There is no QA queue 'nope'" in capsys.readouterr().err
