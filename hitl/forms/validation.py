"""Validate an answer against its JSON Schema: one message per field path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
import jsonschema
from jsonschema.exceptions import ValidationError
from hitl.forms.fields import join_path


def error_path(parts: Any) -> str:
    """Format a jsonschema path (deque of keys and indexes) as "a.b[0].c"."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = join_path(out, str(part))
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
