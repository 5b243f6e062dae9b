"""The legal facts as the case page draws them (``schemas/legal_facts.py`` says what is valid)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.widgets import DateInput

from web.labels import LABELS, options
from workflow.models import LegalFacts
from workflow.schemas.legal_facts import FIELDS, NAME_MAX, SUMMARY_MAX
from workflow.states import EuStatus, OtherProcedure

FACTS = LABELS["fact"]
DATE_FACTS = ("remedies_exhausted_on", "other_procedure_concluded_on")


class LegalFactsForm(FlaskForm):
    state_code = StringField(FACTS["state_code"], render_kw={"maxlength": 2})
    deprived_of_liberty = BooleanField(FACTS["deprived_of_liberty"])
    torture_risk = BooleanField(FACTS["torture_risk"])
    remedies_exhausted_on = StringField(FACTS["remedies_exhausted_on"], widget=DateInput())
    remedies_summary = TextAreaField(FACTS["remedies_summary"], render_kw={"maxlength": SUMMARY_MAX})
    remedies_ineffective = BooleanField(FACTS["remedies_ineffective"])
    other_procedure = SelectField(FACTS["other_procedure"], validate_choice=False)
    other_procedure_name = StringField(FACTS["other_procedure_name"], render_kw={"maxlength": NAME_MAX})
    other_procedure_concluded_on = StringField(FACTS["other_procedure_concluded_on"], widget=DateInput())
    eu_status = SelectField(FACTS["eu_status"], validate_choice=False)
    eu_subject = BooleanField(FACTS["eu_subject"])

    def changes(self) -> dict[str, Any]:
        """Every fact as typed, in the service's terms."""
        return {name: self[name].data for name in FIELDS}


def legal_facts_form(facts: LegalFacts | None = None) -> LegalFactsForm:
    """The posted form, or (``facts`` given) one filled from the case's facts."""
    if facts is None:
        form = LegalFactsForm(prefix="facts")
    else:
        data = {name: getattr(facts, name) for name in FIELDS}
        data.update({name: data[name].isoformat() if data[name] else "" for name in DATE_FACTS})
        form = LegalFactsForm(prefix="facts", formdata=None, data=data)
    form.other_procedure.choices = options("other_procedure", OtherProcedure.codes())
    form.eu_status.choices = options("eu_status", EuStatus.codes())
    return form
