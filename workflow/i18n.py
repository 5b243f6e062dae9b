"""Petitio's words in each UI language, for whatever speaks to a person outside a web request.

One catalog (``workflow/translations/<locale>/LC_MESSAGES/messages.po``) holds every word: the pages
(Flask-Babel reads the same folder, see ``web/__init__.py``) and what the worker sends (the daily digest,
the calendar feed) translate the same templates, so a Russian user reads the same label in both.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format, get_timezone_location
from babel.support import NullTranslations, Translations

UI_LANGUAGES = ("en", "ru", "kk")
DEFAULT_LANGUAGE = "en"
CATALOGS = Path(__file__).with_name("translations")


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (English, the source language, needs none)."""
    if language not in UI_LANGUAGES or language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(CATALOGS), [language])


def translate(language: str, template: str, **params: Any) -> str:
    """``template`` in ``language``, with ``%(name)s`` placeholders filled in."""
    text = translations(language).gettext(template)
    return text % params if params else text


def language_name(code: str, in_language: str) -> str:
    """A language's own name as ``in_language`` writes it (Babel's data: "Russian", "русский")."""
    try:
        name = Locale.parse(code).get_display_name(in_language)
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


# -- dates and times: one format per language, in the reader's time zone, labelled --------------------------

DEFAULT_TIMEZONE = "UTC"


@functools.cache
def timezones() -> tuple[str, ...]:
    """Every IANA zone name this system knows (zoneinfo), sorted: what a user may choose."""
    return tuple(sorted(available_timezones()))


def is_timezone(name: object) -> bool:
    return isinstance(name, str) and name in timezones()


def zone(name: str | None, default: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The zone a reader sees times in: theirs, else the organisation's (an unknown name falls back to UTC)."""
    for candidate in (name, default):
        if is_timezone(candidate):
            return ZoneInfo(candidate)  # type: ignore[arg-type]
    return ZoneInfo(DEFAULT_TIMEZONE)


def zone_label(tz: ZoneInfo, language: str) -> str:
    """A zone as people name it: its city in the reader's language (Almaty, Алматы), or UTC."""
    if tz.key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Zulu", "Etc/Zulu"):
        return "UTC"
    try:
        return get_timezone_location(tz, locale=_locale(language), return_city=True)
    except (LookupError, ValueError):
        return tz.key


def format_when(value: datetime | date, language: str, tz: ZoneInfo) -> str:
    """A moment as every page, mail and feed shows it: the language's medium date and short time in the
    reader's zone, with the zone ("6 Dec 2026, 14:05 (Almaty)"). A date alone is a calendar day (``format_day``)."""
    if not isinstance(value, datetime):
        return format_day(value, language)
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)  # stored times are UTC
    locale = _locale(language)
    text = get_datetime_format("medium", locale=locale).format(
        format_time(local, "short", tzinfo=tz, locale=locale), format_date(local.date(), "medium", locale=locale))
    return f"{text} ({zone_label(tz, language)})"


def format_day(value: date, language: str) -> str:
    """A calendar day (a deadline's day, the day an appeal was received): never shifted by a zone."""
    return format_date(value.date() if isinstance(value, datetime) else value, "medium", locale=_locale(language))


@functools.cache
def _locale(language: str) -> Locale:
    """Babel's locale, built once per language: given a name, each date formatted would parse it again."""
    return Locale.parse(language if language in UI_LANGUAGES else DEFAULT_LANGUAGE)
