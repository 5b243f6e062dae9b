"""Dates and times as people read them: one format per language (Babel), in the reader's time zone, labelled.

The template filters ``datetimeformat`` and ``dateformat`` (and so the macros ``when`` and ``day`` of
``macros/format.html``) are these functions: Flask-Babel's own filters are replaced, so every template that
formats a time shows it the same way. The format argument templates pass is accepted and ignored: one format.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from wtforms import SelectChoice

from web.extensions import current_locale, select_timezone
from web.translate import gettext as _
from workflow.i18n import format_day, format_when, timezones, zone, zone_label


def reader_timezone() -> ZoneInfo:
    """The signed-in user's zone, else the organisation's (``Settings.timezone``)."""
    return zone(select_timezone())


def when(value: datetime | date | None, _format: str | None = None) -> str:
    """"6 Dec 2026, 14:05 (Almaty)"; a date without a time is a calendar day, never shifted."""
    if value is None:
        return ""
    return format_when(value, current_locale(), reader_timezone())


def day(value: date | datetime | None, _format: str | None = None) -> str:
    """A calendar day: a deadline's day or the day an appeal was received, as it was given (no zone)."""
    return "" if value is None else format_day(value, current_locale())


def timezone_label() -> str:
    return zone_label(reader_timezone(), current_locale())


def timezone_choices() -> list[SelectChoice]:
    """Every zone zoneinfo knows, after "the organisation's" (stored as no zone of one's own)."""
    default = current_app.config["PETITIO_SETTINGS"].timezone
    return [SelectChoice("", _("The organisation's (%(zone)s)", zone=default)),
            *(SelectChoice(name, name) for name in timezones())]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(datetimeformat=when, dateformat=day)
    app.add_template_global(timezone_label)
