"""Draw a Streamlit form from a JSON Schema (a `response_schema`) and collect its data.

The field model comes from `hitl.forms`; this module only maps each field type to a widget:
text_input / text_area for strings, number_input, checkbox, selectbox for enums (multiselect
for arrays of enums), a selectbox type picker for unions followed by that branch's fields,
a count plus one block per item for arrays, bordered containers for nested objects, and a
JSON text area for anything else. Widgets only (no buttons), so the form also works inside
`st.form`. Every widget key starts with `key`. Titles, descriptions and enum options come from
a payload's schema, so they are shown as text: labels and help through the desk's one markdown
sanitiser (`hitl.ui.text.escape_markdown`: no link, heading, icon or HTML survives), options
(plain text in a selectbox) with invisible characters written out as `[U+200B]`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import streamlit as st

from hitl import forms
from hitl.ui.text import escape_markdown, hidden_note, json_escape_hidden, shorten, visible_controls

__all__ = ["render_schema_form", "show_field_errors", "widget_key"]

def _md(text: Any) -> str:
    """One line of schema text (a title, a message) shown literally in a label or caption."""
    return escape_markdown(text, single_line=True)


def _help(text: Any) -> str:
    """A description for a widget's help tooltip: literal, line breaks kept."""
    return escape_markdown(text)


def _option(value: Any) -> str:
    """An option as plain text (selectbox options are not markdown), invisible characters shown."""
    return "—" if value is None else visible_controls(value)


def _flag_hidden(text: str, label: str) -> None:
    """A text field's value is the agent's exact text; say so when it holds invisible characters."""
    note = hidden_note(text, what=f"The value of {label}")
    if note:
        st.warning(_md(f"{note} The field holds the exact text; with them shown it reads: "
                       f"{shorten(visible_controls(text), 300)}"), icon=":material/visibility:")


def widget_key(key: str, path: str) -> str:
    """The widget key of the field at `path` ("" is the root) in the form `key`.

    Paths are concrete: array items are numbered ("lines[0].street") and the fields of a
    union branch follow "@<branch title>" ("pay@bank.iban").
    """
    return f"{key}:{path or '$'}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _clamp(value: Any, low: Any, high: Any) -> Any:
    if value is None:
        return None
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


