"""The upload form of the case page (``services/documents.attach_document`` says what is accepted)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField

from web.forms import Required
from web.labels import options
from web.translate import lazy_gettext as _l
from workflow.states import UPLOAD_KINDS


class DocumentUploadForm(FlaskForm):
    kind = SelectField(_l("Kind of document"), validators=[Required()], validate_choice=False)
    file = FileField(_l("File (PDF, JPEG, PNG or DOCX)"), validators=[Required()],
                     render_kw={"accept": ".pdf,.jpg,.jpeg,.png,.docx"})


def upload_form(**kwargs: Any) -> DocumentUploadForm:
    form = DocumentUploadForm(prefix="upload", **kwargs)
    form.kind.choices = options("document", UPLOAD_KINDS)
    return form
