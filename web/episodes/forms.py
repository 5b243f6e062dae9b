"""The episodes file upload and the edit of one episode (``services/episodes`` and ``schemas/episodes`` decide
what is valid)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField

from web.forms import Required
from web.translate import lazy_gettext as _l
from workflow.schemas.episodes import KNOWN_TOTALS_MAX, TITLE_MAX


class EpisodesUploadForm(FlaskForm):
    file = FileField(_l("Episodes file (CSV or XLSX: key, title, start_date, end_date; optional: description, "
                        "known_totals, title_ru, title_en...)"),
                     validators=[Required()], render_kw={"accept": ".csv,.xlsx"})


class EpisodeForm(FlaskForm):
    """An episode's title, its title per document language (fields ``title_<language>`` added per request) and
    its known totals."""

    title = StringField(_l("Title"), validators=[Required()], render_kw={"maxlength": TITLE_MAX})
    known_totals = TextAreaField(
        _l("Known totals from other sources"), render_kw={"maxlength": KNOWN_TOTALS_MAX},
        description=_l("For example “more than 150 detained in two cities”. Documents print it instead of "
                       "“not known”."))


def episode_form(languages: tuple[str, ...], names: dict[str, str]) -> EpisodeForm:
    """The form with one title field per document language (``names``: language -> its name)."""

    class Form(EpisodeForm):
        pass

    for language in languages:
        setattr(Form, f"title_{language}", StringField(
            _l("Title in %(language)s", language=names[language]), render_kw={"maxlength": TITLE_MAX},
            description=_l("Leave empty to print the title above.")))
    return Form()
