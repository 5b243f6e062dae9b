"""The case page, composed of panels: each feature draws its own part from the case as the user may see it.

A panel is a function ``(page, posted) -> context or None`` (None: not shown to this user) with a template partial
of its own. A refused form is re-rendered by passing it to its panel only (``Posted``); every other panel is
drawn afresh. Reading the case audits the identity fields the role sees (``services/cases.read_case``). The timeline
and the history are a link to a page of their own (``cases.history``): drawn on every view, they were a quarter of
its cost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, render_template, request

from web.cases import panels as case_panels
from web.consent.panel import consent_panel
from web.database import db
from web.deadlines.panel import deadlines_panel
from web.documents.panel import documents_panel
from web.facts.panel import facts_panel
from web.loaders import no_case
from web.panel import OPEN_ARG, CasePage, Posted
from web.position.panel import position_panel
from web.repair.panel import stuck_panel
from web.review.panel import legal_facts_panel, review_parts
from web.submissions.panel import filings_panel
from web.tasks.panels import task_panels
from workflow.errors import NotFound
from workflow.models import utcnow
from workflow.services.cases import read_case


def _tasks(page: CasePage, refused: Any) -> dict[str, Any]:
    panels = task_panels(page.session, page.read.tasks, page.now, page.bodies, refused=refused)
    for panel in panels:
        panel.parts = review_parts(page.session, panel.bpmn_id, page.read, page.actor.role)
    return {"panels": panels}


PANELS: dict[str, Callable[[CasePage, Any], dict[str, Any] | None]] = {
    "stuck": stuck_panel,
    "tasks": _tasks,
    "position": position_panel,
    "person": case_panels.person_panel,
    "consent": consent_panel,
    "legal_facts": legal_facts_panel,
    "incidents": case_panels.incidents_panel,
    "facts": facts_panel,
    "deadlines": deadlines_panel,
    "filings": filings_panel,
    "documents": documents_panel,
}


def render_case(ref: str, posted: Posted | None = None) -> str:
    """The case page; ``posted``: a refused form, shown again in its panel with its errors."""
    session = db()
    try:
        read = read_case(session, ref, actor=g.actor, role=g.actor.role, channel="web")
    except NotFound:
        no_case()
    page = CasePage(session, read, g.actor, utcnow(), request.args.get(OPEN_ARG))
    panels = {name: draw(page, posted.form if posted is not None and posted.panel == name else None)
              for name, draw in PANELS.items()}
    return render_template("cases/case.html", case=read, panels=panels, now=page.now)
