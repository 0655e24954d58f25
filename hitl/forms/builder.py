"""JSON Schema -> `Field` tree (`field_for`): what a generated form draws."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from hitl.forms.fields import LONG_TEXT_NAMES, MAX_DEPTH, Field, Variant, join_path
from hitl.forms.refs import is_null_schema, resolve


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Value"


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
        if resolved is None or depth > MAX_DEPTH:
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

        field = self._combination(spec, own, common, path=path, name=name, required=required, seen=seen, depth=depth,
                                  label=label, nullable=nullable)  # fmt: skip
        if field is not None:
            return field
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

        return self._of_type(types, spec, common, path=path, name=name, label=label, seen=seen, depth=depth,
                             nullable=nullable)  # fmt: skip

    def _combination(
        self,
        spec: Mapping[str, Any],
        own: Mapping[str, Any],
        common: dict[str, Any],
        *,
        path: str,
        name: str,
        required: bool,
        seen: tuple[str, ...],
        depth: int,
        label: Any,
        nullable: bool,
    ) -> Field | None:
        """The field of a `oneOf`/`anyOf` (Optional[X] included) or `allOf` schema; None for others."""
        # Optional[X] / unions
        branches_key = next((k for k in ("oneOf", "anyOf") if isinstance(spec.get(k), list)), None)
        if branches_key is not None:
            branches = [b for b in spec[branches_key] if isinstance(b, Mapping)]
            non_null = [b for b in branches if not is_null_schema(b)]
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

        return None

    def _of_type(
        self,
        types: Any,
        spec: Mapping[str, Any],
        common: dict[str, Any],
        *,
        path: str,
        name: str,
        label: Any,
        seen: tuple[str, ...],
        depth: int,
        nullable: bool,
    ) -> Field:
        """The field of a schema of one JSON type (JSON text for what has no widget)."""
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
                self.build(sub, path=join_path(path, str(key)), name=str(key),
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
