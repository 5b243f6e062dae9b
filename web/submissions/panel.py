"""The filings panel of the case page: each filing with its versions, the responses recorded and the form to record
one, and the bundle of filings and annexes; and what a page listing filing versions needs to link them."""

from __future__ import annotations

from typing import Any

from flask import current_app, g
from sqlalchemy.orm import Session

from filings import pdf
from web.labels import lacking_fact
from web.panel import CasePage
from web.submissions.forms import ResponseForm, filing_language_form, filing_version_form, response_form
from workflow.bodies import filing_languages, get_body
from workflow.models import Filing
from workflow.roles import (
    COLLECTIVE_READERS,
    DOCUMENT_READERS,
    FILING_BUNDLE_READERS,
    FILING_EDITORS,
    RESPONSE_RECORDERS,
)
from workflow.services.filing_documents import filing_versions, lacking_facts
from workflow.services.filing_versions import in_check
from workflow.states import FROZEN_FILING_STATES, OPEN_FILING_STATES, FilingState
from workflow.visibility import as_seen


def filing_links(*, collective: bool = False) -> dict[str, Any]:
    """Who may download filing versions here, and whether a PDF can be made.

    Managers read a collective complaint (they approve it), not individual filings (the service decides).
    """
    may = g.actor.role in FILING_BUNDLE_READERS or (collective and g.actor.role in COLLECTIVE_READERS)
    return {"may_download_filings": may, "pdf_available": pdf.office() is not None,
            "frozen_states": FROZEN_FILING_STATES}


def edit_forms(session: Session, filings: list[Filing]) -> dict[int, dict[str, Any]]:
    """Filing id -> the forms a legal officer may use on it now: ``version`` (upload the edited version) and, for
    an individual filing whose body offers more than one language, ``language``; ``lacking``, the facts the filing
    still prints as "to be completed", in words. Only while the filing waits for
    its legal check (``services/filing_versions``), which is when the service accepts them."""
    if g.actor.role not in FILING_EDITORS:
        return {}
    settings = current_app.config["PETITIO_SETTINGS"]
    found: dict[int, dict[str, Any]] = {}
    for filing in filings:
        if not in_check(session, filing):
            continue
        forms: dict[str, Any] = {"version": filing_version_form(filing.id, formdata=None)}
        # What the filing still prints as "to be completed": the legal officer records or marks each first.
        forms["lacking"] = [lacking_fact(key) for key in lacking_facts(session, settings, filing)]
        languages = filing_languages(get_body(session, filing.body))
        if filing.case_id is not None and len(languages) > 1:
            forms["language"] = filing_language_form(filing.id, filing.language, languages, formdata=None)
        found[filing.id] = forms
    return found


def filings_panel(page: CasePage, posted: tuple[int, ResponseForm] | None) -> dict[str, Any]:
    """``posted``: (filing id, the refused response form)."""
    filings = page.read.case.filings
    versions = filing_versions(page.session, [f.id for f in filings])
    may_record = page.actor.role in RESPONSE_RECORDERS
    forms = {}
    for filing in filings:
        if may_record and filing.submitted_on is not None and filing.state in OPEN_FILING_STATES:
            forms[filing.id] = posted[1] if posted is not None and posted[0] == filing.id else \
                response_form(filing.id, formdata=None)
    return {
        "filings": filings, "versions": versions,
        # The bundle zips the latest version of each filing not cancelled: offered when there is one.
        "has_bundle": any(versions[f.id] for f in filings if f.state != FilingState.CANCELLED),
        # An individual filing's responses are about one person: summaries for the roles that read names.
        "responses": {f.id: sorted(as_seen(page.actor.role, "responses", f.responses),
                                   key=lambda r: (r.received_on, r.id)) for f in filings},
        "response_forms": forms, "may_open_documents": page.actor.role in DOCUMENT_READERS,
        "edit_forms": edit_forms(page.session, filings),
        **filing_links(),
    }
