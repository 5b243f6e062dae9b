"""The facts the filing bodies ask for, recorded by staff: the person's facts, and the rows of a case
(perpetrators, incidents, arrests with their custody places, ill-treatment, remedy steps), each with the fields
a person marked "not known"; and the case-level "not known" markers (``workflow/facts.py`` owns the keys).

Rules: intake and legal officers record (``roles.FILING_FACT_EDITORS``), as they correct the case's facts; a case
that has ended is not edited (its record stays as it was when the work on it ended). Each change is audited by
field NAME only, never values. A page's form carries a ``version`` (the latest audit event that changed what it
shows, as ``services/intake.py`` does for its corrections): a stale form is refused with a Conflict. The API
sends no version. Every verb flushes; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import NotFound, ValidationFailed
from workflow.facts import CASE_FACTS, PERSON_FACTS, ROW_KINDS
from workflow.models import (
    Arrest,
    Case,
    CustodyPlace,
    Episode,
    IllTreatment,
    Incident,
    Perpetrator,
    RemedyStep,
    User,
)
from workflow.problems import Problem
from workflow.roles import FILING_FACT_READERS, OPERATOR
from workflow.schemas.facts import (
    ROW_SCHEMAS,
    UnknownFactsSchema,
    record_problems,
)
from workflow.services.fact_access import (
    PERSON_FACTS_EDITED,
    ROW_NAMES,
    UNKNOWN_FACTS_CHANGED,
    check_may_edit,
    check_version,
    load_input,
)
from workflow.visibility import as_seen, text_fields_read

MODELS: Mapping[str, type[Any]] = {
    "perpetrators": Perpetrator, "incidents": Incident, "arrests": Arrest, "ill_treatments": IllTreatment,
    "remedy_steps": RemedyStep,
}
# -- the person's facts ----------------------------------------------------------------------------------------

def person_values(case: Case) -> dict[str, Any]:
    """The person's facts as the input names them, with ``unknown`` (names without the ``person.`` prefix)."""
    values = {name: getattr(case.person, name) for name in PERSON_FACTS}
    values["age"] = int(values["age"]) if values["age"] and str(values["age"]).isdigit() else values["age"]
    values["unknown"] = [key.removeprefix("person.") for key in case.unknown_facts or () if key.startswith("person.")]
    return values


def update_person_facts(session: Session, actor: User, case: Case, data: Any, *, version: str | None = None,
                        channel: str = "web") -> list[str]:
    """Change the person's facts (fields left out keep their value; ``unknown`` replaces the person's markers).
    Returns the names changed, audited as ``person_facts_edited``. Raises ValidationFailed, Conflict."""
    check_may_edit(actor, case)
    values = load_input(session, case, "person", data, update=True)
    check_version(session, case, "person", None, version)
    stored = person_values(case)
    wanted = {**stored, **values}
    wanted["unknown"] = list(dict.fromkeys(wanted.get("unknown") or ()))
    if problems := record_problems("person", wanted, wanted["unknown"]):
        raise ValidationFailed("the facts have errors", errors=problems)
    changed = [name for name in (*PERSON_FACTS, "unknown") if stored[name] != wanted[name]]
    if not changed:
        return []
    for name in PERSON_FACTS:
        value = wanted[name]
        setattr(case.person, name, str(value) if name == "age" and value is not None else value)
    others = [key for key in case.unknown_facts or () if not key.startswith("person.")]
    case.unknown_facts = [*others, *(f"person.{name}" for name in wanted["unknown"])]
    session.flush()
    audit(session, actor, PERSON_FACTS_EDITED, "case", case.ref, case.id, {"fields": changed, "channel": channel})
    return changed


# -- case-level "not known" -------------------------------------------------------------------------------------

