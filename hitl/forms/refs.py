"""Resolving a JSON Schema's local `$ref`s, guarding against cycles and remote refs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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


def is_null_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and (
        schema.get("type") == "null" or ("const" in schema and schema["const"] is None)
    )
