"""hitl.forms: JSON Schema -> field tree, defaults, coercion and per-field validation."""

from __future__ import annotations

import enum
from typing import Annotated, Literal, Optional, Union

import pytest
from pydantic import BaseModel, Field

from hitl.forms import (
    coerce,
    default_value,
    field_for,
    fields_for,
    pick_variant,
    resolve,
    validate,
)


class Priority(str, enum.Enum):
    low = "low"
    high = "high"


class Address(BaseModel):
    street: str
    zip: Optional[str] = None


class Card(BaseModel):
    kind: Literal["card"] = "card"
    number: str = Field(description="Card number")


class Bank(BaseModel):
    kind: Literal["bank"]
    iban: str


class Node(BaseModel):
    name: str
    children: list[Node] = []


class Order(BaseModel):
    """An order to approve."""

    title: str = Field(title="Order title", description="Shown to the customer", max_length=50)
    quantity: int = Field(default=1, ge=1, le=10)
    price: float
    priority: Priority = Priority.low
    size: Literal["S", "M", "L"]
    rush: bool = False
    address: Address
    billing: Optional[Address] = None
    lines: list[Address] = []
    tags: list[str] = []
    sizes: list[Literal["S", "M", "L"]] = []
    payment: Annotated[Union[Card, Bank], Field(discriminator="kind")]
    tree: Optional[Node] = None
    note: Optional[int] = None
    meta: dict[str, int] = {}
    message: str = ""


SCHEMA = Order.model_json_schema()


def by_path(fields):
    return {f.path: f for f in fields}


def test_top_level_fields_in_schema_order():
    assert [f.name for f in fields_for(SCHEMA)] == list(Order.model_fields)


def test_scalar_fields():
    fields = by_path(fields_for(SCHEMA))
    title = fields["title"]
    assert (title.type, title.label, title.required, title.max_length) == (
        "string", "Order title", True, 50)
    assert title.description == "Shown to the customer"
    quantity = fields["quantity"]
    assert (quantity.type, quantity.required, quantity.default, quantity.has_default) == (
        "integer", False, 1, True)
    assert (quantity.minimum, quantity.maximum) == (1, 10)
    assert fields["price"].type == "number" and fields["price"].required
    assert fields["rush"].type == "boolean" and fields["rush"].default is False
    assert fields["message"].type == "text"  # long-text names get a text area


def test_enum_fields_from_literal_and_enum():
    fields = by_path(fields_for(SCHEMA))
    assert fields["size"].type == "enum"
    assert fields["size"].options == ("S", "M", "L")
    priority = fields["priority"]
    assert (priority.type, priority.options, priority.default) == ("enum", ("low", "high"), "low")
    assert priority.label == "Priority"


def test_nested_object_via_ref():
    address = by_path(fields_for(SCHEMA))["address"]
    assert address.type == "object" and address.required
    assert [(c.path, c.type, c.required, c.nullable) for c in address.children] == [
        ("address.street", "string", True, False),
        ("address.zip", "string", False, True),
    ]


def test_optional_model_is_nullable_object_labelled_by_property():
    billing = by_path(fields_for(SCHEMA))["billing"]
    assert (billing.type, billing.nullable, billing.required, billing.label) == (
        "object", True, False, "Billing")
    assert billing.has_default and billing.default is None
    assert [c.path for c in billing.children] == ["billing.street", "billing.zip"]


def test_optional_scalar():
    note = by_path(fields_for(SCHEMA))["note"]
    assert (note.type, note.nullable, note.required) == ("integer", True, False)


def test_arrays_of_models_scalars_and_enums():
    fields = by_path(fields_for(SCHEMA))
    lines = fields["lines"]
    assert lines.type == "array"
    assert lines.item.path == "lines[]" and lines.item.type == "object"
    assert [c.path for c in lines.item.children] == ["lines[].street", "lines[].zip"]
    assert fields["tags"].item.type == "string"
    assert fields["sizes"].item.options == ("S", "M", "L")


def test_discriminated_union_from_pydantic():
    payment = by_path(fields_for(SCHEMA))["payment"]
    assert payment.type == "union"
    assert payment.discriminator == "kind"
    assert [(v.title, v.value) for v in payment.variants] == [("card", "card"), ("bank", "bank")]
    card, bank = (v.field for v in payment.variants)
    assert [c.path for c in bank.children] == ["payment.kind", "payment.iban"]
    kind = card.children[0]
    assert kind.constant and kind.options == ("card",)
    assert card.children[1].description == "Card number"


