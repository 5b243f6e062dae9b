"""The user's own settings: language and time zone, and their password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

from web.translate import lazy_gettext as _l
from workflow.i18n import UI_LANGUAGES, language_name


class PreferencesForm(FlaskForm):
    # The service decides what is valid (workflow/services/users.set_preferences): no choice check here.
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, language_name(code, code))
                                                  for code in UI_LANGUAGES], validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False,
                           description=_l("Times on the pages and in the daily mail are shown in this zone."))


class PasswordForm(FlaskForm):
    # Strength is the service's rule (workflow/services/passwords.py); the form only bounds the input.
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=500)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=500)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired(), Length(max=500)])
