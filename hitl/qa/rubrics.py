"""Rubrics: named score configs (`[[qa.rubrics]]` in HITL_CONFIG), validated on load. Pure.

    [[qa.rubrics]]
    name = "correct"                 # letters, digits, _ and -; unique
    type = "boolean"                 # boolean | categorical | numeric | text
    instructions = "Is the final answer factually right?"

    [[qa.rubrics]]
    name = "tone"
    type = "categorical"
    labels = ["rude", "neutral", "friendly"]
    ordered = true                   # the labels are a scale: ordinal agreement

    [[qa.rubrics]]
    name = "helpfulness"
    type = "numeric"
    min = 1
    max = 5                          # integer = true (default when min and max are) offers whole numbers

Each type has a level of measurement, which picks Krippendorff's alpha metric and Cohen's
kappa weights (`hitl.qa.agreement`): boolean and unordered labels are nominal, ordered labels
ordinal, numbers interval; free text is not compared.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from hitl.errors import HitlError, InvalidAnswer

__all__ = [
    "RubricType",
    "Level",
    "Rubric",
    "RUBRIC_TYPES",
    "parse_rubrics",
    "rubric_from_dict",
]

RubricType = Literal["boolean", "categorical", "numeric", "text"]
RUBRIC_TYPES: tuple[RubricType, ...] = ("boolean", "categorical", "numeric", "text")
Level = Literal["nominal", "ordinal", "interval"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_KEYS = {"name", "type", "instructions", "labels", "ordered", "min", "max", "integer", "required"}


@dataclass(frozen=True, kw_only=True)
class Rubric:
    """One score a reviewer gives an item."""

    name: str
    """Unique key of the score (the column in exports)."""
    type: RubricType
    instructions: str = ""
    """What the reviewer should judge; shown above the input."""
    labels: tuple[str, ...] = ()
    """categorical: the allowed labels, in scale order when `ordered`."""
    ordered: bool = False
    """categorical: the labels form a scale (ordinal agreement) rather than unordered classes."""
    minimum: float | None = None
    """numeric: the lowest allowed value."""
    maximum: float | None = None
    """numeric: the highest allowed value."""
    integer: bool = False
    """numeric: only whole numbers."""
    required: bool = True
    """A submission must give this score (text rubrics default to optional)."""

    @property
    def level(self) -> Level | None:
        """Level of measurement for agreement; None for text (not compared)."""
        if self.type == "boolean":
            return "nominal"
        if self.type == "categorical":
            return "ordinal" if self.ordered else "nominal"
        if self.type == "numeric":
            return "interval"
        return None

    @property
    def choices(self) -> tuple[Any, ...]:
        """The discrete values a reviewer picks from (empty for continuous numbers and text)."""
        if self.type == "boolean":
            return (True, False)
        if self.type == "categorical":
            return self.labels
        if self.type == "numeric" and self.integer and self.minimum is not None and self.maximum is not None:
            if self.maximum - self.minimum <= 20:
                return tuple(range(int(self.minimum), int(self.maximum) + 1))
        return ()

    def validate(self, value: Any) -> Any:
        """The score `value` normalised for storage (bool, label, number, text), or None when
        an optional score is left out.

        Raises:
            InvalidAnswer: the value does not fit this rubric; `field_errors` names it.
        """
        if value is None or (isinstance(value, str) and not value.strip() and self.type != "text"):
            if self.required:
                raise InvalidAnswer(f"Score {self.name!r} is required.", field_errors={self.name: "required"})
            return None
        if self.type == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "1", "pass"):
                return True
            if text in ("false", "no", "0", "fail"):
                return False
            raise self._bad(value, "true or false")
        if self.type == "categorical":
            if isinstance(value, str) and value in self.labels:
                return value
            raise self._bad(value, "one of " + ", ".join(repr(label) for label in self.labels))
        if self.type == "numeric":
            number = _number(value)
            if number is None:
                raise self._bad(value, "a number")
            if self.integer and number != int(number):
                raise self._bad(value, "a whole number")
            if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
                raise self._bad(value, f"a number from {_fmt(self.minimum)} to {_fmt(self.maximum)}")
            return int(number) if self.integer else number
        text = value if isinstance(value, str) else str(value)
        if not text.strip():
            if self.required:
                raise InvalidAnswer(f"Score {self.name!r} is required.", field_errors={self.name: "required"})
            return None
        return text

    def code(self, value: Any) -> float | None:
        """The number agreement statistics use for a stored value (None: not comparable)."""
        if value is None or self.type == "text":
            return None
        if self.type == "boolean":
            return 1.0 if value else 0.0
        if self.type == "categorical":
            return float(self.labels.index(value)) if value in self.labels else None
        number = _number(value)
        return number

    def value_domain(self) -> list[float] | None:
        """The codes of every possible value, when discrete (Krippendorff's ordinal metric needs it)."""
        if self.type == "boolean":
            return [0.0, 1.0]
        if self.type == "categorical":
            return [float(i) for i in range(len(self.labels))]
        return None

    def to_dict(self) -> dict[str, Any]:
        """The TOML/JSON form (`rubric_from_dict` reads it back)."""
        data: dict[str, Any] = {"name": self.name, "type": self.type, "instructions": self.instructions}
        if self.type == "categorical":
            data.update(labels=list(self.labels), ordered=self.ordered)
        if self.type == "numeric":
            data.update(min=self.minimum, max=self.maximum, integer=self.integer)
        if self.required != (self.type != "text"):
            data["required"] = self.required
        return data

    def _bad(self, value: Any, expected: str) -> InvalidAnswer:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return InvalidAnswer(
            f"Score {self.name!r} must be {expected}; got {shown}.", field_errors={self.name: f"expected {expected}"}
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _fmt(number: float | None) -> str:
    if number is None:
        return "any"
    return str(int(number)) if number == int(number) else f"{number:g}"


def rubric_from_dict(entry: Any, *, where: str = "rubric") -> Rubric:
    """One rubric from its TOML table or JSON object.

    Raises:
        HitlError: the entry is malformed; the message names the entry, the bad value and the fix.
    """
    if not isinstance(entry, Mapping):
        raise HitlError(f"{where} must be a table with name and type, e.g. name = \"correct\", type = \"boolean\".")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise HitlError(
            f"{where} has name={name!r}; expected 1-64 letters, digits, '_' or '-' (starting with a letter or "
            "digit), e.g. name = \"helpfulness\"."
        )
    where = f"{where} {name!r}"
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise HitlError(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}.")
    kind = entry.get("type")
    if kind not in RUBRIC_TYPES:
        raise HitlError(f"{where} has type={kind!r}; expected one of {', '.join(RUBRIC_TYPES)}.")
    instructions = entry.get("instructions", "")
    if not isinstance(instructions, str):
        raise HitlError(f"{where}: instructions must be text, got {instructions!r}.")
    required = entry.get("required", kind != "text")
    if not isinstance(required, bool):
        raise HitlError(f"{where}: required must be true or false, got {required!r}.")
    labels: tuple[str, ...] = ()
    ordered = False
    minimum = maximum = None
    integer = False
    if kind == "categorical":
        raw = entry.get("labels")
        if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(label, str) and label.strip() for label in raw):
            raise HitlError(f"{where} is categorical and needs labels = [\"...\", \"...\"] (two or more non-empty texts); got {raw!r}.")
        if len(set(raw)) != len(raw):
            raise HitlError(f"{where} lists a label twice in {raw!r}; each label must be distinct.")
        labels = tuple(raw)
        ordered = entry.get("ordered", False)
        if not isinstance(ordered, bool):
            raise HitlError(f"{where}: ordered must be true or false, got {ordered!r}.")
    elif "labels" in entry or "ordered" in entry:
        raise HitlError(f"{where} is {kind}: labels and ordered apply to categorical rubrics only.")
    if kind == "numeric":
        minimum, maximum = entry.get("min"), entry.get("max")
        for key, bound in (("min", minimum), ("max", maximum)):
            if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
                raise HitlError(f"{where} is numeric and needs {key} = <number>; got {bound!r}.")
        if not minimum < maximum:  # type: ignore[operator]
            raise HitlError(f"{where} has min={minimum!r} and max={maximum!r}; min must be below max.")
        integer = entry.get("integer", isinstance(minimum, int) and isinstance(maximum, int))
        if not isinstance(integer, bool):
            raise HitlError(f"{where}: integer must be true or false, got {integer!r}.")
        minimum, maximum = float(minimum), float(maximum)  # type: ignore[arg-type]
    elif any(key in entry for key in ("min", "max", "integer")):
        raise HitlError(f"{where} is {kind}: min, max and integer apply to numeric rubrics only.")
    return Rubric(
        name=name, type=kind, instructions=instructions, labels=labels, ordered=ordered,
        minimum=minimum, maximum=maximum, integer=integer, required=required,
    )  # fmt: skip


def parse_rubrics(entries: Any, *, where: str = "[[qa.rubrics]]") -> dict[str, Rubric]:
    """Every rubric of `[[qa.rubrics]]`, by name, in file order.

    Raises:
        HitlError: not an array of tables, a malformed entry, or a name used twice.
    """
    if entries is None:
        return {}
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        raise HitlError(f'qa.rubrics in HITL_CONFIG must be an array of tables: {where}\\nname = "correct"\\ntype = "boolean".')
    rubrics: dict[str, Rubric] = {}
    for number, entry in enumerate(entries, start=1):
        rubric = rubric_from_dict(entry, where=f"{where} entry #{number}")
        if rubric.name in rubrics:
            raise HitlError(f"{where} entry #{number} reuses the name {rubric.name!r}; rubric names must be unique.")
        rubrics[rubric.name] = rubric
    return rubrics

