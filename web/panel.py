"""What a panel of the case page draws from (``web/cases/page.py`` composes the page from the panels)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from workflow.models import User
from workflow.services.cases import CaseRead

# ``/cases/<ref>?open=<panel>``: the case page with that panel's forms drawn. The forms of the facts, the consent
# choices and the upload are drawn only when asked for (a link in their panel) or when one was refused: drawn on
# every view, they were half the page's cost.
OPEN_ARG = "open"


@dataclass(frozen=True)
class Posted:
    """A form that was refused, for its panel: ``panel`` names it; ``form`` is what the panel takes back."""

    panel: str
    form: Any


@dataclass
class CasePage:
    """The case as this user may see it, at one moment."""

    session: Session
    read: CaseRead
    actor: User
    now: datetime
    opened: str | None = None  # the panel whose forms were asked for (OPEN_ARG)

    def wants_forms(self, panel: str, posted: Any) -> bool:
        """Whether ``panel`` draws its forms: asked for, or one of them was refused (``posted``)."""
        return posted is not None or self.opened == panel

    @cached_property
    def bodies(self) -> dict[int, str]:
        """filing id -> body, naming the body a filing's task or deadline is about."""
        return {f.id: f.body for f in self.read.case.filings}
