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
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema
from jsonschema.exceptions import ValidationError

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

FieldType = Literal[
    "string", "text", "number", "integer", "boolean", "enum", "array", "object", "union", "json"
]
"""How a field is edited: `text` is a long string (text area); `json` is typed as JSON."""

LONG_TEXT_NAMES = frozenset(
    {"body", "content", "details", "draft", "feedback", "message", "notes", "output", "text"}
)
"""Property names whose strings are edited in a text area rather than a one-line input."""

_MAX_DEPTH = 12
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


# --------------------------------------------------------------------------- $ref


def _pointer(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for raw in ref[1:].lstrip("/").split("/") if ref not in ("#", "#/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, Mapping) else None


def resolve(
    root: Mapping[str, Any], schema: Any, seen: tuple[str, ...] = ()
) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """Follow local `$ref`s (and single-item `allOf`) at the top of `schema`.

    Sibling keywords next to a `$ref` (pydantic puts `default`, `description` there)
    override the target's.

    Args:
        root: the whole schema, where `#/...` pointers start.
        schema: the subschema to resolve.
        seen: refs already followed on the way down; meeting one again means recursion.

    Returns:
        (resolved schema, refs followed including `seen`), or None when a ref is
        recursive, not local, or dangling.
    """
    if not isinstance(schema, Mapping):
        return None
    current: dict[str, Any] = dict(schema)
    for _ in range(32):
        if isinstance(current.get("$ref"), str):
            ref = current.pop("$ref")
            if ref in seen:
                return None
            target = _pointer(root, ref)
            if target is None:
                return None
            seen = (*seen, ref)
            current = {**target, **current}
            continue
        all_of = current.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], Mapping):
            current.pop("allOf")
            current = {**all_of[0], **current}
            continue
        return current, seen
    return None


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Value"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _is_null(schema: Any) -> bool:
    return isinstance(schema, Mapping) and (
        schema.get("type") == "null" or ("const" in schema and schema["const"] is None)
    )


# --------------------------------------------------------------------------- field tree


