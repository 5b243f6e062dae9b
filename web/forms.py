"""WTForms pieces the feature forms share. Forms only draw controls and carry the CSRF token: what is valid is
decided by the schema or service behind each form (``workflow/schemas``), whose problems come back next to the
fields (``web/messages.put_on_form``)."""

from __future__ import annotations

from typing import Any


class Required:
    """Marks a control as one to fill in (the ``*`` and ``required`` attribute) without checking it here."""

    field_flags = {"required": True}  # noqa: RUF012 - WTForms reads it from the class

    def __call__(self, form: Any, field: Any) -> None:
        return None


def text_of(field: Any) -> str:
    """A text control's value, as typed (None when it was left out)."""
    return field.data or ""
