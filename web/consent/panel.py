"""The consent panel of the case page: status, the two documents behind it, what the complainant allows (or the
form to change it, drawn when asked for: ``web/panel.py`` OPEN_ARG), the forms to sign."""

from __future__ import annotations

from typing import Any

from flask import current_app

from filings.consent_forms import FORMS, review_statuses
from web.consent.forms import ConsentPermissionsForm, consent_form
from web.panel import CasePage
from workflow.bodies import CODES
from workflow.models import User
from workflow.roles import CONSENT_EDITORS, CONSENT_WITHDRAWERS, DOCUMENT_READERS, SIGNATURE_FORM_MAKERS
from workflow.schemas.consent import PERMISSION_FLAGS
from workflow.states import CONSENT_DOCUMENTS, ConsentStatus


def consent_panel(page: CasePage, posted: ConsentPermissionsForm | None) -> dict[str, Any]:
    case, role = page.read.case, page.actor.role
    consent = case.consent
    withdrawn = consent is not None and consent.status == ConsentStatus.WITHDRAWN
    editable = role in CONSENT_EDITORS and not withdrawn
    return {
        "record": _record(page, consent, show_risk_note=role in CONSENT_EDITORS) if consent is not None else None,
        "form": (posted or consent_form(consent)) if editable and page.wants_forms("consent", posted) else None,
        "editable": editable,
        "body_codes": list(CODES),
        "may_withdraw": role in CONSENT_WITHDRAWERS and not withdrawn,
        "may_open_documents": role in DOCUMENT_READERS,
        "forms_to_sign": list(FORMS) if role in SIGNATURE_FORM_MAKERS else [],
        # language -> "awaiting a lawyer's reading" or None: staff see which wording no lawyer has read yet
        "form_languages": review_statuses(current_app.config["PETITIO_SETTINGS"].templates_dir)
        if role in SIGNATURE_FORM_MAKERS else {},
    }


def _record(page: CasePage, consent: Any, *, show_risk_note: bool) -> dict[str, Any]:
    verifier = page.session.get(User, consent.verified_by_id) if consent.verified_by_id else None
    proofs = []
    for kind in CONSENT_DOCUMENTS:
        versions = [d for d in page.read.case.documents if d.kind == kind]
        proofs.append((kind, getattr(consent, f"{kind}_verified"), max(versions, key=lambda d: d.version)
                       if versions else None))
    return {
        "status": consent.status, "verified_at": consent.verified_at, "withdrawn_at": consent.withdrawn_at,
        "verified_by": verifier.display_name if verifier else None, "proofs": proofs,
        "flags": {f: bool(getattr(consent, f)) for f in PERMISSION_FLAGS},
        "overrides": dict(consent.body_overrides or {}),
        "risk_note": consent.risk_note if show_risk_note else None,
    }
