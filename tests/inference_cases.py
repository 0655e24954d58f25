"""Node functions written the many ways people write them, for tests/test_inference.py.
Each name ends with the answer type the desk must read from it (or `unknown`)."""

from __future__ import annotations

from langgraph import types
from langgraph.types import interrupt
from langgraph.types import interrupt as ask


def truthy_if_boolean(state):
    if interrupt("Proceed?"):
        return {"ok": 1}
    return {}


def ifexp_goto_boolean(state):
    decision = interrupt({"question": "Approve?", "details": "x"})
    return {"goto": "proceed" if decision else "cancel"}


def annotated_boolean(state):
    ok: bool = interrupt("Go?")
    return {"x": 1} if ok else {}


def walrus_boolean(state):
    if (ok := interrupt("Go?")):
        return {"x": ok}
    return {}


def is_true_boolean(state):
    return {"x": interrupt("Go?") is True}


def aliased_boolean(state):
    return {"x": 1} if ask("Go?") else {}


def module_attr_boolean(state):
    return {"x": 1} if types.interrupt("Go?") else {}


def get_keys_object(state):
    answer = interrupt({"action": "pay"})
    if answer.get("approved"):
        return {"reason": answer.get("reason")}
    return {}


def type_compare_object(state):
    response = interrupt("Call the tool?")
    if response["type"] == "accept":
        return {}
    if response["type"] == "edit":
        return {"args": response["args"]}
    raise ValueError(response["type"])


def helper_object(state):
    answer = interrupt({"question": "Ok?", "details": ""})
    return _reason(answer)


def _reason(answer):
    return {"reason": answer.get("reason") or "none", "ok": answer.get("approved")}


def strip_text(state):
    name = interrupt("Your name?")
    return {"name": name.strip()}


def int_parse_text(state):
    age = interrupt("Age?")
    return {"age": int(age)}


def isinstance_number(state):
    value = interrupt("How many?")
    return {"n": value} if isinstance(value, int) else {}


def passthrough_unknown(state):
    edited = interrupt({"text": "draft"})
    return {"text": edited}


def fstring_only_unknown(state):
    answer = interrupt("Anything?")
    return {"log": f"got {answer}"}


def mixed_unknown(state):
    answer = interrupt("?")
    return {"a": answer.strip(), "b": answer.get("x")}


def reassigned_text(state):
    answer = interrupt("Name?")
    other = answer
    answer = other
    return {"name": answer.strip()}


def same_name_twice_text(state):
    answer = interrupt("First name?")
    first = answer.strip()
    answer = interrupt("Last name?")
    return {"name": first + " " + answer.strip()}
