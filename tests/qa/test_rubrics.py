"""[[qa.rubrics]] and [[qa.queues]] are validated on load, with errors that name the entry and the fix."""

from __future__ import annotations

import pytest

from hitl import HitlError, InvalidAnswer
from hitl.qa.queues import sample_fraction, sampled
from hitl.qa.rubrics import parse_rubrics, rubric_from_dict
from hitl.qa.values import load_qa_config


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "x", "type": "stars"}, r"type='stars'; expected one of boolean, categorical, numeric, text"),
        ({"name": "has space", "type": "boolean"}, r"name='has space'"),
        ({"name": "tone", "type": "categorical", "labels": ["only"]}, r"needs labels = .*two or more"),
        ({"name": "tone", "type": "categorical", "labels": ["a", "a"]}, r"lists a label twice"),
        ({"name": "q", "type": "numeric", "min": 5, "max": 1}, r"min must be below max"),
        ({"name": "q", "type": "numeric", "min": 1}, r"needs max = <number>"),
        ({"name": "q", "type": "boolean", "labels": ["a", "b"]}, r"labels and ordered apply to categorical rubrics only"),
        ({"name": "q", "type": "boolean", "colour": "red"}, r"unknown key\(s\) colour"),
    ],
)
def test_bad_rubrics_are_refused_with_the_fix(entry: dict, message: str) -> None:
    with pytest.raises(HitlError, match=message):
        rubric_from_dict(entry, where="[[qa.rubrics]] entry #1")


def test_duplicate_rubric_names_and_unknown_queue_rubrics() -> None:
    with pytest.raises(HitlError, match="entry #2 reuses the name 'a'"):
        parse_rubrics([{"name": "a", "type": "boolean"}, {"name": "a", "type": "text"}])
    with pytest.raises(HitlError, match=r"uses rubric\(s\) \['nope'\] that \[\[qa.rubrics\]\] does not define"):
        load_qa_config({"qa": {"rubrics": [{"name": "a", "type": "boolean"}], "queues": [{"name": "q", "rubrics": ["nope"]}]}})
    with pytest.raises(HitlError, match="sample_rate=0 must be a number above 0"):
        load_qa_config({"qa": {"queues": [{"name": "q", "sample_rate": 0}]}})
    with pytest.raises(HitlError, match=r"unknown outcome\(s\) \['lost'\]"):
        load_qa_config({"qa": {"queues": [{"name": "q", "outcomes": ["lost"]}]}})
    with pytest.raises(HitlError, match=r"\[qa\] has unknown key\(s\) rubric"):
        load_qa_config({"qa": {"rubric": []}})


def test_defaults_without_configuration() -> None:
    config = load_qa_config({})
    assert config.default_rubrics and list(config.rubrics) == ["correct", "quality", "notes"]
    queue = load_qa_config({"qa": {"queues": [{"name": "q"}]}}).queues["q"]
    assert (queue.rubrics, queue.reviewers_per_item, queue.blind, queue.sample_rate) == (("correct", "quality", "notes"), 1, True, 1.0)


def test_scores_are_normalised_or_refused() -> None:
    numeric = rubric_from_dict({"name": "q", "type": "numeric", "min": 1, "max": 5})
    assert (numeric.integer, numeric.validate("4"), numeric.choices) == (True, 4, (1, 2, 3, 4, 5))
    with pytest.raises(InvalidAnswer, match="must be a whole number"):
        numeric.validate(2.5)
    boolean = rubric_from_dict({"name": "ok", "type": "boolean"})
    assert (boolean.validate("yes"), boolean.validate(False), boolean.level) == (True, False, "nominal")
    text = rubric_from_dict({"name": "notes", "type": "text"})
    assert (text.required, text.validate(""), text.level) == (False, None, None)
    scale = rubric_from_dict({"name": "tone", "type": "categorical", "labels": ["a", "b", "c"], "ordered": True})
    assert (scale.level, scale.code("c"), scale.value_domain()) == ("ordinal", 2.0, [0.0, 1.0, 2.0])
    assert rubric_from_dict(scale.to_dict()) == scale


def test_sampling_is_a_hash_of_seed_and_thread() -> None:
    queue = load_qa_config({"qa": {"queues": [{"name": "q", "sample_rate": 0.3, "seed": 11}]}}).queues["q"]
    picked = [f"t{n}" for n in range(2000) if sampled(queue, f"t{n}")]
    assert 0.25 < len(picked) / 2000 < 0.35
    assert picked == [f"t{n}" for n in range(2000) if sample_fraction(11, f"t{n}") < 0.3]
    assert sample_fraction(11, "t1") == sample_fraction(11, "t1") != sample_fraction(12, "t1")
