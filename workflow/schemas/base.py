"""Fields and validators whose errors are ``Problem``s, and the conversion of marshmallow's error tree.

marshmallow hands a message object through untouched when it is not a string, so every field here names a
``Problem`` for each of its error keys; ``problems_of`` then flattens the tree into ``{"field.sub.0": Problem}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

import filings.text as text_rule
from workflow.errors import ValidationFailed
from workflow.models import MAX_ID
from workflow.problems import Problem, several
from workflow.schemas.validators import AtMost, at_most, fail, in_range

# marshmallow's own messages, where one slips through (a library's field, webargs): the code they stand for.
# The keys of episodes and vocabulary terms: the usual slugs, as spreadsheets and URLs write them
# (`rally-2018-05-10`, `detention_at_rally`). The one owner of the rule (docs/INTERFACES.md §3.7, §5.5).
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")  # whole value: is_slug uses fullmatch
# A day as people in the organisation's countries type it, besides ISO: 31.01.2024 (also 1.2.2024).
_DOTTED_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def is_slug(value: object) -> bool:
    """Lower-case letters, digits, `-` and `_`, starting with a letter or digit, 1 to 80 characters."""
    return isinstance(value, str) and SLUG.fullmatch(value) is not None


def parse_day(text: str) -> date:
    """ISO (`2024-01-31`, and the other ISO 8601 forms `date.fromisoformat` takes) or `dd.mm.yyyy`;
    ValueError otherwise. The one reading of a typed day, for the API, the pages and the imports alike."""
    text = text.strip()
    dotted = _DOTTED_DAY.fullmatch(text)
    if dotted:
        day, month, year = (int(g) for g in dotted.groups())
        return date(year, month, day)
    return date.fromisoformat(text)


_LIBRARY_MESSAGES = {"Missing data for required field.": "required", "Unknown field.": "unknown_field",
                     "Field may not be null.": "required", "Invalid input type.": "not_object"}


class ProblemField(fields.Field):
    """Placed first among a field's bases, so that its messages win over marshmallow's English ones.

    A blank text (an empty form field or spreadsheet cell) is a missing value: None where None is allowed,
    "required" where the field is.
    """

    default_error_messages = {"required": Problem("required"), "null": Problem("required"),  # noqa: RUF012
                              "validator_failed": Problem("invalid")}

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            if self.allow_none:
                value = None
            elif self.required:
                raise self.make_error("required")
        return super().deserialize(value, attr, data, **kwargs)


# The character rule as a JSON Schema pattern (ECMA 262 and Python read \\uXXXX alike), from filings/text.py's CONTROL.
_ALLOWED = f"[^{text_rule.CONTROL_RANGES}]"
TEXT_PATTERN = f"^{_ALLOWED}*$"
FILLED_TEXT_PATTERN = f"^{_ALLOWED}*[^\\s{text_rule.CONTROL_RANGES}]{_ALLOWED}*$"


# The character rule is filings/text.py's (one rule for what is typed and what a document holds): every kind of
# line break becomes "\n", a control character is refused (`control_characters`, with its position: invisible in
# a page, refused by a .docx, a NUL even by PostgreSQL), a lone surrogate or U+FFFE/U+FFFF too (`invalid_text`:
# no database stores it). Refused rather than dropped: what a person typed is never changed unseen.
class Text(ProblemField, fields.String):
    """Text, trimmed; ``max_length`` counts characters after trimming. Empty text is missing: a required field
    says so, an optional one that allows None becomes None.

    Line breaks of every kind become ``\n`` (CR LF, CR, vertical tab, form feed, U+2028/U+2029, NEL); other
    control characters are refused (``control_characters``), so are lone surrogates (``invalid_text``).
    ``multiline=False`` (names, places, keys): tabs and line breaks become one space. ``max_length`` is also
    what the pages print as the field's limit (``max_length_of``).
    """

    default_error_messages = {"invalid": Problem("not_text"), "invalid_utf8": Problem("not_text")}  # noqa: RUF012

    def __init__(self, *, max_length: int | None = None, strip: bool = True, multiline: bool = True,
                 **kwargs: Any) -> None:
        given = kwargs.pop("validate", None)
        validators = [given] if callable(given) else list(given or [])
        if max_length is not None:
            validators.append(at_most(max_length))
        # The OpenAPI document states the character rule (a client learns it without a 422); a required text
        # also needs one character that is not blank. Only documentation: the check is clean_text's.
        pattern = TEXT_PATTERN if kwargs.get("allow_none") or not kwargs.get("required") else FILLED_TEXT_PATTERN
        kwargs["metadata"] = {"pattern": pattern, **kwargs.get("metadata", {})}
        super().__init__(validate=validators, **kwargs)
        self.strip = strip
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        return clean_text(text, multiline=self.multiline, strip=self.strip)


def clean_text(text: str, *, multiline: bool = True, strip: bool = True) -> str:
    """``text`` by the character rule (``Text``), or ValidationError with its Problem. For text that reaches a
    service without a ``Text`` field (task form data, JSON values)."""
    if text_rule.has_non_characters(text):
        raise fail(Problem("invalid_text"))
    text = text_rule.normalise_breaks(text) if multiline else text_rule.one_line(text)
    position = text_rule.first_control(text)
    if position is not None:
        raise fail(Problem("control_characters", {"position": position}))
    return text.strip() if strip else text


def clean_tree(value: Any) -> Any:
    """Every text inside a JSON value (keys and strings of nested objects and lists) by ``clean_text``, not
    trimmed; ValidationError on the first that breaks the rule."""
    if isinstance(value, str):
        return clean_text(value, strip=False)
    if isinstance(value, Mapping):
        cleaned = {}
        for key, item in value.items():
            try:
                cleaned[clean_tree(key)] = clean_tree(item)
            except ValidationError as err:  # said of its key, as marshmallow nests errors
                raise ValidationError({str(key): err.messages}) from None
        return cleaned
    if isinstance(value, list | tuple):
        items = []
        for index, item in enumerate(value):
            try:
                items.append(clean_tree(item))
            except ValidationError as err:
                raise ValidationError({str(index): err.messages}) from None
        return items
    return value


def broken_text_at(value: Any, path: str = "") -> str | None:
    """Where the first text inside a JSON value holds a lone surrogate or another non-character (a dotted path,
    ``"_body"`` for the value itself or a broken key), or None. Such text cannot even be stored: the API refuses
    it at the door, whatever field or route it is meant for."""
    if isinstance(value, str):
        return (path or "_body") if text_rule.has_non_characters(value) else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and text_rule.has_non_characters(key):
                return path or "_body"
            found = broken_text_at(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = broken_text_at(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def max_length_of(field: fields.Field) -> int | None:
    """The character limit a schema field declares (its ``AtMost`` validator), for a form's ``maxlength`` and
    its "up to N characters" hint: the form states the limit the schema checks."""
    limits = [v.max for v in field.validators if isinstance(v, AtMost) and v.max is not None]
    inner = getattr(field, "inner", None)  # a List of Text: the limit of each item
    if not limits and inner is not None:
        return max_length_of(inner)
    return min(limits) if limits else None


class Flag(ProblemField, fields.Boolean):
    """JSON true or false only: "yes" or 1 for a legal fact is more likely a mistake than a choice."""

    default_error_messages = {"invalid": Problem("not_boolean")}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class YesNo(ProblemField, fields.Boolean):
    """true/false, or the words of a spreadsheet cell: yes/no, true/false (any case)."""

    default_error_messages = {"invalid": Problem("not_yes_no")}  # noqa: RUF012
    WORDS = {"yes": True, "true": True, "no": False, "false": False}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in self.WORDS:
            return self.WORDS[value.strip().lower()]
        raise self.make_error("invalid")


class Day(ProblemField, fields.Date):
    """A calendar day: ISO ``YYYY-MM-DD`` or ``dd.mm.yyyy`` text (``parse_day``), or a date (spreadsheet cells
    arrive as dates or datetimes).

    ``past_only`` refuses a day after today (UTC); an empty text is "not given" when the field allows None.
    """

    default_error_messages = {"invalid": Problem("not_date"), "format": Problem("not_date"),  # noqa: RUF012
                              "future": Problem("future_date")}

    def __init__(self, *, past_only: bool = False, today: Callable[[], date] | None = None, **kwargs: Any) -> None:
        if past_only:  # stated in the OpenAPI document: a JSON Schema cannot compare with today
            metadata = dict(kwargs.get("metadata", {}))
            said = metadata.get("description") or ""
            if "future" not in said:
                metadata["description"] = f"{said}; not after today (UTC)" if said else "not after today (UTC)"
            kwargs["metadata"] = {**metadata, "x-not-after-today": True}
        super().__init__(**kwargs)
        self.past_only = past_only
        self.today = today

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, date):
            day = value
        elif isinstance(value, str):
            try:
                day = parse_day(value)
            except ValueError:
                raise self.make_error("invalid") from None
        else:
            raise self.make_error("invalid")
        if self.past_only and day > self._today():
            raise self.make_error("future")
        return day

    def _today(self) -> date:
        from workflow.models import utcnow  # the clock every service uses (tests move it)

        return self.today() if self.today is not None else utcnow().date()


class _Bounded(fields.Integer):
    """Whole numbers are bounded: a field without a range of its own is an id (0 to ``MAX_ID``), so that a number
    no database column can hold is a 422 here rather than an error of the database's (and the OpenAPI document
    shows the bound)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not any(isinstance(check, validate.Range) for check in self.validators):
            self.validators.append(in_range(0, MAX_ID))


