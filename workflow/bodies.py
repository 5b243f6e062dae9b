"""The catalogue of filing bodies (codes of INTERFACES.md §5) as data an admin edits.

The defaults come from shared/research/filing-bodies.md. Unconfirmed figures (marked there "U": the Special
Procedures' and WGAD's 60-day reply windows, ODIHR and the European Parliament having no fixed clock) are
seeded as editable defaults and say so in the entry's notes; the admissibility rules a body applies, and
their parameters, are entries of ``rules`` (see workflow/admissibility.py), so an admin can retune a time
bar or add a state's Optional Protocol date without a release.

A clock is read from the catalogue when it starts (a filing's response window when it is submitted), so
editing a window changes new deadlines and leaves those already running alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import filings
from workflow.audit import audit
from workflow.errors import NotFound
from workflow.models import Body, User, utcnow
from workflow.schemas.catalogue import BODY_CODES, BodyChangeSchema
from workflow.session_cache import rows_of

# Internal service levels (DESIGN.md §5), handed to each new case process as data.
SERVICE_LEVELS = {
    "consent_days": 7,
    "documents_days": 30,
    "review_days": 14,
    "urgent_review_hours": 48,
    "check_days": 3,
}

CODES = BODY_CODES
_ORDER = {code: i for i, code in enumerate(CODES)}  # the catalogue's order, for lists of bodies
EDITABLE = tuple(BodyChangeSchema._declared_fields)  # what an admin may change, as the schema checks it

_DEFAULTS: tuple[dict[str, Any], ...] = (
    {
        "code": "un_sp",
        "names": {"en": "UN Special Procedures", "ru": "Специальные процедуры ООН"},
        "languages": ["en", "fr", "es"], "channels": ["online_form", "email"],
        "mandates": ["assembly", "expression", "torture", "defenders"],
        "communication_types": ["urgent_appeal", "letter_of_allegation"],
        "required_consent": ["verified", "share_name_with_government", "not_anonymous"],
        "rules": {"communication_type": {}},
        "response_days": 60, "follow_up_days": 60,
        "notes": "Government reply window of 60 days: unconfirmed (research §1.1). Anonymous communications are "
                 "not considered; the victim's name goes to the government, the source stays confidential.",
    },
    {
        "code": "un_wgad",
        "names": {"en": "UN Working Group on Arbitrary Detention",
                  "ru": "Рабочая группа ООН по произвольным задержаниям"},
        "languages": ["en", "fr", "es"], "channels": ["online_form", "email", "post"],
        "mandates": [], "communication_types": ["urgent_appeal", "letter_of_allegation"],
        "required_consent": ["verified", "not_anonymous"],
        "rules": {"deprivation_of_liberty": {}},
        "response_days": 60, "follow_up_days": 60,
        "notes": "Government reply 60 days, extension up to one month: unconfirmed (research §1.2). Consent of "
                 "the victim or family is required.",
    },
    {
        "code": "un_hrc",
        "names": {"en": "UN Human Rights Committee", "ru": "Комитет ООН по правам человека"},
        "languages": ["en", "fr", "ru", "es"], "channels": ["email", "post"],
        "mandates": [], "communication_types": [],
        "required_consent": ["verified", "not_anonymous"],
        "rules": {"exhaustion": {}, "same_matter": {},
                  "time_bar": {"years_after_exhaustion": 5, "years_after_other_procedure": 3},
                  "ratione_temporis": {"bound_from": {"KZ": "2009-09-30"}}},
        "response_days": 183, "follow_up_days": 180,
        "notes": "State observations within 6 months; follow-up report 180 days after Views (confirmed, research "
                 "§1.3). Kazakhstan: the later of the two dates given for the Optional Protocol's entry into "
                 "force (30 Sep 2009) is used.",
    },
    {
        "code": "osce_odihr",
        "names": {"en": "OSCE/ODIHR", "ru": "БДИПЧ ОБСЕ"},
        "languages": ["en", "ru"], "channels": ["email"], "mandates": [], "communication_types": [],
        "required_consent": ["verified", "share_name_with_government"],
        "rules": {},
        "response_days": 60, "follow_up_days": 60,
        "notes": "No individual complaints procedure and no fixed clock: follow up after 60 days (unconfirmed, "
                 "research §1.4).",
    },
    {
        "code": "ep_droi",
        "names": {"en": "European Parliament, Subcommittee on Human Rights",
                  "ru": "Европейский парламент, Подкомитет по правам человека"},
        "languages": ["en", "fr", "de"], "channels": ["email"], "mandates": [], "communication_types": [],
        "required_consent": ["verified", "publish_name"],
        "rules": {},
        "response_days": 60, "follow_up_days": 60,
        "notes": "Briefings to members; urgency resolutions are limited to 500 words. No fixed clock.",
    },
    {
        "code": "ep_peti",
        "names": {"en": "European Parliament, Committee on Petitions",
                  "ru": "Европейский парламент, Комитет по петициям"},
        "languages": ["en", "fr", "de"], "channels": ["online_form", "post"], "mandates": [],
        "communication_types": [],
        "required_consent": ["verified", "publish_name"],
        "rules": {"eu_petitioner": {}, "eu_subject": {}, "public_petition": {}},
        "response_days": 60, "follow_up_days": 60,
        "notes": "Open to EU citizens and residents on subjects within the EU's fields of activity; petitions "
                 "become public documents. No fixed clock (research §1.5).",
    },
)


def seed(session: Session) -> int:
    """Add the catalogue entries that are missing; an admin's edits are never overwritten."""
    have = set(session.scalars(select(Body.code)))
    added = 0
    for entry in _DEFAULTS:
        if entry["code"] not in have:
            session.add(Body(**{k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                                for k, v in entry.items()}, active=True))
            added += 1
    session.flush()
    return added


