"""JSON Schema -> form field model, plus validation and coercion of form data.

`field_for(schema)` turns a `response_schema` (as LangGraph surfaces it: a JSON Schema dict,
often emitted by pydantic) into a tree of frozen `Field`s that a renderer (`hitl.ui.schema_form`)
draws as widgets. `validate(schema, data)` checks data with `jsonschema` and reports one
message per field path ("args.amount", "lines[0].street", "" for the whole value).

Supported: string, number, integer, boolean, enum/const (Literal, Enum), arrays (of scalars
and of objects), nested objects, local `$ref`s into `$defs`/`definitions` (recursive refs are
cut to a JSON field), `anyOf`/`type: [..., "null"]` optionals, `oneOf`/`anyOf` unions
(discriminated by `discriminator.propertyName`/`mapping` or by a `const` property), and
`allOf`. Anything else becomes a `json` field edited as JSON text. Nothing here raises on
a strange schema; it degrades to `json`.

The package: `values` (defaults, variants, coercion) -> `validation` -> `builder` (schema ->
`Field` tree) -> `refs` (`$ref` resolution) -> `fields` (the model).
"""

from __future__ import annotations

from hitl.forms.builder import field_for, fields_for
from hitl.forms.fields import LONG_TEXT_NAMES, Field, FieldType, Variant
from hitl.forms.refs import resolve
from hitl.forms.validation import error_path, validate
from hitl.forms.values import coerce, default_value, field_default, pick_variant

__all__ = [
    "FieldType",
    "Field",
    "Variant",
    "field_for",
    "fields_for",
    "resolve",
    "pick_variant",
    "default_value",
    "field_default",
    "coerce",
    "validate",
    "error_path",
    "LONG_TEXT_NAMES",
]
