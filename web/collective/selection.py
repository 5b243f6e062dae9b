"""The cases a new collective complaint starts from ("Collective complaint from these cases"): references ticked on
a page (repeated ``case``), the cases a bulk job completed (``job``), or every case matching the case list's
filters (``from=cases`` with the list's own query parameters)."""

from __future__ import annotations

from flask import abort, g, request
from sqlalchemy.orm import Session

from web.cases.forms import filter_form
from web.loaders import whole_number
from workflow.services import bulk, jobs
from workflow.services.cases import list_cases

MAX_CASES = bulk.MAX_ITEMS


def from_these_cases(session: Session) -> list[str]:
    """The references the query names, in order, at most ``MAX_CASES``; [] when it names none."""
    refs = [r.strip() for r in request.args.getlist("case") if r.strip()]
    job = request.args.get("job")
    if job is not None:
        job_id = whole_number(job)
        if job_id is None:
            abort(404)  # names no job: like a job of someone else's, not found
        refs += bulk.done_refs(session, jobs.job_for(session, job_id, g.actor))
    if request.args.get("from") == "cases":
        found, _total = list_cases(session, filter_form(session).filters(), page=1, per_page=MAX_CASES)
        refs += [case.ref for case in found]
    return list(dict.fromkeys(refs))[:MAX_CASES]
