"""Payloads of no known shape: `schema` (any value with a JSON-Schema `response_schema`, answered
through a form generated from the schema) and `json` (anything else, answered as typed JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hitl import forms
from hitl.kinds.base import PayloadKind, register
from hitl.kinds.common import check_schema, fail, parse_json, schema_quick, show

__all__ = ["json_answer", "schema_answer"]


def json_answer(text: str) -> Any:
    """Parse an answer typed as JSON text."""
    if not isinstance(text, str):
        raise fail("", f"must be JSON text, got {show(text)}")
    if not text.strip():
        raise fail("", "is empty", hint='Type a JSON value, e.g. true or {"approved": true}')
    return parse_json(text, "")


def schema_answer(response_schema: Mapping[str, Any], data: Any) -> Any:
    """Coerce form data to the response schema's types and validate it."""
    value = forms.coerce(response_schema, data)
    check_schema(response_schema, value)
    return value


@register
class Schema(PayloadKind):
    """Any value whose interrupt carries a JSON-Schema `response_schema`."""

    name = "schema"
    title = "Fill in a form"
    priority = 900

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return isinstance(response_schema, Mapping) and bool(response_schema)

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        return forms.coerce(response_schema, answer)

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        return schema_quick(response_schema, approve=approve, comment=comment, reviewer=reviewer)


@register
class Json(PayloadKind):
    """Anything else: shown as JSON, answered as typed JSON."""

    name = "json"
    title = "Answer as JSON"
    priority = 1000

    def recognise(self, value: Any, response_schema: Any) -> bool:
        return True

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        return schema_quick(response_schema, approve=approve, comment=comment, reviewer=reviewer)
