"""The facts the filing bodies ask for, as staff enter them (the case page and the API): the person's facts and
the rows of a case (perpetrators, incidents, arrests with their custody places, ill-treatment, remedy steps).

Each input may carry ``unknown``: the names of its fields a person marks "not known" (``workflow/facts.py``
owns which). Fields left out of an update keep their value (load with ``partial=True``); what only holds for the
record as a whole once merged (a field both given and marked not known, a release before the arrest) is
``record_problems``, which the services call on the merged values. Keys of vocabularies, episodes and the
case's perpetrators are checked against ``known`` (read from the database by the caller, lazily).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from datetime import date
from typing import Any, ClassVar, Protocol

from marshmallow import ValidationError, validates, validates_schema

from workflow.facts import CASE_FACTS, PERSON_FACTS, ROW_FACTS
from workflow.problems import Problem
from workflow.schemas.appeal import MAX_TEXT
from workflow.schemas.base import Day, InputSchema, KeyList, List, Nested, Number, Text, WholeNumber, YesNo
from workflow.schemas.legal_facts import NAME_MAX, SUMMARY_MAX
from workflow.schemas.validators import fail, in_range, one_of
from workflow.states import Gender

# The caps, reused from the appeal and the legal facts: a name or a place is a line, an account is a summary,
# an incident's description is as long as an appeal's.
SHORT_MAX = NAME_MAX
ACCOUNT_MAX = SUMMARY_MAX
DESCRIPTION_MAX = MAX_TEXT
MAX_CUSTODY_PLACES = 50
MAX_AGE = 130
# Input names of the rows' relations that are not columns.
PERPETRATOR_IDS = "perpetrators"


class FactsKeys(Protocol):
    """What the keys and ids of an input are checked against (the caller reads them once, when first asked)."""

    agencies: Set[str]  # active perpetrator_agency terms
    incident_types: Set[str]  # active incident_type terms
    episodes: Set[str]
    perpetrator_ids: Set[int]  # of this case
    incident_ids: Set[int]  # of this case


def _short(**kwargs: Any) -> Text:
    return Text(max_length=SHORT_MAX, allow_none=True, metadata={"description": f"up to {SHORT_MAX} characters"},
                **kwargs)


def _account(limit: int = ACCOUNT_MAX) -> Text:
    return Text(max_length=limit, allow_none=True, metadata={"description": f"up to {limit} characters"})


def _day() -> Day:
    return Day(allow_none=True, past_only=True, metadata={"description": "YYYY-MM-DD or DD.MM.YYYY; not in the future"})


def markable(names: Sequence[str]) -> KeyList:
    """``unknown``: the names a person may mark "not known" (listed in the OpenAPI document; checked below)."""
    return KeyList(allow_none=True, choices=names,
                   metadata={"description": "names of fields a person marks \"not known\""})


class FactsInput(InputSchema):
    """One input of the facts; ``MARKABLE``: the names ``unknown`` may carry."""

    MARKABLE: ClassVar[tuple[str, ...]] = ()

    unknown = KeyList(allow_none=True, metadata={"description": "names of fields a person marks \"not known\""})

    def __init__(self, *, known: Callable[[], FactsKeys] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.known = known

    @validates("unknown")
    def _markable(self, value: list[str] | None, **kwargs: Any) -> None:
        if value and (wrong := [name for name in value if name not in self.MARKABLE]):
            raise fail(Problem("not_markable", {"names": wrong, "choices": list(self.MARKABLE)}))

    def _ids(self, value: Sequence[int] | int | None, of: Callable[[FactsKeys], Set[int]]) -> None:
        ids = [value] if isinstance(value, int) else list(value or ())
        if self.known is not None and ids and (missing := [i for i in ids if i not in of(self.known())]):
            raise fail(Problem("not_on_case", {"ids": missing}))


class PersonFactsSchema(FactsInput):
    """The person's facts beyond the name (``Person``); ``unknown`` names them without the ``person.`` prefix."""

    MARKABLE = PERSON_FACTS
    unknown = markable(MARKABLE)

    nationality = _short()
    gender = Text(allow_none=True, validate=one_of(Gender.codes()), metadata={"description": ", ".join(Gender.codes())})
    birth_date = _day()
    age = Number(allow_none=True, validate=in_range(0, MAX_AGE),
                 metadata={"description": "in years, when the birth date is not known"})
    occupation = _account(MAX_TEXT)
    organisation = _account(MAX_TEXT)
    activity = _account()
    situation = _account()


class PerpetratorSchema(FactsInput):
    MARKABLE = ROW_FACTS["perpetrators"]
    unknown = markable(MARKABLE)

    agency = Text(required=True, metadata={"description": "a key of the perpetrator_agency vocabulary"})
    unit = _short()
    position = _short()
    name = _short()
    actions = _account()

    @validates("agency")
    def _agency(self, value: str, **kwargs: Any) -> None:
        if self.known is not None and value not in self.known().agencies:
            raise fail(Problem("inactive_agency", {"choices": sorted(self.known().agencies)}))


