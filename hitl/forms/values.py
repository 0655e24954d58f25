"""Values for a form: defaults, the variant a value matches, and coercing typed input to the schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any
from hitl.forms.builder import field_for
from hitl.forms.fields import Field, Variant
from hitl.forms.validation import validate


def field_default(f: Field) -> Any:
    """A starting value for one field (see `default_value`)."""
    if f.has_default:
        return copy.deepcopy(f.default)
    if f.nullable and not f.required:
        return None
    if f.type in ("string", "text"):
        return ""
    if f.type in ("number", "integer"):
        # Zero where the schema allows it; else empty (the form then says it is required),
        # never a bound the reviewer did not choose.
        return (0 if f.type == "integer" else 0.0) if _allows(f, 0) else None
    if f.type == "boolean":
        return False
    if f.type == "enum":
        return f.options[0] if f.options else None
    if f.type == "array":
        return [field_default(f.item) for _ in range(f.min_items)] if f.item else []
    if f.type == "object":
        return {c.name: field_default(c) for c in f.children if c.required or c.has_default}
    if f.type == "union":
        return field_default(f.variants[0].field) if f.variants else None
    return None


def _allows(f: Field, number: float) -> bool:
    """Whether `number` is within the field's bounds."""
    return not (
        (f.minimum is not None and number < f.minimum)
        or (f.maximum is not None and number > f.maximum)
        or (f.exclusive_minimum is not None and number <= f.exclusive_minimum)
        or (f.exclusive_maximum is not None and number >= f.exclusive_maximum)
    )


def default_value(schema: Mapping[str, Any] | None) -> Any:
    """A starting value for a form: schema defaults, else an empty value of each type.

    Objects include their required properties and those with a default.
    """
    return field_default(field_for(schema))


def _with_defs(root: Mapping[str, Any], sub: Mapping[str, Any]) -> dict[str, Any]:
    """`sub` made standalone: the root's `$defs`/`definitions` added for its `$ref`s."""
    extra = {k: root[k] for k in ("$defs", "definitions") if k in root and k not in sub}
    return {**sub, **extra}


def pick_variant(f: Field, value: Any, schema: Mapping[str, Any] | None) -> int | None:
    """Index of the union branch `value` belongs to (by discriminator, else by validating).

    Args:
        f: a `union` field.
        value: the current value.
        schema: the root schema the field came from (for its `$defs`).

    Returns:
        The index into `f.variants`, or None when no branch fits.
    """
    if not f.variants:
        return None
    if f.discriminator and isinstance(value, Mapping) and f.discriminator in value:
        for index, variant in enumerate(f.variants):
            if variant.value == value[f.discriminator]:
                return index
        return None
    root = schema if isinstance(schema, Mapping) else {}
    for index, variant in enumerate(f.variants):
        if not validate(_with_defs(root, variant.schema), value):
            return index
    return None


def _variant_for(f: Field, raw: Any, root: Mapping[str, Any]) -> Variant | None:
    index = pick_variant(f, raw, root)
    return None if index is None else f.variants[index]


def _coerce(f: Field, raw: Any, root: Mapping[str, Any]) -> Any:
    if f.type == "json" and isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return raw
    if f.type == "integer":
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw)
        return raw
    if f.type == "number":
        if isinstance(raw, str):
            try:
                return float(raw)
            except ValueError:
                return raw
        return raw
    if f.type == "boolean" and isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if f.type == "array" and isinstance(raw, list) and f.item is not None:
        return [_coerce(f.item, item, root) for item in raw]
    if f.type == "object" and isinstance(raw, Mapping):
        out: dict[str, Any] = {}
        known = {c.name: c for c in f.children}
        for key, value in raw.items():
            child = known.get(key)
            if child is None:
                out[key] = value
                continue
            value = _coerce(child, value, root)
            if not child.required and (value is None and not child.has_default
                                       or value == "" and child.type in ("string", "text")):
                continue  # an empty optional field means "not given"
            if value is None and child.required and not child.nullable and child.type in ("number", "integer"):
                continue  # an empty required number is missing: "is required", not "None is not a number"
            out[key] = value
        return out
    if f.type == "union":
        variant = _variant_for(f, raw, root)
        return _coerce(variant.field, raw, root) if variant else raw
    return raw


def coerce(schema: Mapping[str, Any] | None, raw: Any) -> Any:
    """Turn raw form values into schema-typed data.

    Parses JSON text of `json` fields, turns whole floats into ints for integer fields and
    numeric strings into numbers, and drops optional properties left empty (None, or "" for
    strings). Values that cannot be converted are kept as they are, for `validate` to report.
    Never raises.
    """
    root = schema if isinstance(schema, Mapping) else {}
    try:
        return _coerce(field_for(root), raw, root)
    except Exception:
        return raw
