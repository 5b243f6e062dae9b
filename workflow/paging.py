"""Lists a page at a time: one limit, one way to count and slice a query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PER_PAGE = 500
MAX_PAGE = 10_000_000  # far beyond any list; a larger page number is refused before it reaches OFFSET
DEFAULT_PER_PAGE = 50


def count_bound(count_up_to: int, *, page: int, per_page: int) -> int:
    """How far a page's count goes when counting may stop at ``count_up_to``: never short of the page itself, so
    that the page shown is always inside what was counted."""
    return max(count_up_to, max(page, 1) * per_page)


def paginate(session: Session, query: Select[Any], *, page: int, per_page: int,
             count_up_to: int | None = None) -> tuple[list[Any], int]:
    """The rows of page ``page`` (from 1) of an ordered query, and how many rows the whole query has.

    With ``count_up_to`` (from ``count_bound``), counting stops at that many rows and one more: a total above
    ``count_up_to`` means "more than ``count_up_to``". PostgreSQL counts by reading an index entry per row (7 ms
    at 100,000 cases, on every look at an unfiltered list); a count that stops costs what its bound does.
    """
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    counted = query.order_by(None)
    if count_up_to is not None:
        counted = counted.limit(count_up_to + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    rows = session.execute(query.offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return list(rows), total
