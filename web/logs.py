"""What the request logs may say: every secret a URL carries is replaced before a line is written.

The calendar feed's URL is its own credential (``/calendar/<secret>.ics`` serves a user's deadlines without a
session, as calendar apps need), so a log holding it would hand the feed to whoever reads the logs. Werkzeug's
request log (``petitio serve --dev``) prints the request line, and so does gunicorn's access log (``petitio
serve``). Both go through ``loggable`` here: ``RedactSecrets`` is installed on their loggers by ``create_app``, and
``loggable`` formats one path or line for any other log (a gunicorn ``access_log_format`` hook, a proxy's script).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# The path segments that are credentials, whatever comes before them (a prefix, a proxy's mount point) and
# wherever they stand in a log line (the request line, a referrer, an absolute URL).
_SECRET_IN_PATH = re.compile(r"(/calendar/)(?!(?:link|revoke)(?:[\s?#\"']|$))[^/\s?#\"']+?(\.ics)?(?=[\s?#\"']|$)")
# The search box takes a reference or a person's exact name (by POST; a GET with a name finds nothing, but the
# request line would still carry it).
_SEARCH_QUERY = re.compile(r"(/search\?)[^\s#\"']+")
# The request loggers of the servers we run under: gunicorn's (``petitio serve``) and werkzeug's (``--dev``).
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def loggable(text: str) -> str:
    """``text`` with every secret a URL in it carries replaced by ``[redacted]`` (and a search's query)."""
    text = _SECRET_IN_PATH.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2) or ''}", text)
    return _SEARCH_QUERY.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message with the secrets of its URLs redacted (the record is then passed on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = loggable(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactSecrets()


def install_log_redaction() -> None:
    """Put the filter on every request logger (idempotent: one filter however many apps are created).

    A filter on a logger sees the records logged there; the request loggers log on themselves, so every
    handler, present or later configured (gunicorn adds its own), writes the redacted line.
    """
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    # SpiffWorkflow attaches a task's data to its records below INFO; under a server that configures logging
    # itself (gunicorn) it would otherwise follow the root's level. ``petitio`` sets the same (workflow/cli.py).
    spiff = logging.getLogger("spiff")
    if spiff.level == logging.NOTSET:
        spiff.setLevel(logging.WARNING)