def test_union_discriminated_by_const_without_discriminator_keyword():
    schema = {
        "oneOf": [
            {"type": "object", "title": "Approve",
             "properties": {"type": {"const": "approve"}}, "required": ["type"]},
            {"type": "object", "title": "Reject",
             "properties": {"type": {"const": "reject"}, "message": {"type": "string"}},
             "required": ["type"]},
        ]
    }
    root = field_for(schema)
    assert root.type == "union" and root.discriminator == "type"
    assert [(v.title, v.value) for v in root.variants] == [("approve", "approve"),
                                                           ("reject", "reject")]


def test_plain_union_of_scalars():
    schema = {"anyOf": [{"type": "integer"}, {"type": "string"}], "title": "Id"}
    root = field_for(schema)
    assert root.type == "union" and root.discriminator is None
    assert [v.title for v in root.variants] == ["integer", "string"]


def test_type_list_with_null_is_nullable():
    root = field_for({"type": ["string", "null"]})
    assert (root.type, root.nullable) == ("string", True)


def test_recursive_ref_is_cut_to_json():
    tree = by_path(fields_for(SCHEMA))["tree"]
    assert tree.type == "object"
    children = {c.name: c for c in tree.children}["children"]
    assert children.type == "array"
    assert children.item.type == "json"  # Node inside Node: edited as JSON


