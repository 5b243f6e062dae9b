"""The object a page is about, loaded once or answered with a 404 that says what was not found."""

from __future__ import annotations

from typing import NoReturn

from flask import abort, request
from flask_babel import gettext as _

from web.database import db
from workflow.errors import NotFound
from workflow.models import Case, CollectiveComplaint, Filing
from workflow.paging import MAX_PER_PAGE
from workflow.services.cases import get_case
from workflow.services.collective import get_collective

MAX_PAGE = 10_000_000


def page_arg() -> int:
    """``page`` of a list's query string: a whole number from 1 (default 1); anything else is a 400, not a guess."""
    raw = request.args.get("page", "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description=_("The page number must be a whole number from 1."))
    return int(raw)


def per_page_arg(default: int) -> int:
    """``per_page`` of a list's query string: 1 to the one paging limit; anything else is a 400."""
    raw = request.args.get("per_page", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PER_PAGE:
        abort(400, description=_("Show from 1 to %(max)d items a page.", max=MAX_PER_PAGE))
    return int(raw)


def no_case() -> NoReturn:
    abort(404, description=_("There is no case with this reference."))


def case_or_404(ref: str) -> Case:
    try:
        return get_case(db(), ref)
    except NotFound:
        no_case()


def filing_or_404(filing_id: int) -> Filing:
    filing = db().get(Filing, filing_id)
    if filing is None:
        abort(404, description=_("There is no such filing."))
    return filing


def collective_or_404(collective_id: int) -> CollectiveComplaint:
    try:
        return get_collective(db(), collective_id)
    except NotFound:
        abort(404, description=_("There is no such collective complaint."))
