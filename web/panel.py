"""What a panel of the case page draws from (``web/cases/page.py`` composes the page from the panels)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from workflow.models import User
from workflow.services.cases import CaseRead


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

    @cached_property
    def bodies(self) -> dict[int, str]:
        """filing id -> body, naming the body a filing's task or deadline is about."""
        return {f.id: f.body for f in self.read.case.filings}
