"""The sign-in form and the language switch."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from web.translate import lazy_gettext as _l
from workflow.i18n import UI_LANGUAGES, language_name


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])


class LocaleForm(FlaskForm):
    # Each language in its own words, so that anyone finds theirs.
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, language_name(code, code))
                                                  for code in UI_LANGUAGES])


class CodeForm(FlaskForm):
    # Six digits from the app, or a recovery code ("abcd-efgh-jkmn-pqrs"): the service tells which.
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
