"""The forms of the process pages: the upload of a new version's files, and the confirmed activation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField

from web.forms import Required
from web.translate import lazy_gettext as _l


class UploadForm(FlaskForm):
    files = MultipleFileField(_l("BPMN files and their form schemas (.bpmn, .json)"), validators=[Required()],
                              render_kw={"accept": ".bpmn,.json", "multiple": True})


class ActivateForm(FlaskForm):
    # The confirmation is a box to tick rather than a script's dialog: the pages run no inline script.
    confirm = BooleanField(_l("I have read the changes: new cases and filings start on this version"),
                           validators=[Required()])
