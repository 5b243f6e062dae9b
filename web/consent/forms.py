"""The consent choices and the withdrawal as pages draw them (``schemas/consent.py`` says what is valid)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField

from web.forms import Required
from web.labels import LABELS
from workflow.bodies import CODES
from workflow.models import ConsentRecord
from workflow.schemas.consent import PERMISSION_FLAGS, RISK_NOTE_MAX

OVERRIDE_CHOICES = ("", "allow", "deny")


class ConsentPermissionsForm(FlaskForm):
    share_name_with_government = BooleanField(LABELS["permission"]["share_name_with_government"])
    publish_name = BooleanField(LABELS["permission"]["publish_name"])
    initials_only = BooleanField(LABELS["permission"]["initials_only"])
    anonymous = BooleanField(LABELS["permission"]["anonymous"])
    risk_note = TextAreaField(_l("Risk note (reprisals, threats, detention)"), render_kw={"maxlength": RISK_NOTE_MAX})

    def choices(self) -> dict[str, Any]:
        """What the form says, in the service's terms."""
        fields: dict[str, Any] = {f: bool(getattr(self, f).data) for f in PERMISSION_FLAGS}
        fields["body_overrides"] = {code: self[f"body_{code}"].data for code in CODES if self[f"body_{code}"].data}
        fields["risk_note"] = self.risk_note.data
        return fields


for _code in CODES:
    setattr(ConsentPermissionsForm, f"body_{_code}", SelectField(_code, choices=list(OVERRIDE_CHOICES), default="",
                                                                 validate_choice=False))


def consent_form(consent: ConsentRecord | None, **kwargs: Any) -> ConsentPermissionsForm:
    """The posted form (``formdata`` given), or one filled from the stored choices."""
    if "formdata" in kwargs:
        return ConsentPermissionsForm(prefix="consent", **kwargs)
    data: dict[str, Any] = {"share_name_with_government": True}  # the model's default for a new record
    if consent is not None:
        data = {f: bool(getattr(consent, f)) for f in PERMISSION_FLAGS}
        data["risk_note"] = consent.risk_note or ""
        data.update({f"body_{c}": v for c, v in (consent.body_overrides or {}).items() if c in CODES})
    return ConsentPermissionsForm(prefix="consent", formdata=None, data=data)


class WithdrawConsentForm(FlaskForm):
    reason = TextAreaField(_l("Why was consent withdrawn?"), validators=[Required()])