class _Form:
    def __init__(self, schema: Mapping[str, Any], key: str, errors: Mapping[str, str] | None = None,
                 shown: set[str] | None = None, prefix: str = "") -> None:
        self.schema = schema
        self.key = key
        self.errors = errors or {}
        self.shown = shown if shown is not None else set()
        self.prefix = prefix

    def render(
        self,
        field: forms.Field,
        current: Any,
        *,
        path: str,
        label: str | None = None,
        flat: bool = False,
        hide: str | None = None,
        data: str | None = None,
    ) -> Any:
        """Draw `field` at widget path `path` (data path `data`, the same unless inside a
        union branch), then the error about exactly that data path, under its widget."""
        data = path if data is None else data
        value = self._render(field, current, path=path, label=label, flat=flat, hide=hide, data=data)
        self._error(data)
        return value

    def _error(self, data: str) -> None:
        full = f"{self.prefix}.{data}" if self.prefix and data else (self.prefix or data)
        if full in self.errors and full not in self.shown:
            self.shown.add(full)
            where = data or self.prefix
            st.error(_md(f"{where}: {self.errors[full]}" if where else self.errors[full]), icon="⚠️")

    def _render(
        self,
        field: forms.Field,
        current: Any,
        *,
        path: str,
        label: str | None,
        flat: bool,
        hide: str | None,
        data: str,
    ) -> Any:
        raw_label = label or field.label
        label = _md(raw_label)
        help_text = _help(field.description) if field.description else None
        wkey = widget_key(self.key, path)

        if field.constant:
            if hide is None:
                st.caption(f"{label}: {_md(field.options[0])}")
            return field.options[0]

        optional_block = field.nullable and not field.required and field.type in ("object", "union")
        if optional_block:
            include = st.checkbox(f"Include {label}", value=current is not None,
                                  key=f"{wkey}#include", help=help_text)
            if not include:
                return None
            if current is None:
                current = forms.field_default(_not_null(field))

        if field.type == "boolean":
            return st.checkbox(label, value=bool(current), key=wkey, help=help_text)
        if field.type in ("string", "text"):
            text = "" if current is None else str(current)
            if field.type == "text" or "\n" in text or len(text) > 200:
                typed = st.text_area(label, value=text, key=wkey, help=help_text,
                                     max_chars=field.max_length)
            else:
                typed = st.text_input(label, value=text, key=wkey, help=help_text,
                                      max_chars=field.max_length)
            _flag_hidden(typed, raw_label)
            return typed
        if field.type in ("number", "integer"):
            return self._number(field, current, label=label, help_text=help_text, wkey=wkey)
        if field.type == "enum":
            options = list(field.options)
            if field.nullable or (not field.required and not field.has_default):
                options.insert(0, None)
            index = next((i for i, option in enumerate(options) if option == current), 0)
            return st.selectbox(label, options, index=index, key=wkey, help=help_text, format_func=_option)
        if field.type == "object":
            return self._object(field, current, path=path, label=label, help_text=help_text,
                                flat=flat, hide=hide, data=data)
        if field.type == "array":
            return self._array(field, current, path=path, label=label, help_text=help_text,
                               wkey=wkey, raw_label=raw_label, data=data)
        if field.type == "union":
            return self._union(field, current, path=path, label=label, help_text=help_text,
                               wkey=wkey, flat=flat, raw_label=raw_label, data=data)
        return self._json(field, current, label=label, help_text=help_text, wkey=wkey)

    def _number(
        self, field: forms.Field, current: Any, *, label: str, help_text: str | None, wkey: str
    ) -> Any:
        cast = int if field.type == "integer" else float
        low = cast(field.minimum) if field.minimum is not None else None
        high = cast(field.maximum) if field.maximum is not None else None
        value = cast(current) if _is_number(current) else None
        return st.number_input(
            label,
            value=_clamp(value, low, high),
            min_value=low,
            max_value=high,
            step=1 if field.type == "integer" else None,
            key=wkey,
            help=help_text,
        )

    def _object(
        self,
        field: forms.Field,
        current: Any,
        *,
        path: str,
        label: str,
        help_text: str | None,
        flat: bool,
        hide: str | None,
        data: str,
    ) -> dict[str, Any]:
        current = current if isinstance(current, Mapping) else {}
        names = {child.name for child in field.children}
        # Keys the schema does not list (additionalProperties) pass through untouched.
        values: dict[str, Any] = {k: v for k, v in current.items() if k not in names}
        box = st.container() if flat or not path else st.container(border=True)
        with box:
            if not flat and path:
                st.caption(label + (f" — {help_text}" if help_text else ""))
            for child in field.children:
                child_current = current.get(child.name, forms.field_default(child))
                values[child.name] = self.render(
                    child, child_current, path=f"{path}.{child.name}" if path else child.name,
                    hide=hide if child.name == hide else None,
                    data=f"{data}.{child.name}" if data else child.name,
                )
        return values

    def _array(
        self,
        field: forms.Field,
        current: Any,
        *,
        path: str,
        label: str,
        help_text: str | None,
        wkey: str,
        raw_label: str,
        data: str,
    ) -> list[Any]:
        items = list(current) if isinstance(current, (list, tuple)) else []
        item = field.item
        if item is None:
            return items
        if item.type == "enum" and not item.constant:
            chosen = [v for v in items if v in item.options]
            return st.multiselect(label, list(item.options), default=chosen, key=wkey,
                                  help=help_text, format_func=_option)
        count = st.number_input(
            f"{label}: number of items",
            min_value=field.min_items,
            max_value=field.max_items,
            value=_clamp(len(items), field.min_items, field.max_items),
            step=1,
            key=f"{wkey}#count",
            help=help_text,
        )
        values: list[Any] = []
        if not count:
            return values
        with st.container(border=True):
            for index in range(int(count)):
                item_current = items[index] if index < len(items) else forms.field_default(item)
                values.append(self.render(item, item_current, path=f"{path}[{index}]",
                                          label=f"{raw_label} {index + 1}", data=f"{data}[{index}]"))
        return values

    def _union(
        self,
        field: forms.Field,
        current: Any,
        *,
        path: str,
        label: str,
        help_text: str | None,
        wkey: str,
        flat: bool,
        raw_label: str,
        data: str,
    ) -> Any:
        titles = [variant.title for variant in field.variants]
        matched = forms.pick_variant(field, current, self.schema)
        box = st.container() if flat or not path else st.container(border=True)
        with box:
            index = st.selectbox(
                f"{label}: type",
                range(len(titles)),
                index=matched or 0,
                format_func=lambda i: visible_controls(titles[i]),
                key=f"{wkey}#variant",
                help=help_text,
            )
            if field.discriminator:  # the branch hides its discriminator: its error goes under the picker
                self._error(f"{data}.{field.discriminator}" if data else field.discriminator)
            variant = field.variants[index]
            start = current if index == matched else forms.field_default(variant.field)
            return self.render(variant.field, start, path=f"{path}@{variant.title}", flat=True,
                               label=raw_label, hide=field.discriminator, data=data)

    def _json(
        self, field: forms.Field, current: Any, *, label: str, help_text: str | None, wkey: str
    ) -> Any:
        # Invisible characters as \\u escapes: visible, and the JSON still parses to the same strings.
        text = "" if current is None else json_escape_hidden(json.dumps(current, indent=2, ensure_ascii=False,
                                                                        default=str))
        raw = st.text_area(f"{label} (JSON)", value=text, key=wkey, help=help_text)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            st.error(_md(f"{field.label}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})"))
            return raw


