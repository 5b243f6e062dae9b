"""Each body's questionnaire, field by field, and where each field's answer comes from.

The one owner of "what does body X ask": the victim block prints the person's facts a body asks for,
``docs/FILING-FIELDS.md`` is generated from this table (``python -m filings.fields``), and the
field-coverage test renders a fully filled case for every body and language and finds each field's value
in the document (research/filing-bodies.md §1 lists the questionnaires).
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

_ROW: Final = re.compile(r"\[\d+\]")

# Where each answer comes from: a model field (workflow/models.py), a ``workflow.facts`` key a person can
# mark "not known", the organisation profile, or the template's own wording.
SOURCES: Final = MappingProxyType({
    "reference": "Case.ref",
    "date": "date of generation",
    "state": "LegalFacts.state_code",
    "person.name": "Person.full_name, as the consent allows (else initials or \"Complainant <ref>\")",
    "person.native_name": "Person.full_name_native (only when named)",
    "person.birth_date": "Person.birth_date, else Person.age (only when named; facts: person.birth_date, "
                         "person.age)",
    "person.gender": "Person.gender (facts: person.gender)",
    "person.nationality": "Person.nationality (facts: person.nationality)",
    "person.city": "Person.city",
    "person.occupation": "Person.occupation (only when named; facts: person.occupation)",
    "person.organisation": "Person.organisation (only when named; facts: person.organisation)",
    "person.activity": "Person.activity (only when named; facts: person.activity)",
    "person.situation": "Person.situation, names cut out when not named (facts: person.situation)",
    "person.detained_now": "Case.detained_now",
    "incidents.occurred_on": "Incident.occurred_on (row facts: occurred_on)",
    "incidents.city": "Incident.city (row facts: city)",
    "incidents.place": "Incident.place (row facts: place)",
    "incidents.types": "Incident.types (incident_type vocabulary)",
    "incidents.description": "Incident.description, names cut out when not named",
    "incidents.perpetrators": "Incident.perpetrators (row facts: perpetrators)",
    "episodes": "Episode.title, dates, known_totals",
    "perpetrators.agency": "Perpetrator.agency (perpetrator_agency vocabulary; facts: perpetrators)",
    "perpetrators.unit": "Perpetrator.unit (row facts: unit)",
    "perpetrators.position": "Perpetrator.position (row facts: position)",
    "perpetrators.name": "Perpetrator.name (row facts: name)",
    "perpetrators.actions": "Perpetrator.actions (row facts: actions)",
    "perpetrators.incidents": "incident_perpetrators",
    "arrests.arrested_on": "Arrest.arrested_on (facts: arrests; row facts: arrested_on)",
    "arrests.place": "Arrest.place (row facts: place)",
    "arrests.forces": "Arrest.forces (row facts: forces)",
    "arrests.warrant_shown": "Arrest.warrant_shown (row facts: warrant_shown)",
    "arrests.warrant_issued_by": "Arrest.warrant_issued_by (row facts: warrant_issued_by)",
    "arrests.reasons_given": "Arrest.reasons_given (row facts: reasons_given)",
    "arrests.legal_provision": "Arrest.legal_provision (row facts: legal_provision)",
    "arrests.custody": "CustodyPlace.place, authority, from_on, to_on, in order",
    "arrests.duration": "Arrest.duration (row facts: duration)",
    "arrests.lawyer_access": "Arrest.lawyer_access (row facts: lawyer_access)",
    "arrests.family_access": "Arrest.family_access (row facts: family_access)",
    "arrests.released_on": "Arrest.released_on (row facts: released_on)",
    "arrests.release": "Arrest.release (row facts: release)",
    "ill_treatments.methods": "IllTreatment.methods (facts: ill_treatments; row facts: methods)",
    "ill_treatments.duration": "IllTreatment.duration (row facts: duration)",
    "ill_treatments.effects": "IllTreatment.effects (row facts: effects)",
    "ill_treatments.medical_evidence": "IllTreatment.medical_evidence (row facts: medical_evidence)",
    "ill_treatments.complaints": "IllTreatment.complaints (row facts: complaints)",
    "ill_treatments.outcome": "IllTreatment.outcome (row facts: outcome)",
    "remedies.exhausted_on": "LegalFacts.remedies_exhausted_on, remedies_ineffective",
    "remedies.summary": "LegalFacts.remedies_summary",
    "remedy_steps.authority": "RemedyStep.authority (facts: remedy_steps)",
    "remedy_steps.taken_on": "RemedyStep.taken_on (row facts: taken_on)",
    "remedy_steps.outcome": "RemedyStep.outcome (row facts: outcome)",
    "remedy_steps.decided_on": "RemedyStep.decided_on (row facts: decided_on)",
    "remedy_steps.final": "RemedyStep.final",
    "other_procedures": "LegalFacts.other_procedure, other_procedure_name, other_procedure_concluded_on",
    "grounds": "Review.grounds (legal_ground vocabulary)",
    "mandates": "Review.mandates (mandate vocabulary)",
    "communication_type": "Review.urgent (else Case.urgent): urgent appeal, else letter of allegation",
    "wgad_categories": "Review.wgad_categories",
    "consent": "ConsentRecord (status, share_name_with_government, publish_name, initials_only, anonymous)",
    "eu_status": "LegalFacts.eu_status",
    "eu_subject": "template wording (Union's fields of activity)",
    "request": "template wording",
    "organisation.name": "OrganisationProfile.name, else the organisation setting",
    "organisation.address": "OrganisationProfile.address",
    "organisation.email": "OrganisationProfile.email",
    "organisation.phone": "OrganisationProfile.phone",
    "organisation.representative": "OrganisationProfile.representative",
    "organisation.representative_title": "OrganisationProfile.representative_title",
    "signature": "template wording, OrganisationProfile.representative",
    "annexes": "Document.kind of the case's documents (never file names)",
})

_PERSON: Final = (("person.name", "Name"), ("person.gender", "Gender"), ("person.nationality", "Nationality"),
                  ("person.city", "Place of residence"), ("person.occupation", "Profession"),
                  ("person.organisation", "Affiliation"), ("person.detained_now", "Deprived of liberty now"))
_INCIDENTS: Final = (("incidents.occurred_on", "Date"), ("incidents.city", "City"),
                     ("incidents.place", "Exact place"), ("incidents.types", "Type of violation"),
                     ("incidents.description", "Circumstances"), ("incidents.perpetrators", "Perpetrators"))
_PERPETRATORS: Final = (("perpetrators.agency", "State affiliation (agency)"), ("perpetrators.unit", "Unit"),
                        ("perpetrators.position", "Position"), ("perpetrators.name", "Name"),
                        ("perpetrators.actions", "What they did"),
                        ("perpetrators.incidents", "Incidents they took part in"))
_ARRESTS: Final = (("arrests.arrested_on", "Date of arrest"), ("arrests.place", "Place of arrest"),
                   ("arrests.forces", "Forces who carried out the arrest"),
                   ("arrests.warrant_shown", "Warrant or decision shown"),
                   ("arrests.warrant_issued_by", "Authority that issued it"),
                   ("arrests.reasons_given", "Reasons given"), ("arrests.legal_provision", "Legal basis invoked"),
                   ("arrests.custody", "Places of custody and transfers"), ("arrests.duration", "Duration"),
                   ("arrests.lawyer_access", "Access to counsel"), ("arrests.family_access", "Access to family"),
                   ("arrests.released_on", "Date of release"), ("arrests.release", "Release"))
_ILL_TREATMENT: Final = (("ill_treatments.methods", "Methods"),
                         ("ill_treatments.duration", "Duration and frequency"),
                         ("ill_treatments.effects", "Physical and mental effects"),
                         ("ill_treatments.medical_evidence", "Medical evidence"),
                         ("ill_treatments.complaints", "Complaints lodged"),
                         ("ill_treatments.outcome", "Outcome of the complaints"))
_REMEDIES: Final = (("remedies.exhausted_on", "Exhaustion of domestic remedies"),
                    ("remedies.summary", "Summary of domestic steps"),
                    ("remedy_steps.authority", "Authority seized"), ("remedy_steps.taken_on", "Date"),
                    ("remedy_steps.outcome", "Outcome"), ("remedy_steps.decided_on", "Date of decision"),
                    ("remedy_steps.final", "Final decision"))
_SUBMITTER: Final = (("organisation.name", "Submitting organisation"), ("organisation.address", "Address"),
                     ("organisation.email", "E-mail"), ("organisation.phone", "Telephone"),
                     ("organisation.representative", "Representative"),
                     ("organisation.representative_title", "Representative's title"),
                     ("reference", "Reference"), ("date", "Date"), ("signature", "Signature"),
                     ("annexes", "List of annexes"))
_UNDER_LAW: Final = (("person.birth_date", "Date of birth or age"), ("person.native_name", "Name in original script"))

FIELDS: Final = MappingProxyType({
    "un_sp": (*_PERSON, *_UNDER_LAW, ("person.activity", "Activity (HRD, political, social)"),
              ("person.situation", "Current situation and risk"), ("state", "State concerned"),
              ("mandates", "Mandates"), *_PERPETRATORS, *_INCIDENTS, ("episodes", "Context, past incidents"),
              *_ARRESTS, *_ILL_TREATMENT, *_REMEDIES, ("grounds", "Rights violated"),
              ("consent", "Consent (Yes/No questions)"), ("communication_type", "Urgent appeal or letter"),
              ("request", "Action requested"), *_SUBMITTER),
    "un_wgad": (*_PERSON, *_UNDER_LAW, ("person.activity", "Views, activity"), ("state", "State"),
                *_ARRESTS, *_INCIDENTS, ("episodes", "Context"), *_PERPETRATORS,
                ("wgad_categories", "Why arbitrary (categories I-V)"), ("grounds", "Rights concerned"),
                *_REMEDIES, ("other_procedures", "Other international procedures"),
                ("consent", "Consent of the person or family"), ("request", "Action requested"), *_SUBMITTER),
    "un_hrc": (*_PERSON, *_UNDER_LAW, ("state", "State party"), *_INCIDENTS, ("episodes", "Context"),
               *_PERPETRATORS, *_ARRESTS, *_ILL_TREATMENT, ("grounds", "Articles of the Covenant violated"),
               *_REMEDIES, ("other_procedures", "Other international procedures"),
               ("consent", "Authorisation"), ("request", "Remedies sought"), *_SUBMITTER),
    "osce_odihr": (*_PERSON, ("person.activity", "Human-rights activity"),
                   ("person.situation", "Current situation and risk"), ("state", "Participating State"),
                   *_INCIDENTS, ("episodes", "Context"), *_PERPETRATORS, *_ARRESTS, *_ILL_TREATMENT,
                   ("grounds", "Rights and commitments"), *_REMEDIES, ("other_procedures", "Other bodies seized"),
                   ("consent", "Consent"), ("request", "Action requested"), *_SUBMITTER),
    "ep_droi": (*_PERSON, ("person.activity", "Activity"), ("person.situation", "Current situation and risk"),
                ("state", "Country"), *_INCIDENTS, *_PERPETRATORS, ("grounds", "Rights at stake"),
                ("consent", "Consent to publicity"), ("request", "What we ask"), *_SUBMITTER),
    "ep_peti": (*_SUBMITTER, ("eu_status", "Petitioner's nationality and EU citizenship or residence"),
                *_PERSON, ("person.activity", "Activity"), ("person.situation", "Current situation and risk"),
                ("state", "Country"), *_INCIDENTS, ("episodes", "Context"), *_PERPETRATORS,
                ("grounds", "Rights concerned"), ("eu_subject", "Within the Union's fields of activity"),
                ("consent", "Publicity and consent"), ("request", "Request")),
})


def asks(body: str, key: str) -> bool:
    """Whether ``body``'s questionnaire asks for the field ``key`` (a key of SOURCES)."""
    return any(field == key for field, _ in FIELDS.get(body, ()))


