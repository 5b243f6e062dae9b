"""The organisation's profile (/api/v1/organisation): the roles whose filings show it read, admins write."""

from __future__ import annotations

from typing import Any

from flask import current_app, g

from web.access import roles
from web.api.base import ApiBlueprint
from web.database import db
from workflow.models import OrganisationProfile
from workflow.roles import ORGANISATION_EDITORS, ORGANISATION_READERS
from workflow.schemas.organisation import OrganisationReadSchema, OrganisationSchema
from workflow.services.organisation import get_profile, update_profile

blp = ApiBlueprint("api_organisation", __name__, description="The submitting organisation named in filings")


@blp.route("/organisation", methods=["GET"])
@roles(*ORGANISATION_READERS)
@blp.response(200, OrganisationReadSchema)
@blp.errors(401, 403)
def get_organisation() -> OrganisationProfile:
    """The profile (until an admin saves one: the server's organisation name, ``saved`` false)."""
    return get_profile(db(), current_app.config["PETITIO_SETTINGS"], g.actor)


@blp.route("/organisation", methods=["PUT"])
@roles(*ORGANISATION_EDITORS)
@blp.arguments(OrganisationSchema)
@blp.response(200, OrganisationReadSchema)
@blp.errors(401, 403, 422)
def put_organisation(values: dict[str, Any]) -> OrganisationProfile:
    """Replace the profile (admins): every field; an optional one left out is cleared. Audited by field name."""
    settings = current_app.config["PETITIO_SETTINGS"]
    update_profile(db(), settings, g.actor, values)
    return get_profile(db(), settings, g.actor)
