"""Who may change the facts for the filings, what an input about a case may name, and the version a page's
form was opened on (``services/facts.py`` records the facts with these).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workflow import vocab
from workflow.errors import Conflict, Forbidden
from workflow.models import AuditEvent, Case, Episode, User
from workflow.problems import Problem
from workflow.roles import FILING_FACT_EDITORS
from workflow.schemas.facts import ROW_SCHEMAS, FactsInput, PersonFactsSchema
from workflow.states import ENDED_STAGES

# A row's name in the audit log (object_type and the action's prefix: perpetrator_added, ..._updated, ..._removed).
ROW_NAMES: Mapping[str, str] = {
    "perpetrators": "perpetrator", "incidents": "incident", "arrests": "arrest", "ill_treatments": "ill_treatment",
    "remedy_steps": "remedy_step",
}
PERSON_FACTS_EDITED = "person_facts_edited"
UNKNOWN_FACTS_CHANGED = "unknown_facts_changed"
# The audit events that change what the person's facts form shows (intake's correction of the complainant too).
PERSON_CHANGES = ("case_opened", "case_updated", "person_edited", PERSON_FACTS_EDITED)
# What else changes an incident's form: the intake's facts are the first incident's.
INCIDENT_CHANGES = ("case_opened", "case_updated", "facts_edited")


def may_edit(actor: User, case: Case) -> bool:
    return actor.role in FILING_FACT_EDITORS and case.stage not in ENDED_STAGES


def check_may_edit(actor: User, case: Case) -> None:
    if actor.role not in FILING_FACT_EDITORS:
        raise Forbidden("your role may not change the facts of this case")
    if case.stage in ENDED_STAGES:
        raise Conflict("the case has ended; its record stays as it was", errors={"_case": Problem("case_ended")})


class CaseKeys:
    """The keys and ids an input about this case may name (``schemas.facts.FactsKeys``), read when first asked."""

    def __init__(self, session: Session, case: Case) -> None:
        self.session, self.case = session, case

    @cached_property
    def agencies(self) -> set[str]:
        return set(vocab.keys(self.session, "perpetrator_agency"))

    @cached_property
    def incident_types(self) -> set[str]:
        return set(vocab.keys(self.session, "incident_type"))

    @cached_property
    def episodes(self) -> set[str]:
        return set(self.session.scalars(select(Episode.key)))

    @cached_property
    def perpetrator_ids(self) -> set[int]:
        return {p.id for p in self.case.perpetrators}

    @cached_property
    def incident_ids(self) -> set[int]:
        return {i.id for i in self.case.incidents}


def input_schema(session: Session, case: Case, kind: str) -> FactsInput:
    """The input schema of ``kind`` ("person" or a row kind) checking keys against this case."""
    keys = CaseKeys(session, case)
    schema_class = PersonFactsSchema if kind == "person" else ROW_SCHEMAS[kind]
    return schema_class(known=lambda: keys)


def load_input(session: Session, case: Case, kind: str, data: Any, *, update: bool) -> dict[str, Any]:
    schema = input_schema(session, case, kind)
    # An update keeps what it leaves out: partial at the top level only, so a custody place still needs its place.
    partial = tuple(schema.fields) if update else False
    return schema.load_or_fail(data, "the facts have errors", partial=partial)


def version(session: Session, case: Case, kind: str, row_id: int | None = None) -> str:
    """The id of the latest audit event that changed what a form shows ("0" when none did): the person's facts
    (``kind`` "person"), or one row."""
    query = select(func.max(AuditEvent.id)).where(AuditEvent.case_id == case.id)
    if kind == "person":
        query = query.where(AuditEvent.action.in_(PERSON_CHANGES))
    else:
        own = (AuditEvent.object_type == ROW_NAMES[kind]) & (AuditEvent.object_id == str(row_id))
        query = query.where(or_(own, AuditEvent.action.in_(INCIDENT_CHANGES)) if kind == "incidents" else own)
    return str(session.scalar(query) or 0)


def check_version(session: Session, case: Case, kind: str, row_id: int | None, given: str | None) -> None:
    if given is None:
        return
    # Lock the case so that two edits cannot both pass the comparison (PostgreSQL; SQLite serialises writers).
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    if version(session, case, kind, row_id) != str(given):
        raise Conflict("the case changed since the form was opened",
                       errors={"version": Problem("changed_since_opened")})
