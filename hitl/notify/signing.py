"""Signed webhook requests: the headers, the HMAC signature and its check (for receivers)."""

from __future__ import annotations

import hashlib
import hmac
import time


SIGNATURE_HEADER = "X-HITL-Signature"


TIMESTAMP_HEADER = "X-HITL-Timestamp"


DELIVERY_HEADER = "X-HITL-Delivery"


EVENT_HEADER = "X-HITL-Event"


def sign(secret: str, timestamp: str, body: bytes | str) -> str:
    """The `X-HITL-Signature` value: `sha256=` + hex HMAC-SHA256 of `f"{timestamp}.{body}"`."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    body: bytes | str,
    signature: str | None,
    timestamp: str | None,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether a received notification is authentic and fresh (for receivers and tests)."""
    if not signature or not timestamp:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
