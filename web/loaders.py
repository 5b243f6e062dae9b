"""The object a page is about, loaded once or answered with a 404 that says what was not found."""

from __future__ import annotations

from typing import NoReturn

from flask import abort, request

from web.database import db
from web.translate import gettext as _
from workflow.errors import NotFound
from workflow.models import MAX_ID, Case, CollectiveComplaint, Filing
from workflow.paging import MAX_PAGE, MAX_PER_PAGE
from workflow.services.cases import get_case
from workflow.services.collective import get_collective


def whole_number(raw: str, high: int = MAX_ID) -> int | None:
    """A query string's whole number from 0 to ``high`` (ASCII digits only: "²" is a digit to Python, not to int());
    None for anything else, which the caller answers 400 or 404 (a number beyond ``high`` names nothing)."""
    raw = raw.strip()
    # Python refuses to read a number of more than 4300 digits (ValueError): length first.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 40 or int(raw) > high:
        return None
    return int(raw)


def page_arg() -> int:
    """``page`` of a list's query string: a whole number from 1 (default 1); anything else is a 400, not a guess."""
    page = whole_number(request.args.get("page", "").strip() or "1", MAX_PAGE)
    if not page:
        abort(400, description=_("The page number must be a whole number from 1."))
    return page


def per_page_arg(default: int) -> int:
    """``per_page`` of a list's query string: 1 to the one paging limit; anything else is a 400."""
    raw = request.args.get("per_page", "").strip()
    if not raw:
        return default
    per_page = whole_number(raw, MAX_PER_PAGE)
    if not per_page:
        abort(400, description=_("Show from 1 to %(max)d items a page.", max=MAX_PER_PAGE))
    return per_page


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
