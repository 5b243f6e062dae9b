"""The case page's own panels: the complainant and what happened; and the case's timeline and history, drawn on
a page of their own (``cases.history``, linked from the case page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from web.history import history_entries
from web.panel import CasePage
from workflow.roles import person_fields
from workflow.services.dashboard import case_timeline
from workflow.services.history import case_history, review_reasons
from workflow.services.intake import may_edit_facts, may_edit_person


def person_panel(page: CasePage, posted: Any) -> dict[str, Any]:
    """The identity fields the role may read (the read is audited by ``read_case``)."""
    return {"fields": page.read.person, "sees_identity": "full_name" in person_fields(page.actor.role),
            "editable": may_edit_person(page.actor, page.read.case)}


def incidents_panel(page: CasePage, posted: Any) -> dict[str, Any]:
    """Places and descriptions only for the roles that read them (``workflow.visibility``)."""
    return {"episodes": page.read.case.episodes, "incidents": page.read.incidents,
            "editable": may_edit_facts(page.actor, page.read.case)}


def timeline_panel(session: Session, case_id: int) -> dict[str, Any]:
    return {"entries": case_timeline(session, case_id)}


def history_panel(session: Session, case_id: int) -> dict[str, Any]:
    events = case_history(session, case_id)
    return {"entries": history_entries(events, review_reasons(session, events))}