def _not_null(field: forms.Field) -> forms.Field:
    return replace(field, nullable=False, has_default=False, default=None)


def render_schema_form(
    schema: Mapping[str, Any], *, key: str, initial: Any = None, errors: Mapping[str, str] | None = None,
    shown: set[str] | None = None, prefix: str = "",
) -> Any:
    """Draw widgets for a JSON Schema and return the data they hold.

    Args:
        schema: the JSON Schema (e.g. an interrupt's `response_schema`).
        key: prefix of every widget key, unique per form on the page.
        initial: starting data; the schema's defaults when None.
        errors: {data path: message} of a refused answer (`hitl.forms.validate` paths, each
            under `prefix` when given); each is drawn once, under the widget of its field.
        shown: collects the paths of the errors drawn (the caller shows the rest elsewhere).
        prefix: where the form's data sits in the answer the errors are about ("[0].args").

    Returns:
        The collected data, coerced to the schema's types (`hitl.forms.coerce`): a dict for
        object schemas. Validate it with `hitl.forms.validate` and show the result with
        `show_field_errors`.
    """
    schema = schema if isinstance(schema, Mapping) else {}
    root = forms.field_for(schema)
    start = initial if initial is not None else forms.default_value(schema)
    raw = _Form(schema, key, errors, shown, prefix).render(root, start, path="")
    return forms.coerce(schema, raw)


_ABSENT = object()


def keep_untouched(original: Any, shown: Any, edited: Any) -> Any:
    """`edited` (a form's data) with every field the reviewer left as the form first showed
    it (`shown`) put back as `original` had it: the checkpoint's own value (a None stays
    None, not ""), and a key the form only filled with its default stays absent. Fields the
    reviewer changed are theirs; a key the form cannot show (e.g. a None it drops) is kept."""
    if not (isinstance(original, Mapping) and isinstance(shown, Mapping) and isinstance(edited, Mapping)):
        return original if original is not _ABSENT and edited == shown else edited
    out: dict[str, Any] = {}
    for key in dict.fromkeys([*original, *edited]):
        if key in edited:
            if key in shown and edited[key] == shown[key]:
                if key in original:
                    out[key] = original[key]
                continue  # a default the form filled in: left out, as the agent sent it
            out[key] = keep_untouched(original.get(key, _ABSENT), shown.get(key, _ABSENT), edited[key])
        elif key not in shown:
            out[key] = original[key]
    return out


def show_field_errors(errors: Mapping[str, str]) -> None:
    """Show validation errors, one `st.error` per field ("path: message")."""
    for path, message in errors.items():
        st.error(_md(f"{path}: {message}" if path else message))