class WholeNumber(ProblemField, _Bounded):
    """A JSON integer only: not a string of digits, a fraction or a boolean."""

    default_error_messages = {"invalid": Problem("not_whole_number"),  # noqa: RUF012
                              "too_large": Problem("not_whole_number")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Number(ProblemField, _Bounded):
    """An integer, also from text (query strings and form fields)."""

    default_error_messages = {"invalid": Problem("not_whole_number"),  # noqa: RUF012
                              "too_large": Problem("not_whole_number")}


class Boolean(ProblemField, fields.Boolean):
    """marshmallow's lenient boolean (query strings: true, 1, on...)."""

    default_error_messages = {"invalid": Problem("not_boolean")}  # noqa: RUF012


class DateTime(ProblemField, fields.DateTime):
    default_error_messages = {"invalid": Problem("invalid"), "format": Problem("invalid")}  # noqa: RUF012


class List(ProblemField, fields.List):
    default_error_messages = {"invalid": Problem("not_list")}  # noqa: RUF012


class Dict(ProblemField, fields.Dict):
    """An object; the texts inside it, however deep, follow the character rule (``clean_tree``) unless
    ``clean=False`` says that a service checks them field by field (a task's form data)."""

    default_error_messages = {"invalid": Problem("not_object")}  # noqa: RUF012

    def __init__(self, *args: Any, clean: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clean = clean

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        loaded = super()._deserialize(value, attr, data, **kwargs)
        return clean_tree(loaded) if self.clean else loaded


class Nested(ProblemField, fields.Nested):
    default_error_messages = {"type": Problem("not_object")}  # noqa: RUF012


class KeyList(List):
    """A list of keys; the `;`-separated text of a spreadsheet cell is accepted as well. Duplicates are dropped."""

    def __init__(self, *, choices: Sequence[str] | None = None, **kwargs: Any) -> None:
        # Documented as filled: a blank key is dropped, so it never counts towards minItems. ``choices`` only
        # documents the keys (an enum in the OpenAPI document); the schema using it checks them.
        documented: dict[str, Any] = {"pattern": FILLED_TEXT_PATTERN}
        if choices:
            documented["enum"] = list(choices)
        super().__init__(Text(max_length=80, metadata=documented), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, str):
            value = value.split(";")
        if isinstance(value, list | tuple):
            value = [v for v in value if not (isinstance(v, str) and not v.strip())]
        keys = super()._deserialize(value, attr, data, **kwargs)
        return list(dict.fromkeys(keys))


class InputSchema(Schema):
    """What people type: unknown fields are refused, every error is a Problem."""

    error_messages = {"unknown": Problem("unknown_field"), "type": Problem("not_object")}  # noqa: RUF012

    class Meta:
        unknown = RAISE

    def load_or_fail(self, data: Any, message: str, **kwargs: Any) -> Any:
        """``load``, raising ValidationFailed (with ``message``) instead of marshmallow's error."""
        try:
            return self.load(data, **kwargs)
        except ValidationError as err:
            raise ValidationFailed(message, errors=problems_of(err.messages)) from None


# -- the error tree -----------------------------------------------------------------------------------------

def problems_of(messages: Any, prefix: str = "") -> dict[str, Problem]:
    """marshmallow's nested messages -> ``{"field" or "field.0.sub": Problem}``."""
    if isinstance(messages, Problem):
        return {prefix or "_body": messages}
    if isinstance(messages, str):
        return {prefix or "_body": Problem(_LIBRARY_MESSAGES.get(messages, "invalid"))}
    if isinstance(messages, Mapping):
        flat: dict[str, Problem] = {}
        for key, value in messages.items():
            flat.update(problems_of(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(messages, list | tuple):
        leaves = [m for m in messages if isinstance(m, Problem | str)]
        if len(leaves) == len(messages):
            found = [p for m in leaves for p in problems_of(m, prefix).values()]
            return {prefix or "_body": several(found)} if found else {}
        flat = {}
        for index, value in enumerate(messages):
            flat.update(problems_of(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "_body": Problem("invalid")}
