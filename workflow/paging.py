"""Lists a page at a time: one limit, one way to count and slice a query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PER_PAGE = 500
MAX_PAGE = 10_000_000  # far beyond any list; a larger page number is refused before it reaches OFFSET
DEFAULT_PER_PAGE = 50


def paginate(session: Session, query: Select[Any], *, page: int, per_page: int) -> tuple[list[Any], int]:
    """The rows of page ``page`` (from 1) of an ordered query, and how many rows the whole query has."""
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return list(rows), total
