"""Reading LangChain messages whether they are objects or dicts: one place for the pages and QA."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["message_field", "content_text"]


def message_field(message: Any, name: str, default: Any = None) -> Any:
    """`message[name]` of a dict, `message.name` of a message object; `default` when absent."""
    if isinstance(message, Mapping):
        return message.get(name, default)
    return getattr(message, name, default)


def _as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _left_out(block: Any) -> None:
    return None


def content_text(
    content: Any,
    *,
    block: Callable[[Any], str | None] = _left_out,
    whole: Callable[[Any], str] = _as_json,
) -> str:
    """The text of a message's `content`: a string, or the text blocks of a list, one per line.

    Args:
        block: writes a list item that is not text (an image, a tool-use block): its text, or
            None to leave it out (the default).
        whole: writes a content that is neither a string nor a list (default: as JSON).
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return whole(content)
    parts = []
    for item in content:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Mapping) and item.get("type") == "text":
            parts.append(str(item.get("text", "")))
        else:
            written = block(item)
            if written is not None:
                parts.append(written)
    return "\n".join(parts)
