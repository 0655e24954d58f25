"""The shipped example configuration parses with every section's own loader."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hitl.access import AccessPolicy
from hitl.config import Settings
from hitl.notify import load_config
from hitl.policy import load_policies

EXAMPLE = Path(__file__).resolve().parent.parent / "hitl.toml.example"


def test_example_config_parses_in_every_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_WEBHOOK_SECRET", "s3cret")
    policy = tomllib.loads(EXAMPLE.read_text())
    settings = Settings.from_env(policy=policy)
    assert "Wrong recipient" in settings.reject_reasons
    assert [p.on_expire for p in load_policies(policy)] == ["escalate", "reject", "reject"]
    assert AccessPolicy.from_policy(policy) is not None
    assert len(load_config(settings).webhooks) == 2