def change_unknown_facts(session: Session, actor: User, case: Case, data: Any, *, channel: str = "web") -> list[str]:
    """Mark (``mark``) or unmark (``unmark``) case-level facts "not known" (``facts.CASE_FACTS``). A fact that is
    recorded (a person's value, a row of that kind) cannot be marked. Returns the case's markers afterwards."""
    check_may_edit(actor, case)
    values = UnknownFactsSchema().load_or_fail(data, "the facts have errors")
    mark, unmark = list(values.get("mark") or ()), set(values.get("unmark") or ())
    person = person_values(case)
    problems = {key: Problem("known_and_unknown") for key in mark if key in unmark or _recorded(case, person, key)}
    if problems:
        raise ValidationFailed("the facts have errors", errors=problems)
    before = list(case.unknown_facts or ())
    after = [key for key in CASE_FACTS if (key in before or key in mark) and key not in unmark]
    if after != [key for key in CASE_FACTS if key in before]:
        case.unknown_facts = after
        session.flush()
        audit(session, actor, UNKNOWN_FACTS_CHANGED, "case", case.ref, case.id,
              {"marked": sorted(set(after) - set(before)), "unmarked": sorted(set(before) - set(after)),
               "channel": channel})
    return after


def _recorded(case: Case, person: Mapping[str, Any], key: str) -> bool:
    if key in ROW_KINDS:
        return bool(getattr(case, key))
    return person.get(key.removeprefix("person.")) not in (None, "")


def mark_unknown(session: Session, actor: User, case: Case, keys: Sequence[str], *, channel: str = "web") -> list[str]:
    return change_unknown_facts(session, actor, case, {"mark": list(keys)}, channel=channel)


def unmark_unknown(session: Session, actor: User, case: Case, keys: Sequence[str], *,
                   channel: str = "web") -> list[str]:
    return change_unknown_facts(session, actor, case, {"unmark": list(keys)}, channel=channel)


# -- rows ---------------------------------------------------------------------------------------------------------

def row_of(case: Case, kind: str, row_id: int) -> Any:
    """One row of the case (a row of another case is "not found", as an unknown id is)."""
    row = next((r for r in getattr(case, kind) if r.id == row_id), None)
    if row is None:
        raise NotFound(f"no such {ROW_NAMES[kind].replace('_', ' ')} on this case")
    return row


def row_values(session: Session, kind: str, row: Any) -> dict[str, Any]:
    """A stored row as its input names it (what an edit form shows, and what an update is merged into)."""
    values: dict[str, Any] = {}
    for name in ROW_SCHEMAS[kind]._declared_fields:
        if name == "perpetrators":
            values[name] = [p.id for p in row.perpetrators]
        elif name == "episode":
            # From the identity map when the case's episodes were loaded with it (get_case): no query per row.
            episode = session.get(Episode, row.episode_id) if row.episode_id else None
            values[name] = episode.key if episode is not None else None
        elif name == "custody":
            values[name] = [{"place": c.place, "authority": c.authority, "from_on": c.from_on, "to_on": c.to_on}
                            for c in row.custody]
        elif name == "warrant_shown":
            values[name] = {"yes": True, "no": False}.get(row.warrant_shown or "")
        elif name == "unknown":
            values[name] = list(row.unknown or ())
        else:
            values[name] = getattr(row, name)
    return values


