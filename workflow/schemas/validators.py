"""Validators whose errors are ``Problem``s: marshmallow's own classes, so that the OpenAPI document shows their
limits (``maxLength``, ``minimum``, ``enum``), raising the codes the API and the pages answer with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import ValidationError, validate

from workflow.problems import Problem


class AtMost(validate.Length):
    def __call__(self, value: Any) -> Any:
        if value is not None and self.max is not None and len(value) > self.max:
            raise fail(Problem("too_long", {"max": self.max}))
        return value


class InRange(validate.Range):
    def __init__(self, low: int, high: int, code: str = "out_of_range") -> None:
        super().__init__(min=low, max=high)
        self.code = code

    def __call__(self, value: Any) -> Any:
        if value is not None and not self.min <= value <= self.max:  # type: ignore[operator]
            raise fail(Problem(self.code, {"min": self.min, "max": self.max}))
        return value


class OneOf(validate.OneOf):
    def __call__(self, value: Any) -> Any:
        if value is not None and value not in self.choices:
            raise fail(Problem("not_one_of", {"choices": [str(c) for c in self.choices]}))
        return value


def at_most(limit: int) -> AtMost:
    return AtMost(max=limit)


def in_range(low: int, high: int, code: str = "out_of_range") -> InRange:
    return InRange(low, high, code)


def one_of(choices: Iterable[str] | Callable[[], Iterable[str]], code: str = "not_one_of") -> Callable[[Any], Any]:
    """The value must be among ``choices``; a callable is asked when the value is checked (data that changes)."""
    if not callable(choices) and code == "not_one_of":
        return OneOf(tuple(choices))

    def check(value: Any) -> None:
        allowed = tuple(choices() if callable(choices) else choices)
        if value is not None and value not in allowed:
            raise fail(Problem(code, {"choices": list(allowed)}))

    return check


def fail(problem: Problem) -> ValidationError:
    """The error a validator raises (a list: marshmallow spreads a validator's messages into the field's)."""
    return ValidationError([problem])  # type: ignore[list-item]
