"""The filing facts an appeal row may carry (``schemas.appeal.FILLED``): written on create and on update, never
over what a person entered.

The rule: **the import only fills**. An empty cell (or a column the file does not have) leaves the case as it
is. A value is written where the case holds nothing yet, or still holds exactly what the import wrote last time;
anything a person entered or changed since is left alone, however the row changes. Rows follow the same rule:
the import creates one perpetrator per agency and one arrest, all linked to the intake incident; a later import
replaces those rows only while they are as it left them (a perpetrator a person gave a unit, a name or an
account to, or an arrest a person corrected or completed, is theirs from then on), and never recreates a row a
person deleted.

What the import wrote is remembered in ``Case.import_marks``: for a value, its keyed digest (the blind index's
HMAC, ``crypto.blind_indexes``, so never the value itself); for rows, their ids with such a digest of their
content. After a key rotation the old digests no longer match, so the import then leaves the values alone: it
errs on the side of the person's work.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from workflow import crypto
from workflow.models import Arrest, Case, Incident, Perpetrator
from workflow.schemas.appeal import PERSON_FILLED, Appeal

PERPETRATOR_FIELDS = ("agency", "unit", "position", "name", "actions", "unknown")
ARREST_FIELDS = ("arrested_on", "place", "forces", "warrant_shown", "warrant_issued_by", "reasons_given",
                 "legal_provision", "duration", "lawyer_access", "family_access", "released_on", "release", "unknown")


def _digest(value: Any) -> str | None:
    return crypto.blind_index(json.dumps(value, default=str, sort_keys=True, ensure_ascii=False))


def _is_mark(value: Any, mark: str | None) -> bool:
    return mark is not None and mark in crypto.blind_indexes(
        json.dumps(value, default=str, sort_keys=True, ensure_ascii=False))


def _row_content(row: Perpetrator | Arrest, fields: tuple[str, ...]) -> list[Any]:
    content = [getattr(row, name) or None for name in fields]
    if isinstance(row, Arrest):
        content.append([(c.place, c.authority, c.from_on, c.to_on) for c in row.custody])
    return content


def apply_import_facts(session: Session, case: Case, appeal: Appeal, *, previous_city: str | None = None) -> None:
    """Fill the case's facts from ``appeal`` as the rule above says. The intake incident must exist.

    ``previous_city``: the person's city before this update. An incident city equal to it is the default (the
    person's city), not anyone's entry, so it follows the person's city, also on cases imported before the
    import kept marks."""
    marks: dict[str, Any] = dict(case.import_marks or {})
    incident = case.incidents[0]
    for name in PERSON_FILLED:
        _fill(marks, f"person.{name}", case.person, name, getattr(appeal, name))
    _fill(marks, "incident.city", incident, "city", appeal.incident_city or appeal.city or None,
          default=previous_city)
    _fill(marks, "incident.place", incident, "place", appeal.incident_place)
    if appeal.perpetrator_agencies:
        _perpetrators(session, case, incident, appeal.perpetrator_agencies, marks)
    if appeal.has_arrest:
        _arrest(session, case, incident, appeal, marks)
    case.import_marks = marks


def _fill(marks: dict[str, Any], key: str, target: object, name: str, value: Any, default: Any = None) -> None:
    if value is None:
        return
    current = getattr(target, name)
    if current in (None, "") or (default is not None and current == default) or _is_mark(current, marks.get(key)):
        setattr(target, name, value)
        marks[key] = _digest(value)


def _perpetrators(session: Session, case: Case, incident: Incident, agencies: tuple[str, ...],
                  marks: dict[str, Any]) -> None:
    made: dict[str, str] = dict(marks.get("perpetrators") or {})  # row id -> digest of the row as made
    rows = {str(p.id): p for p in case.perpetrators}
    kept: dict[str, str] = {}
    for row_id, mark in made.items():
        row = rows.get(row_id)
        if row is None:
            # A person deleted it: remember it so that the same agency is not brought back.
            kept[row_id] = mark
        elif _is_mark(_row_content(row, PERPETRATOR_FIELDS), mark) and row.agency not in agencies:
            if row in incident.perpetrators:
                incident.perpetrators.remove(row)
            case.perpetrators.remove(row)
            session.delete(row)
        elif _is_mark(_row_content(row, PERPETRATOR_FIELDS), mark):
            kept[row_id] = mark
        # else: a person changed the row; it is theirs now and no longer the import's.
    deleted = {mark for row_id, mark in kept.items() if row_id not in rows}
    present = {p.agency for p in case.perpetrators}
    for agency in agencies:
        as_made = [agency, *([None] * (len(PERPETRATOR_FIELDS) - 1))]  # what the import writes: the agency only
        if agency in present or any(_is_mark(as_made, mark) for mark in deleted):
            continue
        fresh = Perpetrator(agency=agency, unknown=[])
        case.perpetrators.append(fresh)  # in the session through the case (no backref cascade in SQLAlchemy 2)
        incident.perpetrators.append(fresh)
        session.flush()
        kept[str(fresh.id)] = _digest(_row_content(fresh, PERPETRATOR_FIELDS))
    marks["perpetrators"] = kept


def _arrest(session: Session, case: Case, incident: Incident, appeal: Appeal, marks: dict[str, Any]) -> None:
    made = marks.get("arrest")  # {"id": row id, "mark": digest} once the import made one
    if made is None:
        row = Arrest(unknown=[])
        case.arrests.append(row)
    else:
        row = next((a for a in case.arrests if a.id == made["id"]), None)
        if row is None or not _is_mark(_row_content(row, ARREST_FIELDS), made["mark"]):
            return  # deleted, or changed by a person: theirs
    row.arrested_on = appeal.arrest_date
    row.place = appeal.arrest_place
    row.forces = appeal.arrest_forces
    row.legal_provision = appeal.legal_provision
    if incident.id is None:
        session.flush()
    row.incident_id = incident.id
    session.flush()
    marks["arrest"] = {"id": row.id, "mark": _digest(_row_content(row, ARREST_FIELDS))}
