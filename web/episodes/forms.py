"""The episodes file upload (``services/importer.read_episodes`` decides what is valid)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from web.forms import Required


class EpisodesUploadForm(FlaskForm):
    file = FileField(_l("Episodes file (CSV or XLSX: key, title, start_date, end_date, description)"),
                     validators=[Required()], render_kw={"accept": ".csv,.xlsx"})
