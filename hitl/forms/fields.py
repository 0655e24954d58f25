"""The form field model a JSON Schema becomes: `Field` and its `Variant`s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


FieldType = Literal[
    "string", "text", "number", "integer", "boolean", "enum", "array", "object", "union", "json"
]
"""How a field is edited: `text` is a long string (text area); `json` is typed as JSON."""


LONG_TEXT_NAMES = frozenset(
    {"body", "content", "details", "draft", "feedback", "message", "notes", "output", "text"}
)
"""Property names whose strings are edited in a text area rather than a one-line input."""


MAX_DEPTH = 12
"""Fields nested deeper than this are edited as JSON."""


@dataclass(frozen=True, kw_only=True)
class Variant:
    """One branch of a union field."""

    title: str
    """Shown in the type picker: the discriminator value, else the branch's title."""

    schema: Mapping[str, Any]
    """The branch's schema, `$ref`s at its top resolved."""

    value: Any = None
    """The discriminator value that selects this branch; None when not discriminated."""

    field: Field
    """The branch's own field tree (same path as the union field)."""


@dataclass(frozen=True, kw_only=True)
class Field:
    """One form field, derived from a (sub)schema."""

    path: str
    """Dotted path from the root: "args.amount"; array items add "[]" ("lines[].street")."""

    name: str
    """The property name in its parent object ("" for the root and array items)."""

    label: str
    """The schema's `title`, else the property name made readable."""

    type: FieldType
    """Which widget edits it."""

    required: bool = False
    """Listed in the parent's `required`."""

    default: Any = None
    """The schema's `default` (meaningful only when `has_default`)."""

    has_default: bool = False
    """Whether the schema gave a `default` (a default of None is still a default)."""

    description: str = ""
    """The schema's `description`, shown as help text."""

    options: tuple[Any, ...] = ()
    """Allowed values of an `enum` field (a `const` gives one option)."""

    constant: bool = False
    """The value is fixed by `const`; renderers show it rather than ask for it."""

    nullable: bool = False
    """None is allowed (`anyOf` with null, or `type` listing "null")."""

    children: tuple[Field, ...] = ()
    """Properties of an `object` field, in schema order."""

    item: Field | None = None
    """The item field of an `array` field."""

    variants: tuple[Variant, ...] = ()
    """Branches of a `union` field."""

    discriminator: str | None = None
    """The property whose value picks the union branch, when there is one."""

    minimum: float | None = None
    """`minimum` of a number/integer."""

    maximum: float | None = None
    """`maximum` of a number/integer."""

    exclusive_minimum: float | None = None
    """`exclusiveMinimum` of a number/integer (pydantic `gt=`)."""

    exclusive_maximum: float | None = None
    """`exclusiveMaximum` of a number/integer (pydantic `lt=`)."""

    max_length: int | None = None
    """`maxLength` of a string."""

    min_items: int = 0
    """`minItems` of an array."""

    max_items: int | None = None
    """`maxItems` of an array."""

    schema: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The field's schema with top-level `$ref`/`allOf`/optional wrappers resolved."""


def join_path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
