"""The collective complaint's page: its figures, its versions, the ready tasks of its process, its history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, render_template

from web.collective.forms import SECTION_LABELS, NarrativeForm, narrative_form
from web.database import db
from web.history import history_entries
from web.loaders import collective_or_404
from web.position.panel import collective_position_panel
from web.submissions.panel import edit_forms, filing_links
from web.tasks.panels import task_panels
from workflow.models import utcnow
from workflow.roles import COLLECTIVE_CREATORS
from workflow.services.collective import city_count, collective_tasks
from workflow.services.collective_checks import sections_with_names_cut, unfinished_sections
from workflow.services.filing_documents import filing_versions
from workflow.services.history import collective_history
from workflow.services.repair import stuck


@dataclass(frozen=True)
class Figures:
    cases: int
    cities: int
    appeals_received: int


def render_collective(collective_id: int, *, refused: dict[str, Any] | None = None,
                      text_form: NarrativeForm | None = None) -> str:
    """The complaint's page; ``refused``: task id -> a refused task form, shown again with its problems;
    ``text_form``: the complaint's text as posted, refused."""
    session = db()
    collective = collective_or_404(collective_id)
    filing = collective.filing
    tasks = collective_tasks(session, collective)
    may_write = g.actor.role in COLLECTIVE_CREATORS and any(t.bpmn_id == "check_filing" for t in tasks)
    bodies = {filing.id: filing.body} if filing is not None else {}
    return render_template(
        "collective/show.html", collective=collective, filing=filing,
        figures=Figures(len(collective.cases), city_count(session, collective), collective.appeals_received),
        panels=task_panels(session, tasks, utcnow(), bodies, refused=refused),
        versions=filing_versions(session, list(bodies)).get(filing.id, []) if filing else [],
        edit=edit_forms(session, [filing]).get(filing.id) if filing else None,
        history=history_entries(collective_history(session, collective)),
        position=collective_position_panel(session, collective),
        stuck=stuck(session, instance_id=collective.instance_id) if collective.instance_id else None,
        created_by=collective.created_by.display_name if collective.created_by else None, sections=SECTION_LABELS,
        unfinished=unfinished_sections(collective), names_cut=sections_with_names_cut(session, collective),
        text_form=(text_form or narrative_form(collective.narrative)) if may_write else None,
        text_fields=[key for key in SECTION_LABELS],
        **filing_links(collective=True))
