"""The words of the pages in the user's language: ``gettext`` (``_``), ``lazy_gettext`` (``_l``) and the templates'
``_``/``ngettext``, through the request's catalog looked up once.

Flask-Babel looks the catalog up again for every string it translates (its context, the domain, the locale, its
cache: about a dozen context-local lookups), and a page translates 100 to 300 strings: a tenth of a case page's
time. Flask-Babel keeps a request's locale from its first lookup on, so the catalog of that first lookup is the
request's for good; this keeps it on ``g``. Outside a request it is Flask-Babel's answer (no translation).
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import get_translations
from flask_babel.speaklater import LazyString


def translations() -> NullTranslations:
    if not has_app_context():
        return get_translations()
    try:
        return g._petitio_catalog  # type: ignore[no-any-return]
    except AttributeError:
        g._petitio_catalog = found = get_translations()
        return found


def gettext(string: str, **variables: Any) -> str:
    text = translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """Translated when shown, in the language of the request that shows it (labels defined at import)."""
    return LazyString(gettext, string, **variables)


def install(app: Flask) -> None:
    """The templates' gettext callables (after ``babel.init_app``, which installed Flask-Babel's own)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
