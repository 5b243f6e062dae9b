"""The consent choices, the withdrawal and the consent queue as pages draw them (``schemas/consent.py`` and the
``verify_consent`` form schema say what is valid)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, Form, SelectChoice, SelectField, TextAreaField

from web.forms import Required
from web.labels import LABELS
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow.bodies import CODES
from workflow.models import ConsentRecord
from workflow.schemas.consent import PERMISSION_FLAGS, REASON_MAX, RISK_NOTE_MAX
from workflow.services.cases import cities
from workflow.services.episodes import episode_titles
from workflow.services.queues import TaskFilter

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
    reason = TextAreaField(_l("Why was consent withdrawn?"), validators=[Required()],
                           render_kw={"maxlength": REASON_MAX})


# -- the consent queue -------------------------------------------------------------------------------------------

URGENT_CHOICES = ("", "yes", "no")


class QueueFilterForm(Form):
    """Which part of the consent queue to work through: a read, so no CSRF token (and bookmarkable URLs)."""

    episode = SelectField(_l("Episode"), default="")
    city = SelectField(_l("City"), default="")
    urgent = SelectField(_l("Urgent"), default="")

    def task_filter(self) -> TaskFilter:
        """What the valid filters ask for; a filter with an unknown value (reported next to it) is ignored."""
        urgent = None if self.urgent.errors or not self.urgent.data else self.urgent.data == "yes"
        return TaskFilter(episode=_chosen(self.episode), city=_chosen(self.city), urgent=urgent)

    def args(self) -> dict[str, str]:
        """The valid filters as query arguments, to carry from one case of the queue to the next."""
        return {f.name: f.data for f in (self.episode, self.city, self.urgent) if f.data and not f.errors}


def _chosen(field: Any) -> Any:
    return None if field.errors else (field.data or None)


def queue_filter_form(session: Session, source: Any) -> QueueFilterForm:
    form = QueueFilterForm(source)
    anything = SelectChoice("", _("any"))
    form.episode.choices = [anything, *(SelectChoice(k, t) for k, t in episode_titles(session))]
    form.city.choices = [anything, *(SelectChoice(c, c) for c in cities(session))]
    form.urgent.choices = [anything, SelectChoice("yes", _("urgent only")), SelectChoice("no", _("not urgent"))]
    form.validate()  # an unknown value is reported next to its filter and then ignored
    return form