class IncidentInputSchema(FactsInput):
    MARKABLE = ROW_FACTS["incidents"]
    unknown = markable(MARKABLE)

    occurred_on = _day()
    city = _short()
    place = _short()
    types = KeyList(required=True, metadata={"description": "keys of the incident_type vocabulary",
                                             "minItems": 1})  # the validator's no_incident_type
    description = Text(required=True, max_length=DESCRIPTION_MAX,
                       metadata={"description": f"up to {DESCRIPTION_MAX} characters"})
    perpetrators = List(WholeNumber(), allow_none=True,
                        metadata={"description": "ids of perpetrators of the same case"})
    episode = Text(allow_none=True, metadata={"description": "an episode key"})

    @validates("types")
    def _types(self, value: list[str], **kwargs: Any) -> None:
        if not value:
            raise fail(Problem("no_incident_type"))
        if self.known is not None and (missing := [k for k in value if k not in self.known().incident_types]):
            raise fail(Problem("unknown_incident_types", {"keys": [repr(k) for k in missing]}))

    @validates("perpetrators")
    def _perpetrators(self, value: list[int] | None, **kwargs: Any) -> None:
        self._ids(value, lambda k: k.perpetrator_ids)

    @validates("episode")
    def _episode(self, value: str | None, **kwargs: Any) -> None:
        if value and self.known is not None and value not in self.known().episodes:
            raise fail(Problem("unknown_episodes", {"keys": [repr(value)]}))


class CustodyPlaceSchema(InputSchema):
    place = Text(required=True, max_length=SHORT_MAX, metadata={"description": f"up to {SHORT_MAX} characters"})
    authority = _short()
    from_on = _day()
    to_on = _day()

    @validates_schema
    def _order(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        if _before(data.get("to_on"), data.get("from_on")):
            raise fail_on("to_on", Problem("before_start"))


class ArrestSchema(FactsInput):
    MARKABLE = ROW_FACTS["arrests"]
    unknown = markable(MARKABLE)

    incident_id = WholeNumber(allow_none=True, metadata={"description": "an incident of the same case"})
    arrested_on = _day()
    place = _short()
    forces = _account()
    warrant_shown = YesNo(allow_none=True, metadata={"description": "yes or no"})
    warrant_issued_by = _short()
    reasons_given = _account()
    legal_provision = _short()
    duration = _short()
    lawyer_access = _account()
    family_access = _account()
    released_on = _day()
    release = _account()
    custody = List(Nested(CustodyPlaceSchema), allow_none=True, metadata={
        "description": f"the places of custody in order (at most {MAX_CUSTODY_PLACES}); replaces the list"})

    @validates("incident_id")
    def _incident(self, value: int | None, **kwargs: Any) -> None:
        self._ids(value, lambda k: k.incident_ids)

    @validates("custody")
    def _custody(self, value: list[Any] | None, **kwargs: Any) -> None:
        if value and len(value) > MAX_CUSTODY_PLACES:
            raise fail(Problem("too_many", {"max": MAX_CUSTODY_PLACES}))


class IllTreatmentSchema(FactsInput):
    MARKABLE = ROW_FACTS["ill_treatments"]
    unknown = markable(MARKABLE)

    incident_id = WholeNumber(allow_none=True, metadata={"description": "an incident of the same case"})
    methods = _account()
    duration = _short()
    effects = _account()
    medical_evidence = _account()
    complaints = _account()
    outcome = _account()

    @validates("incident_id")
    def _incident(self, value: int | None, **kwargs: Any) -> None:
        self._ids(value, lambda k: k.incident_ids)


class RemedyStepSchema(FactsInput):
    MARKABLE = ROW_FACTS["remedy_steps"]
    unknown = markable(MARKABLE)

    taken_on = _day()
    authority = Text(required=True, max_length=SHORT_MAX, metadata={"description": f"up to {SHORT_MAX} characters"})
    outcome = _account()
    decided_on = _day()
    final = YesNo(allow_none=True, metadata={"description": "the last decision available in domestic law"})


class UnknownFactsSchema(InputSchema):
    """Case-level facts marked or unmarked "not known" (``workflow.facts.CASE_FACTS``)."""

    mark = KeyList(allow_none=True, validate=lambda v: _case_facts(v), metadata={
        "description": "keys to mark: " + ", ".join(CASE_FACTS)})
    unmark = KeyList(allow_none=True, validate=lambda v: _case_facts(v), metadata={"description": "keys to unmark"})


def _case_facts(value: list[str] | None) -> None:
    if value and (wrong := [key for key in value if key not in CASE_FACTS]):
        raise fail(Problem("not_markable", {"names": wrong, "choices": list(CASE_FACTS)}))


# The input schema of each kind of row, by the kind's name in ``workflow/facts.py``.
ROW_SCHEMAS: Mapping[str, type[FactsInput]] = {
    "perpetrators": PerpetratorSchema, "incidents": IncidentInputSchema, "arrests": ArrestSchema,
    "ill_treatments": IllTreatmentSchema, "remedy_steps": RemedyStepSchema,
}
# Pairs of days where the second may not come before the first, per kind (checked on the merged record).
DATE_ORDER: Mapping[str, tuple[tuple[str, str], ...]] = {
    "arrests": (("arrested_on", "released_on"),),
    "remedy_steps": (("taken_on", "decided_on"),),
}


def record_problems(kind: str, values: Mapping[str, Any], unknown: Sequence[str]) -> dict[str, Problem]:
    """What is wrong with a record as a whole, once an update is merged into what is stored: a field both given
    and marked not known, a day before the one it follows."""
    problems = {name: Problem("known_and_unknown") for name in unknown if _given(values.get(name))}
    for first, then in DATE_ORDER.get(kind, ()):
        if _before(values.get(then), values.get(first)):
            problems.setdefault(then, Problem("before_start"))
    return problems


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != ()


def _before(later: date | None, earlier: date | None) -> bool:
    return later is not None and earlier is not None and later < earlier


def fail_on(field: str, problem: Problem) -> ValidationError:
    """A schema-level error on one field (marshmallow's ``field_name``)."""
    return ValidationError([problem], field_name=field)  # type: ignore[list-item]
