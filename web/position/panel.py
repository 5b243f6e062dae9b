"""Where a case or a collective complaint stands: its process diagrams (drawn by web/static/process-diagram.js
from the routes of ``position/routes.py``) and, beside them, the same in words for anyone without the picture.

The words come from the projections every save keeps (``process_position.case_steps``): the page does not load
the workflow (the diagram's position route does, when the script asks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for

from web.panel import CasePage
from workflow.models import CollectiveComplaint, Filing
from workflow.services.process_position import Steps, case_steps, instance_steps
from workflow.services.processes import CASE_PROCESS, COLLECTIVE_PROCESS, FILING_PROCESS


@dataclass(frozen=True)
class Diagram:
    """One diagram of the panel: ``body`` names the filing it shows, None for the case's or complaint's own."""

    diagram_url: str
    position_url: str
    body: str | None = None


def position_panel(page: CasePage, posted: Any) -> dict[str, Any]:
    """The case's process, then each filing's (one diagram of ``filing.bpmn`` per filing, in its own position)."""
    ref = page.read.case.ref
    diagrams = [Diagram(url_for("position.case_diagram", ref=ref, process_id=CASE_PROCESS),
                        url_for("position.case_position", ref=ref))]
    diagrams += [Diagram(url_for("position.case_diagram", ref=ref, process_id=FILING_PROCESS),
                         url_for("position.case_filing_position", ref=ref, filing_id=filing.id), filing.body)
                 for filing in _in_order(page.read.case.filings)]
    steps = case_steps(page.session, page.read.case.id, read=(page.read.tasks, page.read.deadlines))
    return _panel(diagrams, steps, page.bodies)


def collective_position_panel(session: Any, collective: CollectiveComplaint) -> dict[str, Any] | None:
    """The complaint's process and its filing's; None before its process started."""
    if collective.instance_id is None:
        return None
    key = collective.id
    diagrams = [Diagram(url_for("position.collective_diagram", collective_id=key, process_id=COLLECTIVE_PROCESS),
                        url_for("position.collective_position", collective_id=key))]
    filing = collective.filing
    if filing is not None:
        diagrams.append(Diagram(url_for("position.collective_diagram", collective_id=key, process_id=FILING_PROCESS),
                                url_for("position.collective_filing_position", collective_id=key,
                                        filing_id=filing.id), filing.body))
    bodies = {filing.id: filing.body} if filing is not None else {}
    return _panel(diagrams, instance_steps(session, collective.instance_id), bodies)


def _in_order(filings: list[Filing]) -> list[Filing]:
    return sorted(filings, key=lambda f: f.id)


def _panel(diagrams: list[Diagram], steps: Steps, bodies: dict[int, str]) -> dict[str, Any]:
    return {"diagrams": diagrams, "steps": steps, "bodies": bodies}
