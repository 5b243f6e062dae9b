"""Petitio's words in each UI language, for whatever speaks to a person outside a web request.

One catalog (``workflow/translations/<locale>/LC_MESSAGES/messages.po``) holds every word: the pages
(Flask-Babel reads the same folder, see ``web/__init__.py``) and what the worker sends (the daily digest,
the calendar feed) translate the same templates, so a Russian user reads the same label in both.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

UI_LANGUAGES = ("en", "ru")
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