def field_of(key: str) -> str:
    """The field a ``filings.missing`` key is about: "arrests[2].place" -> "arrests.place" (a key of SOURCES,
    or a kind of row such as "perpetrators" when none is recorded); the number is the row's place in the
    filing (incidents in date order, the others as entered)."""
    return _ROW.sub("", key)


def table(body: str) -> str:
    """One body's fields as a Markdown table."""
    lines = ["| Questionnaire field | Key | Comes from |", "|---|---|---|"]
    lines.extend(f"| {question} | `{key}` | {SOURCES[key]} |" for key, question in FIELDS[body])
    return "\n".join(lines)


BODY_TITLES: Final = MappingProxyType({
    "un_sp": "UN Special Procedures (§1.1: minimum content, FoE, HRD and torture specifics)",
    "un_wgad": "UN Working Group on Arbitrary Detention (§1.2: model questionnaire)",
    "un_hrc": "UN Human Rights Committee (§1.3: required content)",
    "osce_odihr": "OSCE/ODIHR (§1.4)",
    "ep_droi": "European Parliament, Subcommittee on Human Rights (§1.5, a briefing under 500 words)",
    "ep_peti": "European Parliament, Committee on Petitions (§1.5: formal fields)",
})


def document() -> str:
    """docs/FILING-FIELDS.md, generated: ``python -m filings.fields > docs/FILING-FIELDS.md``."""
    parts = ["# Filing fields\n",
             "Every field each body's questionnaire asks for (research/filing-bodies.md §1), the key the code "
             "uses for it and where its answer comes from. Generated from `filings/fields.py` "
             "(`python -m filings.fields > docs/FILING-FIELDS.md`); `tests/filings/test_fields.py` checks that "
             "this file matches and that a fully filled case prints every field in every template language.\n",
             "A fact is a value, \"not known\" (a person marked it: `Case.unknown_facts` or the row's `unknown`, "
             "keys in `workflow/facts.py`) or missing: a missing fact prints as \"[To be completed: ...]\" and "
             "`filings.missing(snapshot)` lists it.\n"]
    for body, title in BODY_TITLES.items():
        parts.append(f"## {title} — `{body}`\n\n{table(body)}\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(document(), end="")
