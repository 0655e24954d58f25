"""The desk's settings, read from the environment in one place.

| variable | default | meaning |
|---|---|---|
| `HITL_DATABASE_URL` | `sqlite:///data/hitl.db` | checkpointer database (`sqlite:///path` or `postgresql://...`) |
| `HITL_GRAPHS` | `./langgraph.json` | graph registry in the LangGraph CLI format (with a LangGraph server: optional, lends the graphs' code for answer contracts) |
| `HITL_CONFIG` | `./hitl.toml` when present | TOML policies: timeouts, reject reasons, webhooks, roles |
| `HITL_CLAIM_LEASE_SECONDS` | `300` | a claim older than this whose resume never finished is stale |
| `HITL_RESUME_TIMEOUT_SECONDS` | `120` | a resume running longer is recorded as timed out |
| `HITL_BUSY_TIMEOUT_MS` | `5000` | SQLite busy timeout per statement |
| `HITL_REVIEW_URL` | `http://localhost:8501` | base URL used in links sent to webhooks |
| `HITL_LANGGRAPH_API_URL` | unset | a LangGraph API server (`http(s)://...`) whose threads the desk reviews through langgraph-sdk instead of reading checkpoint tables; `HITL_DATABASE_URL` then holds only the desk's own records |
| `HITL_LANGGRAPH_API_KEY` | unset | sent as `x-api-key` to that server (deployments that need one) |
| `OPENAI_API_KEY` | unset | demo agents use ChatOpenAI when set, a scripted offline model otherwise |

Read by the module that uses them (documented here so this stays the one list):
`HITL_REFRESH_SECONDS` (hitl/ui/queue.py, default 10), `HITL_SWEEP_SECONDS` (hitl/ui/desk.py,
default 60), `HITL_API_TOKENS` (hitl/api/tokens.py), `HITL_AUDIT_KEY` (hitl/audit.py).

Settings are read when `Settings.from_env()` is called, never at import, so one process can open
several desks with different settings.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hitl.errors import HitlError

__all__ = ["Settings", "DEFAULT_DATABASE_URL", "DEFAULT_REJECT_REASONS", "load_policy_file"]

DEFAULT_DATABASE_URL = "sqlite:///data/hitl.db"
DEFAULT_REJECT_REASONS = (
    "Incorrect or incomplete information",
    "Wrong recipient",
    "Amount or scope too large",
    "Needs more context",
    "Policy violation",
)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the desk reads from its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    graphs_path: str = "langgraph.json"
    config_path: str | None = None
    claim_lease_seconds: float = 300.0
    resume_timeout_seconds: float = 120.0
    busy_timeout_ms: int = 5000
    review_url: str = "http://localhost:8501"
    policy: dict[str, Any] = field(default_factory=dict)
    langgraph_api_url: str | None = None
    langgraph_api_key: str | None = None

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read the environment now; keyword arguments win over it."""
        env = os.environ
        config_path = overrides.pop("config_path", None) or env.get("HITL_CONFIG")
        if config_path is None and Path("hitl.toml").exists():
            config_path = "hitl.toml"
        values: dict[str, Any] = {
            "database_url": env.get("HITL_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "graphs_path": env.get("HITL_GRAPHS") or "langgraph.json",
            "config_path": config_path,
            "claim_lease_seconds": _number(env, "HITL_CLAIM_LEASE_SECONDS", 300.0),
            "resume_timeout_seconds": _number(env, "HITL_RESUME_TIMEOUT_SECONDS", 120.0),
            "busy_timeout_ms": int(_number(env, "HITL_BUSY_TIMEOUT_MS", 5000)),
            "review_url": env.get("HITL_REVIEW_URL") or "http://localhost:8501",
            "langgraph_api_url": env.get("HITL_LANGGRAPH_API_URL") or None,
            "langgraph_api_key": env.get("HITL_LANGGRAPH_API_KEY") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "policy" not in overrides:
            values["policy"] = load_policy_file(config_path) if config_path else {}
        return cls(**values)

    @property
    def reject_reasons(self) -> tuple[str, ...]:
        """Preset reasons offered when rejecting (`[review] reject_reasons` in HITL_CONFIG)."""
        reasons = self.policy.get("review", {}).get("reject_reasons")
        return tuple(reasons) if reasons else DEFAULT_REJECT_REASONS


def load_policy_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse the TOML policy file, naming the file and the problem when it is bad."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise HitlError(
            f"Policy file {str(path)!r} (HITL_CONFIG) does not exist. "
            "Create it, or unset HITL_CONFIG to run without policies."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise HitlError(f"Policy file {str(path)!r} is not valid TOML: {exc}") from None


def _number(env: os._Environ[str] | dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise HitlError(f"{name}={raw!r} is not a number; set it to seconds, e.g. {default:g}.") from None