def _put(session: Session, case: Case, kind: str, row: Any, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if name == "perpetrators":
            wanted = set(value or ())
            row.perpetrators = [p for p in case.perpetrators if p.id in wanted]
        elif name == "episode":
            row.episode_id = session.scalar(select(Episode.id).where(Episode.key == value)) if value else None
        elif name == "custody":
            row.custody = [CustodyPlace(position=index, place=c["place"], authority=c.get("authority"),
                                        from_on=c.get("from_on"), to_on=c.get("to_on"))
                           for index, c in enumerate(value or ())]
        elif name == "warrant_shown":
            row.warrant_shown = None if value is None else ("yes" if value else "no")
        elif name == "final":
            row.final = bool(value)
        elif name == "description":
            row.description = value or ""
        elif name == "unknown":
            row.unknown = list(dict.fromkeys(value or ()))
        else:
            setattr(row, name, value)


def _checked(kind: str, wanted: dict[str, Any]) -> None:
    wanted["unknown"] = list(dict.fromkeys(wanted.get("unknown") or ()))
    if problems := record_problems(kind, wanted, wanted["unknown"]):
        raise ValidationFailed("the facts have errors", errors=problems)


def add_row(session: Session, actor: User, case: Case, kind: str, data: Any, *, channel: str = "web") -> Any:
    """A new row of ``kind`` on the case; audited as ``<row>_added`` with the names of the fields given."""
    check_may_edit(actor, case)
    values = load_input(session, case, kind, data, update=False)
    _checked(kind, values)
    row = MODELS[kind](case=case)
    session.add(row)
    _put(session, case, kind, row, values)
    if kind in ROW_KINDS and kind in (case.unknown_facts or ()):
        case.unknown_facts = [key for key in case.unknown_facts if key != kind]  # one is known now
    session.flush()
    given = sorted(name for name, value in values.items() if value not in (None, "", [], ()))
    audit(session, actor, f"{ROW_NAMES[kind]}_added", ROW_NAMES[kind], row.id, case.id,
          {"fields": given, "channel": channel})
    return row


def update_row(session: Session, actor: User, case: Case, kind: str, row_id: int, data: Any, *,
               version: str | None = None, channel: str = "web") -> list[str]:
    """Change a row (fields left out keep their value; ``custody`` and ``perpetrators`` replace their lists).
    Returns the names changed, audited as ``<row>_updated``. Raises NotFound, ValidationFailed, Conflict."""
    check_may_edit(actor, case)
    row = row_of(case, kind, row_id)
    values = load_input(session, case, kind, data, update=True)
    check_version(session, case, kind, row_id, version)
    stored = row_values(session, kind, row)
    wanted = {**stored, **values}
    _checked(kind, wanted)
    changed = [name for name in stored if stored[name] != wanted[name]]
    if not changed:
        return []
    _put(session, case, kind, row, {name: wanted[name] for name in changed})
    session.flush()
    audit(session, actor, f"{ROW_NAMES[kind]}_updated", ROW_NAMES[kind], row.id, case.id,
          {"fields": changed, "channel": channel})
    return changed


def remove_row(session: Session, actor: User, case: Case, kind: str, row_id: int, *, version: str | None = None,
               channel: str = "web") -> None:
    """Remove a row (a perpetrator leaves the incidents that named it; arrests and ill-treatment keep no link to a
    removed incident). The incident recorded at intake stays: the appeal's corrections edit it."""
    check_may_edit(actor, case)
    row = row_of(case, kind, row_id)
    if kind == "incidents" and row is case.incidents[0]:
        raise ValidationFailed("the incident recorded at intake stays", errors={"_row": Problem("intake_incident")})
    check_version(session, case, kind, row_id, version)
    if kind == "perpetrators":
        for incident in case.incidents:
            if row in incident.perpetrators:
                incident.perpetrators.remove(row)
    if kind == "incidents":
        for linked in (*case.arrests, *case.ill_treatments):
            if linked.incident_id == row.id:
                linked.incident_id = None
    session.delete(row)
    session.flush()
    session.expire(case, [kind])
    audit(session, actor, f"{ROW_NAMES[kind]}_removed", ROW_NAMES[kind], row_id, case.id, {"channel": channel})


# -- reading ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FactsRead:
    """The case's rows and markers for one reader (the person's facts come with the person, by role)."""

    unknown_facts: list[str]
    perpetrators: list[Perpetrator]
    incidents: list[Incident]
    arrests: list[Arrest]
    ill_treatments: list[IllTreatment]
    remedy_steps: list[RemedyStep]


def read_facts(session: Session, actor: User | None, case: Case, *, role: str, channel: str) -> FactsRead | None:
    """The rows as ``role`` may read them (None: not at all). Perpetrators' names, arrests and ill-treatment are
    sensitive: a read of any is audited as ``facts_read`` with the kinds read (never values)."""
    if role not in (*FILING_FACT_READERS, OPERATOR):
        return None
    # The rows as the role sees them: a role that does not read names reads no identity-bearing text either.
    read = FactsRead(list(case.unknown_facts or ()), *(as_seen(role, kind, getattr(case, kind)) for kind in (
        "perpetrators", "incidents", "arrests", "ill_treatments", "remedy_steps")))
    if kinds := [kind for kind in ROW_KINDS if getattr(read, kind)]:
        # The identity-bearing texts read are named too (``visibility``): none for a role that reads none.
        texts = text_fields_read(role, [kind for kind in (*ROW_KINDS, "incidents") if getattr(read, kind)])
        audit(session, actor, "facts_read", "case", case.ref, case.id,
              {"kinds": kinds, "channel": channel, **({"fields": texts} if texts else {})})
    return read


# -- the verbs, by kind (what the pages, the API and other services call) ----------------------------------------

def add_perpetrator(session: Session, actor: User, case: Case, data: Any, **kw: Any) -> Perpetrator:
    return add_row(session, actor, case, "perpetrators", data, **kw)


def update_perpetrator(session: Session, actor: User, case: Case, row_id: int, data: Any, **kw: Any) -> list[str]:
    return update_row(session, actor, case, "perpetrators", row_id, data, **kw)


def remove_perpetrator(session: Session, actor: User, case: Case, row_id: int, **kw: Any) -> None:
    remove_row(session, actor, case, "perpetrators", row_id, **kw)


def add_incident(session: Session, actor: User, case: Case, data: Any, **kw: Any) -> Incident:
    return add_row(session, actor, case, "incidents", data, **kw)


def update_incident(session: Session, actor: User, case: Case, row_id: int, data: Any, **kw: Any) -> list[str]:
    return update_row(session, actor, case, "incidents", row_id, data, **kw)


def remove_incident(session: Session, actor: User, case: Case, row_id: int, **kw: Any) -> None:
    remove_row(session, actor, case, "incidents", row_id, **kw)


def add_arrest(session: Session, actor: User, case: Case, data: Any, **kw: Any) -> Arrest:
    return add_row(session, actor, case, "arrests", data, **kw)


def update_arrest(session: Session, actor: User, case: Case, row_id: int, data: Any, **kw: Any) -> list[str]:
    return update_row(session, actor, case, "arrests", row_id, data, **kw)


def remove_arrest(session: Session, actor: User, case: Case, row_id: int, **kw: Any) -> None:
    remove_row(session, actor, case, "arrests", row_id, **kw)


def add_ill_treatment(session: Session, actor: User, case: Case, data: Any, **kw: Any) -> IllTreatment:
    return add_row(session, actor, case, "ill_treatments", data, **kw)


def update_ill_treatment(session: Session, actor: User, case: Case, row_id: int, data: Any, **kw: Any) -> list[str]:
    return update_row(session, actor, case, "ill_treatments", row_id, data, **kw)


def remove_ill_treatment(session: Session, actor: User, case: Case, row_id: int, **kw: Any) -> None:
    remove_row(session, actor, case, "ill_treatments", row_id, **kw)


def add_remedy_step(session: Session, actor: User, case: Case, data: Any, **kw: Any) -> RemedyStep:
    return add_row(session, actor, case, "remedy_steps", data, **kw)


def update_remedy_step(session: Session, actor: User, case: Case, row_id: int, data: Any, **kw: Any) -> list[str]:
    return update_row(session, actor, case, "remedy_steps", row_id, data, **kw)


def remove_remedy_step(session: Session, actor: User, case: Case, row_id: int, **kw: Any) -> None:
    remove_row(session, actor, case, "remedy_steps", row_id, **kw)
