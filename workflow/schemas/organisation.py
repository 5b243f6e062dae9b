"""The organisation's profile (``models.OrganisationProfile``): what every filing names as the submitter."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validates

from workflow.problems import Problem
from workflow.schemas.appeal import EMAIL
from workflow.schemas.base import InputSchema, Text
from workflow.schemas.validators import fail

FIELDS = ("name", "address", "email", "phone", "representative", "representative_title")


def _optional(max_length: int, description: str) -> Text:
    return Text(max_length=max_length, allow_none=True, load_default=None, metadata={"description": description})


class OrganisationSchema(InputSchema):
    """Every field of the profile: an absent or empty optional field is cleared."""

    name = Text(required=True, max_length=300, metadata={"description": "the submitting organisation"})
    address = _optional(1000, "postal address")
    email = _optional(300, "e-mail address for the bodies' answers")
    phone = _optional(100, "phone number")
    representative = _optional(300, "the named representative or lawyer who signs")
    representative_title = _optional(300, "their title, e.g. lawyer, member of the bar of Almaty")

    @validates("email")
    def _email(self, value: str | None, **kwargs: Any) -> None:
        if value and not EMAIL.match(value):
            raise fail(Problem("not_email"))


class OrganisationReadSchema(Schema):
    """The profile as the API answers it; ``saved`` is false while it is only the settings' organisation name."""

    name = fields.String(required=True)
    address = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    representative = fields.String(allow_none=True)
    representative_title = fields.String(allow_none=True)
    saved = fields.Function(lambda profile: profile.id is not None, metadata={"description": "stored by an admin"})
    updated_at = fields.Function(lambda p: p.updated_at.isoformat() if p.id is not None and p.updated_at else None,
                                 allow_none=True)
