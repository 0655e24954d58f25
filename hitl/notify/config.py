"""The `[notify]` webhooks of HITL_CONFIG, parsed once: endpoints, events, secrets, retry budgets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from hitl.config import Settings
from hitl.errors import HitlError


EventType = Literal["approval_needed", "decision_made"]


EVENT_TYPES: tuple[EventType, ...] = ("approval_needed", "decision_made")


OutboxState = Literal["pending", "sending", "delivered", "failed"]


OUTBOX_STATES: tuple[OutboxState, ...] = ("pending", "sending", "delivered", "failed")


@dataclass(frozen=True, kw_only=True)
class Webhook:
    """One configured receiver (`[[webhooks]]` in HITL_CONFIG)."""

    name: str
    """Key of this endpoint's outbox rows: keep it stable, or old rows stay undelivered."""
    url: str
    secret: str = field(repr=False)
    events: tuple[EventType, ...] = ("approval_needed",)
    timeout: float = 10.0
    """Seconds per connect / write / read of one request."""
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 600.0


@dataclass(frozen=True, kw_only=True)
class NotifyConfig:
    """The webhooks and delivery settings read from HITL_CONFIG."""

    webhooks: tuple[Webhook, ...] = ()
    lease_seconds: float = 60.0
    concurrency_per_endpoint: int = 4

    def subscribed(self, event_type: str) -> list[Webhook]:
        """Webhooks that want this event."""
        return [hook for hook in self.webhooks if event_type in hook.events]


def load_config(settings: Settings | Mapping[str, Any]) -> NotifyConfig:
    """Read `[notify]` and `[[webhooks]]` from the policy file (or a parsed policy dict).

    Raises:
        HitlError: an entry is malformed; the message names the entry and the fix.
    """
    policy = settings if isinstance(settings, Mapping) else settings.policy
    notify = policy.get("notify", {}) or {}
    if not isinstance(notify, Mapping):
        raise HitlError("[notify] in HITL_CONFIG must be a table, e.g. [notify]\\nmax_attempts = 8.")
    defaults = {
        "max_attempts": int(_positive(notify, "max_attempts", 8, "[notify]")),
        "backoff_base_seconds": _positive(notify, "backoff_base_seconds", 2.0, "[notify]"),
        "backoff_max_seconds": _positive(notify, "backoff_max_seconds", 600.0, "[notify]"),
    }
    entries = policy.get("webhooks", []) or []
    if not isinstance(entries, list):
        raise HitlError('webhooks in HITL_CONFIG must be an array of tables: [[webhooks]]\\nurl = "https://...".')
    webhooks: list[Webhook] = []
    for number, entry in enumerate(entries, start=1):
        webhooks.append(_webhook(entry, number, defaults))
    names = [hook.name for hook in webhooks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise HitlError(
            f"Webhooks {', '.join(duplicates)} are configured twice in HITL_CONFIG; give each [[webhooks]] "
            "entry its own url or name."
        )
    return NotifyConfig(
        webhooks=tuple(webhooks),
        lease_seconds=_positive(notify, "lease_seconds", 60.0, "[notify]"),
        concurrency_per_endpoint=int(_positive(notify, "concurrency_per_endpoint", 4, "[notify]")),
    )


def _webhook(entry: Any, number: int, defaults: dict[str, Any]) -> Webhook:
    where = f"[[webhooks]] entry #{number}"
    if not isinstance(entry, Mapping):
        raise HitlError(f"{where} in HITL_CONFIG must be a table with url and secret.")
    url = str(entry.get("url") or "")
    if not url.startswith(("http://", "https://")):
        raise HitlError(f"{where} has url={url!r}; expected an http:// or https:// URL the desk can POST to.")
    secret = entry.get("secret")
    if not secret and entry.get("secret_env"):
        secret = os.environ.get(str(entry["secret_env"]))
        if not secret:
            raise HitlError(f"{where} reads its secret from ${entry['secret_env']}, which is not set.")
    if not secret:
        raise HitlError(
            f"{where} ({url}) has no secret. Add secret = \"...\" or secret_env = \"VAR\": every "
            "notification is signed so receivers can reject forged ones."
        )
    events = entry.get("events", ["approval_needed"])
    if isinstance(events, str) or not isinstance(events, list) or not events:
        raise HitlError(f"{where} has events={events!r}; expected a list drawn from {list(EVENT_TYPES)}.")
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise HitlError(f"{where} lists unknown events {unknown}; use {list(EVENT_TYPES)}.")
    return Webhook(
        name=str(entry.get("name") or url),
        url=url,
        secret=str(secret),
        events=tuple(dict.fromkeys(events)),
        timeout=_positive(entry, "timeout", 10.0, where),
        max_attempts=int(_positive(entry, "max_attempts", defaults["max_attempts"], where)),
        backoff_base_seconds=_positive(entry, "backoff_base_seconds", defaults["backoff_base_seconds"], where),
        backoff_max_seconds=_positive(entry, "backoff_max_seconds", defaults["backoff_max_seconds"], where),
    )


def _positive(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise HitlError(f"{where} {key}={value!r} in HITL_CONFIG must be a positive number, e.g. {default:g}.")
    return float(value)