def test_self_referencing_ref_does_not_loop():
    schema = {"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}
    assert field_for(schema).type == "json"


def test_allof_single_ref_and_merge():
    schema = {
        "$defs": {"Base": {"type": "object", "properties": {"a": {"type": "string"}},
                           "required": ["a"]}},
        "properties": {
            "one": {"allOf": [{"$ref": "#/$defs/Base"}], "description": "wrapped"},
            "both": {"allOf": [{"$ref": "#/$defs/Base"},
                               {"type": "object", "properties": {"b": {"type": "integer"}}}]},
        },
        "type": "object",
    }
    fields = by_path(fields_for(schema))
    assert fields["one"].type == "object" and fields["one"].description == "wrapped"
    assert [(c.name, c.required) for c in fields["both"].children] == [("a", True), ("b", False)]


def test_unknown_shapes_become_json():
    fields = by_path(fields_for(SCHEMA))
    assert fields["meta"].type == "json"  # dict[str, int]
    assert field_for({}).type == "json"
    assert field_for({"$ref": "https://example.com/remote.json"}).type == "json"
    assert field_for(None).type == "json"
    assert field_for({"type": "array", "prefixItems": [{"type": "string"}]}).type == "json"


def test_non_object_root_is_a_single_field():
    (only,) = fields_for({"type": "boolean", "title": "Approve?"})
    assert (only.path, only.type, only.label) == ("", "boolean", "Approve?")


def test_resolve_merges_ref_siblings():
    root = {"$defs": {"P": {"enum": ["a", "b"], "title": "P"}}}
    resolved, seen = resolve(root, {"$ref": "#/$defs/P", "default": "b"})
    assert resolved == {"enum": ["a", "b"], "title": "P", "default": "b"}
    assert seen == ("#/$defs/P",)
    assert resolve(root, {"$ref": "#/$defs/P"}, seen) is None  # recursion


def test_default_value():
    value = default_value(SCHEMA)
    assert value == {
        "title": "",
        "quantity": 1,
        "price": 0.0,
        "priority": "low",
        "size": "S",
        "rush": False,
        "address": {"street": "", "zip": None},
        "billing": None,
        "lines": [],
        "tags": [],
        "sizes": [],
        "payment": {"kind": "card", "number": ""},
        "tree": None,
        "note": None,
        "meta": {},
        "message": "",
    }
    assert Order.model_validate(value | {"size": "M"}).payment.kind == "card"


def test_validate_accepts_valid_data():
    data = Order(title="t", price=2.5, size="M", address=Address(street="Main"),
                 payment=Bank(kind="bank", iban="DE00")).model_dump(mode="json")
    assert validate(SCHEMA, data) == {}


def test_validate_reports_per_field_errors():
    errors = validate(
        SCHEMA,
        {
            "title": "x" * 51,
            "quantity": 0,
            "price": "cheap",
            "size": "XL",
            "address": {},
            "lines": [{"street": 1}],
            "payment": {"kind": "bank"},
        },
    )
    assert errors == {
        "title": f"'{'x' * 51}' is too long",
        "quantity": "0 is less than the minimum of 1",
        "price": "'cheap' is not of type 'number'",
        "size": "'XL' is not one of ['S', 'M', 'L']",
        "address.street": "is required",
        "lines[0].street": "1 is not of type 'string'",
        "payment.iban": "is required",
    }


def test_validate_union_with_unknown_or_missing_discriminator():
    base = {"title": "t", "price": 1, "size": "S", "address": {"street": "s"}}
    assert validate(SCHEMA, base | {"payment": {"kind": "cash"}}) == {
        "payment.kind": "must be one of 'bank', 'card'; got 'cash'"
    }
    assert validate(SCHEMA, base | {"payment": {"iban": "x"}}) == {
        "payment.kind": "is required: choose one of 'bank', 'card'"
    }


def test_validate_invalid_schema_is_reported_not_raised():
    errors = validate({"type": "no-such-type"}, 1)
    assert list(errors) == [""]
    assert "response schema itself is invalid" in errors[""]


def test_coerce_form_values():
    raw = {
        "title": "t",
        "quantity": 3.0,
        "price": "9.5",
        "size": "S",
        "address": {"street": "Main", "zip": ""},
        "payment": {"kind": "bank", "iban": "DE00"},
        "meta": '{"a": 1}',
        "message": "",
        "extra": "kept",
    }
    assert coerce(SCHEMA, raw) == {
        "title": "t",
        "quantity": 3,
        "price": 9.5,
        "size": "S",
        "address": {"street": "Main"},
        "payment": {"kind": "bank", "iban": "DE00"},
        "meta": {"a": 1},
        "extra": "kept",
    }


def test_coerce_keeps_unparseable_values_for_validate_to_report():
    data = coerce(SCHEMA, {"price": "cheap", "meta": "{oops"})
    assert data == {"price": "cheap", "meta": "{oops"}
    errors = validate(SCHEMA, data)
    assert errors["price"] == "'cheap' is not of type 'number'"
    assert errors["meta"] == "'{oops' is not of type 'object'"


def test_pick_variant():
    payment = by_path(fields_for(SCHEMA))["payment"]
    assert pick_variant(payment, {"kind": "bank"}, SCHEMA) == 1
    assert pick_variant(payment, {"kind": "cash"}, SCHEMA) is None
    scalar = field_for({"anyOf": [{"type": "integer"}, {"type": "string"}]})
    assert pick_variant(scalar, "x", {}) == 1


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": "nope"},
        {"oneOf": "nope"},
        {"anyOf": [1, 2]},
        {"allOf": [{"type": "string"}, {"type": "integer"}]},
        {"enum": "abc"},
        {"type": 5},
        {"$ref": "#/$defs/missing"},
        {"discriminator": {"propertyName": 3}, "oneOf": [{}, {}]},
    ],
)
def test_strange_schemas_never_raise(schema):
    root = field_for(schema)
    default_value(schema)
    coerce(schema, {"a": 1})
    assert isinstance(validate(schema, {"a": 1}), dict)
    assert root.path == ""


def test_a_number_whose_bounds_exclude_zero_starts_empty():
    class Pay(BaseModel):
        amount: float = Field(gt=0)
        below: int = Field(lt=0)
        at_least: int = Field(ge=5)
        free: float
        capped: float = Field(ge=0, le=10)

    schema = Pay.model_json_schema()
    assert default_value(schema) == {"amount": None, "below": None, "at_least": None, "free": 0.0, "capped": 0.0}
    fields = by_path(fields_for(schema))
    assert fields["amount"].exclusive_minimum == 0 and fields["below"].exclusive_maximum == 0
    # Left empty, a required number is reported missing (not sent as a value nobody typed).
    data = coerce(schema, default_value(schema))
    assert "amount" not in data
    assert validate(schema, data) == {"amount": "is required", "below": "is required", "at_least": "is required"}
