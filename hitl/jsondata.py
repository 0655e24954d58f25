"""JSON both ways: any value as plain JSON data (`json_safe`, for webhooks, the REST API and QA
exports) and stored JSON text read back leniently (`from_json_text`, for audit and QA rows)."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

__all__ = ["json_safe", "from_json_text"]

_KEEP = object()


def json_safe(value: Any, *, _depth: int = 0) -> Any:
    """`value` as plain JSON data: messages and models dumped to dicts, NaN to None, the rest repr'd."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if _depth > 64:
        return repr(value)[:1000]
    if isinstance(value, Mapping):
        return {str(key): json_safe(item, _depth=_depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item, _depth=_depth + 1) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return json_safe(value.value, _depth=_depth + 1)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # LangChain messages, pydantic models
        try:
            return json_safe(dump(mode="json"), _depth=_depth + 1)
        except Exception:
            pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value), _depth=_depth + 1)
    if isinstance(value, (uuid.UUID, os.PathLike)):
        return str(value)
    return repr(value)[:1000]


def from_json_text(value: Any, *, invalid: Any = _KEEP) -> Any:
    """A stored JSON text decoded; anything not a string passes through as it is.

    Text that is not JSON comes back unchanged, or as `invalid` when that is given (an audit
    row's payload column written as plain text, say).
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value if invalid is _KEEP else invalid
