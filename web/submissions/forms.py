"""The form to record a body's response (``services/responses.record_response`` says what is accepted)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.widgets import DateInput

from web.forms import Required
from web.labels import options
from web.translate import lazy_gettext as _l
from workflow.states import ResponseKind

REFERENCE_MAX = 200
SUMMARY_MAX = 20000


class ResponseForm(FlaskForm):
    kind = SelectField(_l("Kind of response"), validators=[Required()], validate_choice=False)
    received_on = StringField(_l("Received on"), widget=DateInput(), validators=[Required()])
    reference = StringField(_l("The body's reference"), render_kw={"maxlength": REFERENCE_MAX})
    summary = TextAreaField(_l("Summary"), render_kw={"maxlength": SUMMARY_MAX})
    file = FileField(_l("The letter (PDF, JPEG, PNG or DOCX; optional)"),
                     render_kw={"accept": ".pdf,.jpg,.jpeg,.png,.docx"})


def response_form(filing_id: int, **kwargs: Any) -> ResponseForm:
    form = ResponseForm(prefix=f"response{filing_id}", **kwargs)
    form.kind.choices = options("response_kind", ResponseKind.codes())
    return form


class FilingVersionForm(FlaskForm):
    """The lawyer's final word: the edited filing (``services/filing_versions.upload_version`` checks it)."""

    file = FileField(_l("The edited filing (.docx or PDF)"), render_kw={"accept": ".docx,.pdf"})


class FilingLanguageForm(FlaskForm):
    language = SelectField(_l("Language of the filing"), validators=[Required()], validate_choice=False)


def filing_version_form(filing_id: int, **kwargs: Any) -> FilingVersionForm:
    return FilingVersionForm(prefix=f"version{filing_id}", **kwargs)


def filing_language_form(filing_id: int, current: str, languages: tuple[str, ...], **kwargs: Any) -> FilingLanguageForm:
    form = FilingLanguageForm(prefix=f"language{filing_id}", data={"language": current}, **kwargs)
    form.language.choices = options("locale", languages)
    return form
