"""hitl.ui.schema_form: widgets drawn from a pydantic-emitted schema return typed data."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from pydantic import BaseModel, Field
from streamlit.testing.v1 import AppTest


class Priority(str, enum.Enum):
    low = "low"
    high = "high"


class Address(BaseModel):
    street: str
    zip: Optional[str] = None


class Card(BaseModel):
    kind: Literal["card"] = "card"
    number: str


class Bank(BaseModel):
    kind: Literal["bank"]
    iban: str


class Order(BaseModel):
    title: str = Field(title="Order title", description="Shown to the customer")
    quantity: int = Field(default=1, ge=1)
    price: float
    priority: Priority = Priority.low
    rush: bool = False
    address: Address
    billing: Optional[Address] = None
    lines: list[Address] = []
    sizes: list[Literal["S", "M", "L"]] = []
    payment: Annotated[Union[Card, Bank], Field(discriminator="kind")]
    meta: dict[str, int] = {}


ORDER_SCHEMA = Order.model_json_schema()


def form_app(schema, initial=None):  # runs as a script: no annotations
    import streamlit as st

    from hitl import forms
    from hitl.ui.schema_form import render_schema_form, show_field_errors

    data = render_schema_form(schema, key="order", initial=initial)
    st.session_state["data"] = data
    show_field_errors(forms.validate(schema, data))


def run(schema: dict[str, Any], initial: Any = None) -> AppTest:
    at = AppTest.from_function(form_app, args=(schema, initial), default_timeout=30)
    at.run()
    assert not at.exception
    return at


def test_defaults_render_and_required_fields_are_reported():
    at = run(ORDER_SCHEMA)
    assert at.text_input(key="order:title").label == "Order title"
    assert at.text_input(key="order:title").help == "Shown to the customer"
    assert at.number_input(key="order:quantity").value == 1
    assert at.selectbox(key="order:priority").value == "low"
    assert at.session_state["data"]["payment"] == {"kind": "card", "number": ""}
    assert at.session_state["data"]["billing"] is None
    assert not at.error  # empty strings are valid strings; nothing is wrong yet


def test_setting_widgets_returns_typed_data():
    at = run(ORDER_SCHEMA)
    at.text_input(key="order:title").set_value("Laptops")
    at.number_input(key="order:quantity").set_value(3)
    at.number_input(key="order:price").set_value(999.5)
    at.selectbox(key="order:priority").set_value("high")
    at.checkbox(key="order:rush").check()
    at.text_input(key="order:address.street").set_value("Main St 1")
    at.multiselect(key="order:sizes").set_value(["S", "L"])
    at.number_input(key="order:lines#count").set_value(1)
    at.selectbox(key="order:payment#variant").set_value(1)  # bank
    at.text_area(key="order:meta").set_value('{"floor": 3}')
    at.run()
    at.text_input(key="order:lines[0].street").set_value("Dock 4")
    at.text_input(key="order:payment@bank.iban").set_value("DE00 1234")
    at.checkbox(key="order:billing#include").check()
    at.run()
    at.text_input(key="order:billing.street").set_value("Billing Rd")
    at.run()
    assert not at.exception
    data = at.session_state["data"]
    assert data == {
        "title": "Laptops",
        "quantity": 3,
        "price": 999.5,
        "priority": "high",
        "rush": True,
        "address": {"street": "Main St 1"},
        "billing": {"street": "Billing Rd"},
        "lines": [{"street": "Dock 4"}],
        "sizes": ["S", "L"],
        "payment": {"kind": "bank", "iban": "DE00 1234"},
        "meta": {"floor": 3},
    }
    assert isinstance(data["quantity"], int)
    assert Order.model_validate(data).payment.iban == "DE00 1234"
    assert not at.error


def test_initial_values_prefill_the_widgets():
    initial = {
        "title": "Chairs",
        "price": 12.0,
        "address": {"street": "Elm"},
        "lines": [{"street": "A"}, {"street": "B", "zip": "123"}],
        "payment": {"kind": "bank", "iban": "NL01"},
    }
    at = run(ORDER_SCHEMA, initial)
    assert at.text_input(key="order:title").value == "Chairs"
    assert at.number_input(key="order:lines#count").value == 2
    assert at.text_input(key="order:lines[1].zip").value == "123"
    assert at.selectbox(key="order:payment#variant").value == 1
    assert at.text_input(key="order:payment@bank.iban").value == "NL01"
    assert at.session_state["data"]["lines"] == [{"street": "A"}, {"street": "B", "zip": "123"}]


def test_invalid_json_field_shows_errors():
    at = run(ORDER_SCHEMA)
    at.text_area(key="order:meta").set_value('{"floor": three}')
    at.run()
    messages = [e.value for e in at.error]
    assert any("not valid JSON" in m for m in messages)
    assert any(m.startswith("meta: ") for m in messages)


def test_validation_errors_are_shown_per_field():
    schema = {
        "type": "object",
        "properties": {"email": {"type": "string", "minLength": 5, "title": "Email"}},
        "required": ["email"],
    }
    at = run(schema)
    assert [e.value for e in at.error] == ["email: '' is too short"]
    at.text_input(key="order:email").set_value("a@example.com")
    at.run()
    assert not at.error
    assert at.session_state["data"] == {"email": "a@example.com"}


def test_per_call_decision_schema_type_picker_and_edit_args():
    from langchain.agents.middleware.human_in_the_loop import _decision_schema
    from langchain_core.tools import tool
    from pydantic import TypeAdapter

    @tool
    def make_payment(amount: float, payee: str) -> str:
        """Pay someone."""
        return "paid"

    schema = TypeAdapter(
        _decision_schema(["approve", "edit", "reject"], "make_payment", make_payment)
    ).json_schema()
    at = run(schema)
    picker = at.selectbox(key="order:$#variant")
    assert picker.options == ["approve", "edit", "reject"]
    assert at.session_state["data"] == {"type": "approve"}
    picker.set_value(1)
    at.run()
    at.number_input(key="order:@edit.edited_action.args.amount").set_value(42.0)
    at.text_input(key="order:@edit.edited_action.args.payee").set_value("ACME")
    at.run()
    assert at.session_state["data"] == {
        "type": "edit",
        "edited_action": {"name": "make_payment", "args": {"amount": 42.0, "payee": "ACME"}},
    }
    assert not at.error
    at.selectbox(key="order:$#variant").set_value(2)
    at.run()
    assert at.session_state["data"] == {"type": "reject"}  # empty optional message dropped


def test_markdown_in_schema_text_is_escaped():
    schema = {
        "type": "object",
        "properties": {"x": {"type": "string", "title": "**bold** <b>html</b>",
                             "description": "[link](javascript:alert(1))"}},
    }
    at = run(schema)
    widget = at.text_input(key="order:x")
    assert widget.label == r"\*\*bold\*\* \<b\>html\</b\>"
    assert widget.help == r"\[link\]\(javascript:alert\(1\)\)"


def form_inside_st_form(schema):  # runs as a script: no annotations
    import streamlit as st

    from hitl.ui.schema_form import render_schema_form

    with st.form("review"):
        data = render_schema_form(schema, key="f")
        if st.form_submit_button("Submit"):
            st.session_state["submitted"] = data


@pytest.mark.parametrize("schema", [ORDER_SCHEMA])
def test_works_inside_st_form(schema):
    at = AppTest.from_function(form_inside_st_form, args=(schema,), default_timeout=30)
    at.run()
    assert not at.exception
    at.text_input(key="f:title").set_value("Desk")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert at.session_state["submitted"]["title"] == "Desk"


class Refund(BaseModel):
    kind: Literal["refund"]
    amount: float = Field(gt=0)
    count: int = Field(default=2, gt=0)


class Replace(BaseModel):
    kind: Literal["replace"]
    sku: str


class Resolution(BaseModel):
    resolution: Annotated[Union[Refund, Replace], Field(discriminator="kind")]
    fee: float = Field(ge=0)


def test_an_amount_that_must_be_positive_starts_empty_and_is_required():
    at = run(Resolution.model_json_schema())
    amount = at.number_input(key="order:resolution@refund.amount")
    assert amount.value is None  # not 0.00, which gt=0 forbids; nothing the reviewer did not type
    assert at.number_input(key="order:resolution@refund.count").value == 2  # a schema default is kept
    assert at.number_input(key="order:fee").value == 0.0  # zero is allowed here, so it starts at zero
    assert "amount" not in at.session_state["data"]["resolution"]
    assert [e.value.replace("\\", "") for e in at.error] == ["resolution.amount: is required"]
    amount.set_value(12.5).run()
    assert at.session_state["data"]["resolution"] == {"kind": "refund", "amount": 12.5, "count": 2}
    assert not at.error


def test_keep_untouched_puts_back_the_originals_fields_left_as_shown():
    from hitl.ui.schema_form import keep_untouched

    original = {"to": "a@x", "cc": None, "address": {"street": "Elm"}, "extra": [1]}
    shown = {"to": "a@x", "priority": 3, "address": {"street": "Elm", "zip": ""}, "extra": [1]}  # cc dropped, defaults added
    assert keep_untouched(original, shown, shown) == original
    edited = {**shown, "priority": 1, "address": {"street": "Oak", "zip": ""}}
    assert keep_untouched(original, shown, edited) == {"to": "a@x", "cc": None, "address": {"street": "Oak"},
                                                       "extra": [1], "priority": 1}
    # A field the reviewer cleared is cleared, not restored.
    assert keep_untouched(original, shown, {k: v for k, v in shown.items() if k != "to"}) == {
        "cc": None, "address": {"street": "Elm"}, "extra": [1]}
