"""The case page's notice of a stuck case: its process is in error. Staff see the step and when, never the error
(it may quote case data); the administrators have it on their page of instances in error."""

from __future__ import annotations

from typing import Any

from web.panel import CasePage
from workflow.services.repair import stuck


def stuck_panel(page: CasePage, _posted: Any) -> dict[str, Any] | None:
    found = stuck(page.session, page.read.case.id)
    return None if found is None else {"stuck": found}
