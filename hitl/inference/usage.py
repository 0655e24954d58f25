"""What the code that receives an answer does with it (`Usage`), at one `interrupt()` call (`CallSite`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


AnswerType = Literal["boolean", "text", "number", "object"]


TEXT_METHODS = frozenset(
    "strip lstrip rstrip lower upper title casefold split rsplit splitlines startswith endswith "
    "replace format encode isdigit isnumeric isalpha isalnum isdecimal partition rpartition zfill "
    "removeprefix removesuffix center ljust rjust count find index".split()
)


OBJECT_METHODS = frozenset({"keys", "items", "values", "copy", "setdefault", "pop", "update"})


TYPE_NAMES: dict[str, AnswerType] = {
    "str": "text",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "dict": "object",
    "Mapping": "object",
}


MAX_HELPER_DEPTH = 2
"""Helper functions followed from the node (a node passing the answer to a helper)."""


@dataclass
class Usage:
    """How the code uses one interrupt's answer, accumulated over its uses."""

    keys: set[str] = field(default_factory=set)
    """Keys read with .get / [] / in."""

    required: set[str] = field(default_factory=set)
    """Keys read with [] (a KeyError when absent)."""

    values: dict[str, set[Any]] = field(default_factory=dict)
    """Literal values a key is compared with (`x["type"] == "accept"`)."""

    truthy: bool = False
    text: bool = False
    weak_text: bool = False
    number: bool = False
    boolean: bool = False
    sequence: bool = False
    pydantic: bool = False
    lines: set[int] = field(default_factory=set)

    def merge(self, other: Usage) -> None:
        self.keys |= other.keys
        self.required |= other.required
        for key, literals in other.values.items():
            self.values.setdefault(key, set()).update(literals)
        for name in ("truthy", "text", "weak_text", "number", "boolean", "sequence", "pydantic"):
            setattr(self, name, getattr(self, name) or getattr(other, name))
        self.lines |= other.lines

    def answer_type(self) -> tuple[AnswerType | None, str]:
        """The answer type these uses imply, and why; (None, why) when they disagree or say nothing."""
        objectish = bool(self.keys) or self.sequence
        kinds = [
            name
            for name, present in (
                ("object", objectish),
                ("text", self.text),
                ("number", self.number),
            )
            if present
        ]
        if self.pydantic:
            return None, "the answer is a model built from the interrupt's response_schema"
        if len(kinds) > 1:
            return None, f"the code uses the answer both as {' and as '.join(kinds)}"
        if kinds == ["object"]:
            if self.sequence and not self.keys:
                return None, "the code indexes the answer by position (a list)"
            return "object", "the code reads " + ", ".join(sorted(self.keys))
        if kinds == ["text"]:
            return "text", "the code uses the answer as text"
        if kinds == ["number"]:
            return "number", "the code checks the answer is a number"
        if self.boolean or self.truthy:
            return "boolean", "the code tests the answer's truth (if answer: ...)"
        if self.weak_text:
            return None, "the code only formats the answer into a string (any value reads)"
        return None, "the code passes the answer on without looking at it"


@dataclass(frozen=True)
class CallSite:
    """One `interrupt()` call in a graph's code, and what its answer must be."""

    where: str
    """`file.py:line in function`."""

    function: str
    answer_type: AnswerType | None
    why: str
    keys: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    values: Mapping[str, frozenset[Any]] = field(default_factory=dict)
    truthy: bool = False
    """The code also tests the answer's truth (a rejecting object would be truthy)."""

    prompt: str | None = None
    """The payload when it is a literal string."""

    prompt_prefix: str | None = None
    """The literal start of an f-string payload."""

    payload_keys: frozenset[str] | None = None
    """The literal keys of a dict payload (None when not a literal dict)."""

    tool: str | None = None
    """The `@tool` whose function holds this call (interrupts raised inside ToolNode)."""

    def matches(self, value: Any) -> bool | None:
        """Whether this call site produced `value`: True, False, or None (can't tell)."""
        if self.prompt is not None:
            return value == self.prompt
        if self.prompt_prefix is not None:
            return isinstance(value, str) and value.startswith(self.prompt_prefix)
        if self.payload_keys is not None:
            return isinstance(value, Mapping) and set(value) == set(self.payload_keys)
        return None