class _Builder:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def build(
        self,
        schema: Any,
        *,
        path: str,
        name: str,
        required: bool,
        seen: tuple[str, ...],
        depth: int,
        label: str | None = None,
        nullable: bool = False,
    ) -> Field:
        own = schema if isinstance(schema, Mapping) else {}
        label = label or own.get("title") or (_humanize(name) if name else None)
        resolved = resolve(self.root, schema, seen)
        if resolved is None or depth > _MAX_DEPTH:
            # Recursive, remote or dangling refs, or too deep to draw: edit as JSON.
            return self._json(own, path=path, name=name, label=label, required=required,
                              nullable=nullable)
        spec, seen = resolved
        label = label or spec.get("title") or "Value"
        common: dict[str, Any] = {
            "path": path,
            "name": name,
            "label": str(label),
            "required": required,
            "description": str(spec.get("description") or ""),
            "schema": spec,
        }
        if "default" in spec:
            common["default"] = spec["default"]
            common["has_default"] = True

        # Optional[X] / unions
        branches_key = next((k for k in ("oneOf", "anyOf") if isinstance(spec.get(k), list)), None)
        if branches_key is not None:
            branches = [b for b in spec[branches_key] if isinstance(b, Mapping)]
            non_null = [b for b in branches if not _is_null(b)]
            is_nullable = nullable or len(non_null) < len(branches)
            if len(non_null) == 1:
                inner = {k: v for k, v in spec.items() if k not in ("oneOf", "anyOf")}
                merged = {**non_null[0], **{k: v for k, v in inner.items() if k != "discriminator"}}
                if "$ref" in non_null[0]:
                    merged = {**inner, "$ref": non_null[0]["$ref"]}
                return self.build(merged, path=path, name=name, required=required, seen=seen,
                                  depth=depth, label=own.get("title") or label,
                                  nullable=is_nullable)
            if non_null:
                return self._union(spec, non_null, common, seen=seen, depth=depth,
                                   nullable=is_nullable)

        all_of = spec.get("allOf")
        if isinstance(all_of, list):
            merged_obj = self._merge_all_of(spec, all_of, seen)
            if merged_obj is None:
                return self._json(spec, nullable=nullable, **common)
            return self.build(merged_obj, path=path, name=name, required=required, seen=seen,
                              depth=depth, label=label, nullable=nullable)

        if "const" in spec:
            return Field(type="enum", options=(spec["const"],), constant=True,
                         nullable=nullable, **{**common, "default": spec["const"],
                                               "has_default": True})
        if isinstance(spec.get("enum"), list):
            options = tuple(v for v in spec["enum"] if v is not None)
            return Field(type="enum", options=options,
                         nullable=nullable or len(options) < len(spec["enum"]), **common)

        types = spec.get("type")
        if isinstance(types, list):
            non_null_types = [t for t in types if t != "null"]
            nullable = nullable or len(non_null_types) < len(types)
            if len(non_null_types) == 1:
                types = non_null_types[0]
            elif non_null_types:
                branches = [{**spec, "type": t} for t in non_null_types]
                return self._union(spec, branches, common, seen=seen, depth=depth,
                                   nullable=nullable)
            else:
                types = None
        if types is None and isinstance(spec.get("properties"), Mapping):
            types = "object"

        if types == "string":
            long_text = (
                spec.get("format") == "textarea"
                or (isinstance(spec.get("maxLength"), int) and spec["maxLength"] > 200)
                or (name in LONG_TEXT_NAMES and not isinstance(spec.get("maxLength"), int))
            )
            max_length = spec.get("maxLength") if isinstance(spec.get("maxLength"), int) else None
            return Field(type="text" if long_text else "string", nullable=nullable,
                         max_length=max_length, **common)
        if types in ("number", "integer"):
            return Field(type=types, nullable=nullable, minimum=_bound(spec, "minimum"),
                         maximum=_bound(spec, "maximum"), exclusive_minimum=_bound(spec, "exclusiveMinimum"),
                         exclusive_maximum=_bound(spec, "exclusiveMaximum"), **common)
        if types == "boolean":
            return Field(type="boolean", nullable=nullable, **common)
        if types == "array":
            items = spec.get("items")
            if not isinstance(items, Mapping) or "prefixItems" in spec:
                return self._json(spec, nullable=nullable, **common)
            item = self.build(items, path=f"{path}[]", name="", required=True, seen=seen,
                              depth=depth + 1, label=f"{label} item")
            min_items = spec.get("minItems") if isinstance(spec.get("minItems"), int) else 0
            max_items = spec.get("maxItems") if isinstance(spec.get("maxItems"), int) else None
            return Field(type="array", item=item, nullable=nullable, min_items=min_items,
                         max_items=max_items, **common)
        if types == "object":
            properties = spec.get("properties")
            if not isinstance(properties, Mapping) or not properties:
                return self._json(spec, nullable=nullable, **common)
            required_names = spec.get("required") if isinstance(spec.get("required"), list) else []
            children = tuple(
                self.build(sub, path=_join(path, str(key)), name=str(key),
                           required=key in required_names, seen=seen, depth=depth + 1)
                for key, sub in properties.items()
            )
            return Field(type="object", children=children, nullable=nullable, **common)
        return self._json(spec, nullable=nullable, **common)

    def _json(
        self,
        spec: Mapping[str, Any],
        *,
        path: str,
        name: str,
        label: str | None,
        required: bool,
        nullable: bool,
        description: str | None = None,
        schema: Mapping[str, Any] | None = None,
        default: Any = None,
        has_default: bool = False,
    ) -> Field:
        if "default" in spec and not has_default:
            default, has_default = spec["default"], True
        return Field(
            type="json",
            path=path,
            name=name,
            label=str(label or "Value"),
            required=required,
            nullable=nullable,
            description=str(description if description is not None else
                            spec.get("description") or ""),
            default=default,
            has_default=has_default,
            schema=schema if schema is not None else spec,
        )

    def _merge_all_of(
        self, spec: Mapping[str, Any], parts: list[Any], seen: tuple[str, ...]
    ) -> dict[str, Any] | None:
        merged: dict[str, Any] = {k: v for k, v in spec.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or [])
        for part in parts:
            resolved = resolve(self.root, part, seen)
            if resolved is None:
                return None
            sub, _ = resolved
            if not (sub.get("type") == "object" or isinstance(sub.get("properties"), Mapping)):
                return None
            properties.update(sub.get("properties") or {})
            required.extend(r for r in sub.get("required") or [] if r not in required)
        merged.update(type="object", properties=properties, required=required)
        return merged

    def _union(
        self,
        spec: Mapping[str, Any],
        branches: list[Mapping[str, Any]],
        common: dict[str, Any],
        *,
        seen: tuple[str, ...],
        depth: int,
        nullable: bool,
    ) -> Field:
        resolved_branches: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
        for branch in branches:
            resolved = resolve(self.root, branch, seen)
            resolved_branches.append((branch, resolved[0] if resolved else dict(branch)))

        discriminator, values = self._discriminator(spec, resolved_branches)
        variants = []
        for index, (branch, resolved) in enumerate(resolved_branches):
            value = values[index] if discriminator else None
            sub_field = self.build(branch, path=common["path"], name=common["name"],
                                   required=True, seen=seen, depth=depth + 1,
                                   label=common["label"])
            title = (
                str(value) if discriminator else
                str(resolved.get("title") or _type_title(resolved) or f"Option {index + 1}")
            )
            variants.append(Variant(title=title, schema=resolved, value=value, field=sub_field))
        return Field(type="union", variants=tuple(variants), discriminator=discriminator,
                     nullable=nullable, **common)

    @staticmethod
    def _discriminator(
        spec: Mapping[str, Any], branches: list[tuple[Mapping[str, Any], dict[str, Any]]]
    ) -> tuple[str | None, list[Any]]:
        declared = spec.get("discriminator")
        prop_name = None
        if isinstance(declared, Mapping) and isinstance(declared.get("propertyName"), str):
            prop_name = declared["propertyName"]
            mapping = declared.get("mapping")
            mapping = mapping if isinstance(mapping, Mapping) else {}
            by_ref = {ref: value for value, ref in mapping.items()}
            values = []
            for branch, resolved in branches:
                value = by_ref.get(branch.get("$ref")) if "$ref" in branch else None
                if value is None:
                    value = _const_of(resolved, prop_name)
                values.append(value)
            if all(v is not None for v in values) and len(set(map(repr, values))) == len(values):
                return prop_name, values
        # No declared discriminator: a property every branch pins to a distinct const.
        if not all(isinstance(r.get("properties"), Mapping) for _, r in branches):
            return None, []
        candidates = [k for k in branches[0][1]["properties"] if k != prop_name] if branches else []
        if prop_name:
            candidates.insert(0, prop_name)
        for key in candidates:
            values = [_const_of(resolved, key) for _, resolved in branches]
            if all(v is not None for v in values) and len(set(map(repr, values))) == len(values):
                return key, values
        return None, []


