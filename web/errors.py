"""Refusals as pages: why nothing happened, and the way back (403, 409, 413 answers of the feature pages)."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_babel import format_decimal

from web.translate import gettext as _


def refusal(status: int, message: str, back: str, back_label: str | None = None) -> tuple[str, int]:
    return render_template("refused.html", status=status, message=message, back=back, back_label=back_label), status


def size_text(size: int) -> str:
    """A number of bytes as people read it, in their language."""
    if size >= 1024 * 1024:
        return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))
    if size >= 1024:
        return _("%(size)s KB", size=format_decimal(round(size / 1024, 1)))
    return _("%(size)s bytes", size=format_decimal(size))


def too_large_message() -> str:
    return _("The file is larger than the limit of %(limit)s. Nothing was stored; choose a smaller file.",
             limit=size_text(current_app.config["PETITIO_SETTINGS"].max_document_bytes))


def too_large(err: Exception) -> tuple[str, int]:
    """The whole request was over the app's limit: refused before it was read, so nothing was stored."""
    ref = (request.view_args or {}).get("ref")
    back = url_for("cases.case", ref=ref, _anchor="h-documents") if ref else url_for("inbox.my_tasks")
    return refusal(413, too_large_message(), back)
