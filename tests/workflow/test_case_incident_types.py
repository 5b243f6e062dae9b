"""The incident types as rows (``case_incident_types``), SQLite and PostgreSQL: the flush keeps them in step with
``incidents.types`` whichever way an incident is written, so the statistics count the same cases per type as
expanding every incident's JSON list does; the migration fills the table from the incidents already stored."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.helpers import open_sample_case
from workflow.models import Case, Incident, case_incident_types
from workflow.services import dashboard
from workflow.services.facts import add_incident, remove_incident, update_incident


def _from_json(session: Session) -> dict[str, int]:
    """Cases per type, from the incidents' JSON lists: what the statistics counted before the table."""
    per_case: dict[int, set[str]] = {}
    for case_id, types in session.execute(select(Incident.case_id, Incident.types)):
        per_case.setdefault(case_id, set()).update(types or ())
    return dict(Counter(kind for kinds in per_case.values() for kind in kinds))


def _stats(env) -> tuple[dict[str | None, int], dict[str, int]]:
    with env.uow() as session:
        return ({c.key: c.count for c in dashboard.statistics(session).cases_by_incident_type},
                _from_json(session))


def _case(env, ref: str) -> Case:
    with env.uow() as session:
        case = session.scalars(select(Case).where(Case.ref == ref)).one()
        session.expunge(case)
        return case


def test_counts_follow_every_write_of_an_incident(env, staff):
    open_sample_case(env, "T-1", incident_types=("detention_at_rally", "torture_ill_treatment"))
    open_sample_case(env, "T-2", incident_types=("interrogation",))
    open_sample_case(env, "T-3", incident_types=("interrogation", "detention_at_rally"))
    counts, reference = _stats(env)
    assert counts == reference == {"detention_at_rally": 2, "torture_ill_treatment": 1, "interrogation": 2}

    with env.uow() as session:  # a second incident repeating a type, and one adding a type
        t1 = session.scalars(select(Case.id).where(Case.ref == "T-1")).one()
        session.add(Incident(case_id=t1, types=["torture_ill_treatment", "search_and_seizure"]))
        session.add(Incident(case=session.get(Case, t1), types=["interrogation"]))
    counts, reference = _stats(env)
    assert counts == reference == {"detention_at_rally": 2, "torture_ill_treatment": 1, "interrogation": 3,
                                   "search_and_seizure": 1}

    with env.uow() as session:  # the intake incident's types change: the type it loses no longer counts
        first = session.scalars(select(Incident).where(Incident.case_id == t1).order_by(Incident.id)).first()
        first.types = ["interrogation"]
    counts, reference = _stats(env)
    assert counts == reference == {"torture_ill_treatment": 1, "interrogation": 3, "search_and_seizure": 1,
                                   "detention_at_rally": 1}

    with env.uow() as session:  # an incident removed: the type only it named no longer counts
        for incident in session.scalars(select(Incident).where(Incident.case_id == t1)):
            if "search_and_seizure" in incident.types:
                session.delete(incident)
    counts, reference = _stats(env)
    assert counts == reference == {"interrogation": 3, "detention_at_rally": 1}


def test_the_facts_services_keep_the_rows_in_step(env, staff):
    open_sample_case(env, "T-4", incident_types=("interrogation",))
    case = _case(env, "T-4")
    with env.uow() as session:
        actor = env.user(session, "lena")
        row = add_incident(session, actor, session.get(Case, case.id),
                           {"types": ["symbol_confiscation"], "description": "Fictional"})
        session.flush()
        row_id = row.id
    assert _stats(env)[0] == {"interrogation": 1, "symbol_confiscation": 1}
    with env.uow() as session:
        update_incident(session, env.user(session, "lena"), session.get(Case, case.id), row_id,
                        {"types": ["surveillance_threats"]})
    assert _stats(env)[0] == {"interrogation": 1, "surveillance_threats": 1}
    with env.uow() as session:
        remove_incident(session, env.user(session, "lena"), session.get(Case, case.id), row_id)
    counts, reference = _stats(env)
    assert counts == reference == {"interrogation": 1}
    with env.uow() as session:
        assert session.execute(select(case_incident_types.c.incident_type, case_incident_types.c.case_id)).all() == [
            ("interrogation", case.id)]