def _bound(spec: Mapping[str, Any], key: str) -> float | None:
    value = spec.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _const_of(schema: Mapping[str, Any], key: str) -> Any:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return None
    prop = properties.get(key)
    if not isinstance(prop, Mapping):
        return None
    if "const" in prop:
        return prop["const"]
    enum = prop.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return enum[0]
    return None


def _type_title(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    return kind if isinstance(kind, str) else None


def field_for(schema: Mapping[str, Any] | None) -> Field:
    """The root field of a JSON Schema (an `object` field for object schemas).

    Never raises: anything unusable becomes a `json` field.
    """
    root = schema if isinstance(schema, Mapping) else {}
    try:
        return _Builder(root).build(root, path="", name="", required=True, seen=(), depth=0)
    except Exception:
        return Field(path="", name="", label=str(root.get("title") or "Value"), type="json",
                     required=True, schema=root)


def fields_for(schema: Mapping[str, Any] | None) -> list[Field]:
    """The top-level fields of a JSON Schema.

    An object schema gives its properties; any other schema gives one field with path "".
    """
    root = field_for(schema)
    return list(root.children) if root.type == "object" else [root]


# --------------------------------------------------------------------------- defaults


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


# --------------------------------------------------------------------------- coerce


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


# --------------------------------------------------------------------------- validate


def error_path(parts: Any) -> str:
    """Format a jsonschema path (deque of keys and indexes) as "a.b[0].c"."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = _join(out, str(part))
    return out


def _branch_errors(error: ValidationError) -> list[ValidationError] | None:
    """For a failed oneOf/anyOf, the errors of the one branch the data meant, if clear."""
    by_branch: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        by_branch.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)

    def mismatched(errors: list[ValidationError]) -> bool:
        # The wrong branch: a const/enum on one of its own properties (the discriminator)
        # failed, or the value is not even of the branch's type.
        return any(
            (e.validator in ("const", "enum") and len(e.relative_path) == 1)
            or (e.validator == "type" and not e.relative_path)
            for e in errors
        )

    candidates = [errors for errors in by_branch.values() if not mismatched(errors)]
    if len(candidates) == 1:
        return candidates[0]
    return None


def _collect(error: ValidationError, out: dict[str, str], depth: int = 0) -> None:
    if error.validator in ("oneOf", "anyOf") and error.context and depth < 16:
        branch = _branch_errors(error)
        if branch is not None:
            for sub in branch:
                _collect(sub, out, depth + 1)
            return
        message = "does not match any of the allowed shapes"
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, Mapping) and isinstance(discriminator.get("mapping"), Mapping):
            allowed = ", ".join(repr(v) for v in discriminator["mapping"])
            key = discriminator.get("propertyName")
            if isinstance(error.instance, Mapping) and key:
                path = error_path([*error.absolute_path, key])
                if key in error.instance:
                    got = error.instance[key]
                    out.setdefault(path, f"must be one of {allowed}; got {got!r}")
                else:
                    out.setdefault(path, f"is required: choose one of {allowed}")
                return
            message = f"must be an object with {key!r} one of {allowed}"
        out.setdefault(error_path(error.absolute_path), message)
        return
    if error.validator == "required" and isinstance(error.instance, Mapping):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        for name in required:
            if name not in error.instance:
                out.setdefault(error_path([*error.absolute_path, name]), "is required")
        return
    out.setdefault(error_path(error.absolute_path), error.message)


def validate(schema: Mapping[str, Any] | None, data: Any) -> dict[str, str]:
    """Check `data` against a JSON Schema (Draft 2020-12 unless `$schema` says otherwise).

    Returns:
        {field path: message}; empty when valid. A missing required property is reported
        at its own path ("args.to": "is required"); a union reports the errors of the
        branch the data's discriminator picks.
    """
    if not isinstance(schema, Mapping):
        return {}
    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path)))
    except jsonschema.SchemaError as exc:
        return {"": f"the response schema itself is invalid ({exc.message}); "
                    "fix the schema the graph passes to interrupt()"}
    except Exception as exc:  # unresolvable $ref and similar: report, do not crash
        return {"": f"could not validate against the response schema: {exc}"}
    out: dict[str, str] = {}
    for error in errors:
        _collect(error, out)
    return out
