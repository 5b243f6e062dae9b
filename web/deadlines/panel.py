"""The deadlines panel of the case page: every clock of the case, and the replies to a body's requests for
information that legal officers and managers mark as sent."""

from __future__ import annotations

from typing import Any

from web.panel import CasePage
from workflow.roles import DEADLINE_CLOSERS
from workflow.services.deadlines import open_reply_deadlines


def deadlines_panel(page: CasePage, posted: Any) -> dict[str, Any]:
    rows = [(d, bool(d.overdue(page.now))) for d in page.read.deadlines]
    return {
        "rows": rows, "any_overdue": any(overdue for _, overdue in rows), "bodies": page.bodies,
        "replies": open_reply_deadlines(page.session, page.read.case.id)
        if page.actor.role in DEADLINE_CLOSERS else [],
    }
