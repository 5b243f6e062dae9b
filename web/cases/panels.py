"""The case page's own panels: the complainant, what happened, the timeline and the history."""

from __future__ import annotations

from typing import Any

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


def timeline_panel(page: CasePage, posted: Any) -> dict[str, Any]:
    return {"entries": case_timeline(page.session, page.read.case.id)}


def history_panel(page: CasePage, posted: Any) -> dict[str, Any]:
    events = case_history(page.session, page.read.case.id)
    return {"entries": history_entries(events, review_reasons(page.session, events))}
