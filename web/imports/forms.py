"""The forms of the import pages: the upload, and the confirm and cancel buttons (CSRF only).

What is accepted is decided by ``workflow/services/import_jobs.py`` and the import's schema; their problems come
back next to the controls (``web/messages.put_on_form``).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField

from web.forms import Required
from web.translate import lazy_gettext as _l


class ImportUploadForm(FlaskForm):
    spreadsheet = FileField(_l("Spreadsheet (.csv or .xlsx)"), validators=[Required()],
                            render_kw={"accept": ".csv,.xlsx"})
    documents = MultipleFileField(_l("Consent documents (a .zip, or many files at once)"),
                                  render_kw={"accept": ".zip,.pdf,.jpg,.jpeg,.png,.docx"})


class ConfirmForm(FlaskForm):
    """Confirming a previewed import, or cancelling it: the token is all it carries."""