def all_bodies(session: Session, *, include_inactive: bool = False) -> list[Body]:
    found = [body for body in rows_of(session, Body) if include_inactive or body.active]  # read once a transaction
    return sorted(found, key=lambda b: (_ORDER.get(b.code, len(_ORDER)), b.code))


def active_codes(session: Session) -> tuple[str, ...]:
    return tuple(b.code for b in all_bodies(session))


def filing_languages(body: Body, templates_dir: Path | None = None) -> tuple[str, ...]:
    """The languages a filing to ``body`` may be written in: those it accepts that have a template (in
    ``templates_dir``, default the project's), in the catalogue's order (the first is the default a legal officer
    may change at the review or on a draft)."""
    available = filings.available(body.code, root=templates_dir)
    return tuple(language for language in body.languages if language in available)


def language_choices(session: Session) -> dict[str, tuple[str, ...]]:
    """Active body code -> its filing languages (``filing_languages``), for forms that choose one per body."""
    return {body.code: filing_languages(body) for body in all_bodies(session)}


def get_body(session: Session, code: str) -> Body:
    body = next((body for body in rows_of(session, Body) if body.code == code), None)
    if body is None:
        raise NotFound(f"unknown body {code!r}")
    return body


def body_name(body: Body, language: str) -> str:
    return body.names.get(language) or body.names.get("en") or body.code


def update_body(session: Session, actor: User, code: str, changes: dict[str, Any],
                *, known_mandates: tuple[str, ...] = ()) -> Body:
    """Edit a catalogue entry (admins); every change is audited with the names of the changed fields.

    ``changes``: any of the fields of ``BodyChangeSchema`` (checked here; nothing changes when one is wrong).
    ``known_mandates``: the active keys of the ``mandate`` vocabulary (a mandate must be one of them).
    """
    body = get_body(session, code)
    clean = BodyChangeSchema(known_mandates=lambda: known_mandates).load_or_fail(changes,
                                                                          "the catalogue entry has errors")
    before = {name: getattr(body, name) for name in clean}
    changed = sorted(name for name, value in clean.items() if before[name] != value)
    for name in changed:
        setattr(body, name, clean[name])
    if changed:
        body.updated_at = utcnow()
        body.updated_by_id = actor.id
        audit(session, actor, "body_changed", "body", code, None,
              {"fields": changed})  # names only: the audit log holds no free text (workflow/audit.py)
    session.flush()
    return body
