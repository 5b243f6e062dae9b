"""The organisation's profile: the submitter every filing names and the representative who signs it.

One row (``models.OrganisationProfile``). Until an admin saves it, the profile is the settings' organisation
name (``Settings.organisation``) and nothing else. Reading is for the roles whose work shows it (filings);
only admins change it, audited with the names of the fields changed, never their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Forbidden
from workflow.models import OrganisationProfile, User, utcnow
from workflow.roles import ORGANISATION_EDITORS, ORGANISATION_READERS
from workflow.schemas.organisation import FIELDS, OrganisationSchema


def organisation_profile(session: Session, settings: Settings) -> OrganisationProfile:
    """The profile as filings use it: the stored row, or an unsaved one holding the settings' organisation name.

    No role check: the documents' generation (a service task, the worker) reads it for whoever started it."""
    stored = OrganisationProfile.stored(session)
    return stored if stored is not None else OrganisationProfile(name=settings.organisation)


def get_profile(session: Session, settings: Settings, actor: User) -> OrganisationProfile:
    if actor.role not in ORGANISATION_READERS:
        raise Forbidden("your role may not read the organisation's profile")
    return organisation_profile(session, settings)


def update_profile(session: Session, settings: Settings, actor: User, data: Mapping[str, Any]) -> list[str]:
    """Replace the profile with ``data`` (every field; an absent optional one is cleared). Returns the names of
    the fields changed, audited as ``organisation_updated``; raises Forbidden or ValidationFailed."""
    if actor.role not in ORGANISATION_EDITORS:
        raise Forbidden("only admins change the organisation's profile")
    values = OrganisationSchema().load_or_fail(dict(data), "the organisation's profile has errors")
    profile = organisation_profile(session, settings)
    if profile.id is None:  # the first save: every field given is new
        changed = [name for name in FIELDS if values.get(name) is not None]
    else:
        changed = [name for name in FIELDS if getattr(profile, name) != values.get(name)]
        if not changed:
            return []
    for name in FIELDS:
        setattr(profile, name, values.get(name))
    profile.updated_at = utcnow()
    profile.updated_by_id = actor.id
    session.add(profile)
    session.flush()
    audit(session, actor, "organisation_updated", "organisation", profile.id, None, {"fields": changed})
    return changed
