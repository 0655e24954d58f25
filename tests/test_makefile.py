"""The Makefile's promise: `make run` seeds demo threads into the default embedded database only."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _plan(target: str, **env: str) -> str:
    """The commands `make -n target` would run, with HITL_DATABASE_URL only as given."""
    base = {k: v for k, v in os.environ.items() if k != "HITL_DATABASE_URL"}
    done = subprocess.run(["make", "-n", target], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("target, serves", [("run", "-m hitl.ui.serve"), ("api", "uvicorn hitl.api:app")])
def test_demo_threads_go_into_the_default_database_only(target: str, serves: str) -> None:
    default = _plan(target)
    assert "hitl.demo seed --if-empty" in default and serves in default
    own = _plan(target, HITL_DATABASE_URL="postgresql://hitl@db.internal:5432/agents")
    assert "hitl.demo seed" not in own and serves in own
    # Asked for by name, it seeds wherever the URL points.
    assert "hitl.demo seed" in _plan("seed", HITL_DATABASE_URL="postgresql://hitl@db.internal:5432/agents")
