"""Stored codes as words in the user's language: the ``label`` template global and what pages name things with.

States and kinds carry their titles where they are defined (``workflow/states.py``, ``workflow/roles.py``);
the words that are data an admin edits (bodies, vocabularies) come from the database, once per request; what
remains here are the pages' own names for fields and options of the task forms. A step of a process is named
by its BPMN ``name`` (``task_name``), which ``make i18n`` extracts (``workflow/babel_extract.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import g
from wtforms import SelectChoice

from web.database import db
from web.extensions import current_locale
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow import vocab
from workflow.bodies import all_bodies, body_name
from workflow.i18n import language_name
from workflow.roles import Role
from workflow.services import processes
from workflow.services.deadlines import label_template
from workflow.states import (
    ConsentStatus,
    DeadlineState,
    Decision,
    DocumentKind,
    EuStatus,
    FilingState,
    FindingLevel,
    Gender,
    OtherProcedure,
    ResponseKind,
    Stage,
    Titled,
)

# Groups whose words are titles of a state or kind.
TITLED: dict[str, type[Titled]] = {
    "stage": Stage, "filing_state": FilingState, "deadline_state": DeadlineState, "consent": ConsentStatus,
    "document": DocumentKind, "response_kind": ResponseKind, "gender": Gender, "other_procedure": OtherProcedure,
    "eu_status": EuStatus, "level": FindingLevel, "role": Role,
}
# Groups whose words are data an admin edits, named like the vocabularies of the task forms' ``x-vocabulary``.
DATA_GROUPS = frozenset({"body", "incident_type", "mandate", "legal_ground", "perpetrator_agency"})

LABELS: dict[str, dict[str, Any]] = {
    # The parts of a collective complaint a legal officer writes (workflow/schemas/collective.NARRATIVE_SECTIONS)
    # and the others whose text may have a complainant's name cut out.
    "collective_section": {
        "summary": _l("Summary"),
        "legal_basis": _l("The legal basis of the persecution"),
        "context": _l("The movement and why it was banned"),
        "methods": _l("Methods used by law enforcement"),
        "patterns": _l("Patterns"),
        "pressure_on_defenders": _l("Pressure on human rights defenders"),
        "requests": _l("Requests"),
        "episodes": _l("Episodes (their descriptions)"),
        "officials": _l("Officials responsible (what they did)"),
    },
    "person": {
        "full_name": _l("Full name"), "full_name_native": _l("Name in native script"), "gender": _l("Gender"),
        "birth_date": _l("Date of birth"), "phone": _l("Phone"), "email": _l("E-mail"),
        "passport_number": _l("Passport or ID number"), "address": _l("Address"), "occupation": _l("Occupation"),
        "organisation": _l("Organisation"), "city": _l("City"),
        "nationality": _l("Nationality"), "age": _l("Age (years)"),
        "activity": _l("Human-rights or political activity"), "situation": _l("Current situation and risk"),
    },
    # The facts for the filings (web/facts): each kind of row's fields, by the names of workflow/schemas/facts.py.
    "perpetrators": {
        "agency": _l("Agency"), "unit": _l("Unit"), "position": _l("Position or rank"), "name": _l("Name, if known"),
        "actions": _l("What they did"),
    },
    "incidents": {
        "occurred_on": _l("Date"), "city": _l("City"), "place": _l("Exact place"), "types": _l("Type"),
        "description": _l("What happened"), "perpetrators": _l("Perpetrators"), "episode": _l("Episode"),
    },
    "arrests": {
        "incident_id": _l("Incident"), "arrested_on": _l("Date of arrest"), "place": _l("Place of arrest"),
        "forces": _l("Forces who carried out the arrest"), "warrant_shown": _l("A warrant or decision was shown"),
        "warrant_issued_by": _l("Warrant or decision issued by"), "reasons_given": _l("Reasons given"),
        "legal_provision": _l("Legal provision invoked (article and code)"), "duration": _l("Duration of detention"),
        "lawyer_access": _l("Access to a lawyer"), "family_access": _l("Access to family"),
        "released_on": _l("Released on"), "release": _l("Release: how and on what terms"),
        "custody": _l("Places of custody and transfers, in order"),
    },
    "custody": {
        "place": _l("Place of custody"), "authority": _l("Held by"), "from_on": _l("From"), "to_on": _l("Until"),
    },
    "ill_treatments": {
        "incident_id": _l("Incident"), "methods": _l("Methods"), "duration": _l("Duration and frequency"),
        "effects": _l("Physical and mental effects"), "medical_evidence": _l("Medical evidence"),
        "complaints": _l("Complaints lodged, and to whom"), "outcome": _l("Outcome of the complaints"),
    },
    "remedy_steps": {
        "taken_on": _l("Taken on"), "authority": _l("Authority"), "outcome": _l("Outcome"),
        "decided_on": _l("Decided on"), "final": _l("Final domestic decision"),
    },
    # Each kind of row of the facts for the filings, as a heading (web/facts, and what a filing still lacks).
    "fact_kind": {
        "incidents": _l("Incidents"), "perpetrators": _l("Perpetrators"), "arrests": _l("Arrest and detention"),
        "ill_treatments": _l("Torture and ill-treatment"), "remedy_steps": _l("Domestic remedies"),
        "organisation": _l("Organisation profile"),
    },
    "organisation": {
        "name": _l("Organisation name"), "address": _l("Address"), "email": _l("E-mail"), "phone": _l("Phone"),
        "representative": _l("Representative or lawyer"), "representative_title": _l("Their title"),
    },
    # The case-level "not known" markers (workflow/facts.py CASE_FACTS).
    "case_fact": {
        "person.nationality": _l("Nationality"), "person.gender": _l("Gender"),
        "person.birth_date": _l("Date of birth"), "person.age": _l("Age (years)"),
        "person.occupation": _l("Occupation"), "person.organisation": _l("Organisation"),
        "person.activity": _l("Human-rights or political activity"),
        "person.situation": _l("Current situation and risk"),
        "perpetrators": _l("Who acted (no perpetrator could be identified)"),
        "arrests": _l("Arrests (whether there was one)"), "ill_treatments": _l("Ill-treatment (whether there was any)"),
        "remedy_steps": _l("Domestic remedies (whether any were taken)"),
    },
    # The fields of an appeal (docs/INTERFACES.md §3) that are not the complainant's ("person" names those).
    "appeal": {
        "ref": _l("Reference"), "episodes": _l("Episodes"), "incident_types": _l("Incident types"),
        "incident_date": _l("Date of the incident"), "description": _l("What happened"),
        "consent_publish_name": _l("The name may appear in public reports"),
        "received_on": _l("Appeal received on"), "detained_now": _l("Detained now (urgent)"),
        "form_of_appeal": _l("Form of appeal, signed (PDF, JPEG, PNG or DOCX)"),
        "power_of_attorney": _l("Power of attorney, signed (PDF, JPEG, PNG or DOCX)"),
        # The optional filing facts of the import (docs/INTERFACES.md §3.2).
        "nationality": _l("Nationality"), "age": _l("Age"),
        "activity": _l("Human-rights or political activity"), "situation": _l("Current situation and risk"),
        "incident_city": _l("City of the incident"), "incident_place": _l("Exact place of the incident"),
        "perpetrator_agencies": _l("Agencies responsible"), "arrest_date": _l("Date of arrest"),
        "arrest_place": _l("Place of arrest"), "arrest_forces": _l("Who carried out the arrest"),
        "legal_provision": _l("Legal provision invoked (article and code)"),
    },
    "fact": {
        "state_code": _l("State concerned (two-letter code, e.g. KZ)"),
        "deprived_of_liberty": _l("Deprived of liberty"), "torture_risk": _l("At risk of torture"),
        "remedies_exhausted_on": _l("Domestic remedies exhausted on (date of the final decision)"),
        "remedies_summary": _l("Domestic remedies pursued"),
        "remedies_ineffective": _l("Remedies are ineffective or unreasonably prolonged"),
        "other_procedure": _l("The same matter before another international procedure"),
        "other_procedure_name": _l("Name of the other procedure"),
        "other_procedure_concluded_on": _l("Other procedure concluded on"),
        "eu_status": _l("The petitioner's link to the European Union"),
        "eu_subject": _l("The subject falls within the European Union's fields of activity"),
    },
    "permission": {
        "share_name_with_government": _l("Name may be shared with the government concerned"),
        "publish_name": _l("Name may appear in public reports"), "initials_only": _l("Initials only"),
        "anonymous": _l("Fully anonymous (excludes all of the above)"),
    },
    # The choices the task forms offer (bpmn/forms: stable codes) and the catalogue's channels and kinds.
    "option": {
        **{d.value: _l(d.label) for d in Decision},  # titled in workflow/states.py (extracted there)
        "urgent_appeal": _l("Urgent appeal"), "letter_of_allegation": _l("Letter of allegation"),
        "I": _l("I: no legal basis for the deprivation of liberty"),
        "II": _l("II: detained for exercising rights and freedoms"),
        "III": _l("III: grave violation of the right to a fair trial"),
        "IV": _l("IV: migrants or asylum seekers in prolonged administrative custody"),
        "V": _l("V: discrimination"),
        "online_form": _l("Online form"), "email": _l("E-mail"), "post": _l("Post"), "in_person": _l("In person"),
        "reminder_sent": _l("Reminder sent"), "update_sent": _l("Update sent"), "none": _l("Nothing for now"),
        "close": _l("Close the filing"),
    },
}


def label(group: str, value: Any, fallback: str | None = None) -> str:
    """The translated word for a stored code; an unknown code shows as itself (never an error)."""
    if value is None or value == "":
        return ""
    code = str(value)
    if group in TITLED:
        title = TITLED[group].label_of(code)
        found: Any = _(title) if title is not None else None
    elif group == "locale":
        found = language_name(code, current_locale())
    else:
        found = (data_labels() if group in DATA_GROUPS else LABELS).get(group, {}).get(code)
    if found is not None:
        return str(found)
    return fallback if fallback is not None else code.replace("_", " ")


def task_name(bpmn_id: str, name: str | None = None) -> str:
    """A step's name in the user's language: its BPMN name (``name``, the inbox row's, else the deployed one's,
    ``processes.flow_node_names``), translated by the catalog ``make i18n`` extracts it into; an unknown id shows
    as itself."""
    if not name:
        if "flow_node_names" not in g:
            g.flow_node_names = processes.flow_node_names(db())
        name = g.flow_node_names.get(bpmn_id)
    if not name:
        return bpmn_id
    msgid = " ".join(name.split())  # as extracted: a name may wrap in a modelling tool
    return _(msgid)


def deadline_label(kind: str | None, text: str, params: Mapping[str, Any] | None = None) -> str:
    """A deadline's label in the user's language (``services/deadlines.label_template`` says what to translate)."""
    template, values = label_template(kind, text, params)
    return _(template, **values)


def data_labels() -> dict[str, dict[str, str]]:
    """Group -> key -> label for the catalogue and the vocabularies, in the user's language (read once a request;
    retired terms and inactive bodies included, so that old records still show words).

    Legal grounds carry the UDHR articles of the same right, for bodies that cite the Declaration.
    """
    if "data_labels" not in g:
        session, language = db(), current_locale()
        grounds = {}
        for term in vocab.terms(session, "legal_ground", include_retired=True):
            text = vocab.label_of(term, language)
            articles = term.extra.get("udhr")
            grounds[term.key] = _("%(ground)s — UDHR %(articles)s", ground=text, articles=articles) if articles \
                else text
        g.data_labels = {
            "body": {b.code: body_name(b, language) for b in all_bodies(session, include_inactive=True)},
            "incident_type": vocab.labels(session, "incident_type", language),
            "mandate": vocab.labels(session, "mandate", language),
            "perpetrator_agency": vocab.labels(session, "perpetrator_agency", language),
            "legal_ground": grounds,
        }
    return g.data_labels


def options(group: str, codes: Any) -> list[SelectChoice]:
    """The choices of a select or a group of checkboxes: each code with its label."""
    return [SelectChoice(str(code), label(group, code)) for code in codes]


_LACKING = re.compile(r"^(?P<kind>\w+)(?:\[(?P<number>\d+)\])?(?:\.(?P<field>\w+))?$")


def lacking_fact(key: str) -> str:
    """A fact a filing still prints as "to be completed" (``filings.missing``'s keys) in words:
    "person.nationality" -> "Nationality", "arrests[1].place" -> "Arrest and detention 1: Place of arrest",
    "perpetrators" -> the case-level question, "organisation.email" -> "Organisation profile: E-mail"."""
    found = _LACKING.match(key)
    if found is None:
        return key
    kind, number, field = found.group("kind", "number", "field")
    if field is None:
        return label("case_fact", kind)
    if kind == "person":
        return label("person", field)
    heading = label("fact_kind", kind)
    group = "organisation" if kind == "organisation" else kind
    return f"{heading}{f' {number}' if number else ''}: {label(group, field)}"
