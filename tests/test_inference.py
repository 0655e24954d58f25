"""hitl.inference reads the answer type from the code that receives it, never runs it."""

from __future__ import annotations

import inspect

import pytest

from hitl import inference
from tests import inference_cases

CASES = [
    (name, name.rsplit("_", 1)[1])
    for name, func in inspect.getmembers(inference_cases, inspect.isfunction)
    if func.__module__ == inference_cases.__name__ and not name.startswith("_")
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_answer_type_is_read_from_the_code(name: str, expected: str) -> None:
    sites = inference.call_sites(getattr(inference_cases, name))
    assert sites, f"{name}: no interrupt() call found"
    types = {site.answer_type or "unknown" for site in sites}
    assert types == {expected}, [(s.answer_type, s.why, s.where) for s in sites]


def test_object_contracts_know_keys_and_the_literals_they_are_compared_with() -> None:
    [site] = inference.call_sites(inference_cases.type_compare_object)
    assert {"type", "args"} <= site.keys
    assert site.values["type"] >= {"accept", "edit"}
    [helped] = inference.call_sites(inference_cases.helper_object)
    assert {"reason", "approved"} <= helped.keys  # read through the helper it is passed to


def test_literal_prompts_tell_call_sites_apart() -> None:
    [site] = inference.call_sites(inference_cases.strip_text)
    assert site.matches("Your name?") is True and site.matches("Age?") is False
    [obj] = inference.call_sites(inference_cases.get_keys_object)
    assert obj.matches({"action": "pay"}) is True and obj.matches({"other": 1}) is False


def test_functions_without_source_give_no_sites() -> None:
    assert inference.call_sites(len) == []
    assert inference.call_sites(eval("lambda s: s")) == []
