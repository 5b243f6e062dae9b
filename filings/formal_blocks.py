"""The formal blocks of an individual filing: legal qualification, consent, what is asked, who submits it,
the signature, the annexes, and the European Parliament petitioner's standing; and the table of every
individual block (``INDIVIDUAL_BUILDERS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from filings import case_blocks
from filings.blocks import Builder, Context, mandates, rights_violated, yes_no
from filings.elements import Element, ItemList, Table, Text
from filings.snapshot import CaseSnapshot
from filings.wording import Section

Case = Context[CaseSnapshot]

_WGAD_CATEGORIES: Final = ("I", "II", "III", "IV", "V")
_OTHER_PROCEDURES: Final = ("none", "pending", "concluded")
EU_STATUSES: Final = ("citizen", "resident", "none")
# (profile field, label) of the submitter's contact, each a fact the organisation profile holds.
_CONTACT: Final = (("address", "submitter_address"), ("email", "submitter_email"), ("phone", "submitter_phone"),
                   ("representative", "submitter_representative"),
                   ("representative_title", "submitter_representative_title"))


def other_procedures(ctx: Case, _section: Section, _number: int) -> list[Element]:
    remedies = ctx.snapshot.remedies
    state = remedies.other_procedure
    if state not in _OTHER_PROCEDURES:
        raise ValueError(f"remedies.other_procedure is {state!r}; expected one of {', '.join(_OTHER_PROCEDURES)}")
    if state == "none":
        return ctx.said("other_none")
    procedure = remedies.other_procedure_name or ctx.formats.unknown
    if state == "pending":
        return ctx.said("other_pending", procedure=procedure)
    return ctx.said("other_concluded", procedure=procedure,
                    date=ctx.formats.date(remedies.other_procedure_concluded_on))


def categories(ctx: Case, _section: Section, _number: int) -> list[Element]:
    chosen = ctx.snapshot.wgad_categories
    unknown = [c for c in chosen if c not in _WGAD_CATEGORIES]
    if unknown:
        raise ValueError(f"unknown WGAD categor{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; "
                         f"expected {', '.join(_WGAD_CATEGORIES)}")
    if not chosen:
        return ctx.said("categories_none")
    return [ItemList(tuple(Text(ctx.label(f"category_{c}")) for c in _WGAD_CATEGORIES if c in chosen))]


def consent(ctx: Case, _section: Section, _number: int) -> list[Element]:
    """The yes/no answers the bodies ask for, exactly as the complainant gave them."""
    given = ctx.snapshot.consent
    if given is None:
        return ctx.said("consent_missing")
    yes = ctx.template.raw("yes")
    if given.anonymous or not (given.publish_name or given.initials_only):
        public = ctx.template.raw("no")
    elif given.initials_only:
        public = ctx.label("consent_initials")
    else:
        public = yes
    rows = (
        (ctx.label("consent_verified"), yes_no(ctx, given.verified)),
        (ctx.label("consent_government"), yes_no(ctx, given.share_name_with_government and not given.anonymous)),
        (ctx.label("consent_public"), public),
        (ctx.label("consent_source"), ctx.label("consent_source_answer")),
    )
    out: list[Element] = [Table((ctx.label("column_question"), ctx.label("column_answer")), rows)]
    if given.anonymous:
        out.extend(ctx.said("consent_anonymous"))
    elif public != yes:
        out.extend(ctx.said("consent_nondisclosure"))
    return out


def request(ctx: Case, _section: Section, _number: int) -> list[Element]:
    """What is asked, by communication type. Urgency decides it: an urgent case is never filed as a letter
    of allegation that then calls itself urgent (the type follows ``urgent``, whatever the snapshot says)."""
    snapshot, labels = ctx.snapshot, ctx.template.labels
    if snapshot.urgent and "request_urgent_appeal" in labels:
        return ctx.said("request_urgent_appeal")
    kind = snapshot.communication_type
    if kind == "urgent_appeal" or not kind or f"request_{kind}" not in labels:
        kind = None
    out = ctx.said(f"request_{kind}" if kind else "request")
    if snapshot.urgent:
        out.extend(ctx.said("request_urgent"))
    return out


def submitter(ctx: Case, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    profile = snapshot.profile
    rows = [(ctx.label("submitter_organisation"), profile.name if profile else snapshot.organisation)]
    for field, label in _CONTACT:
        value = getattr(profile, field) if profile else None
        rows.append((ctx.label(label), ctx.fact(value, f"organisation.{field}", label)))
    rows.append((ctx.label("submitter_reference"), snapshot.ref))
    rows.append((ctx.label("submitter_date"), ctx.values["generated_on"]))
    return [Table((), tuple(rows))]


def signature(ctx: Case, _section: Section, _number: int) -> list[Element]:
    """A line to sign on, with the signatory's name and title and the date."""
    profile = ctx.snapshot.profile
    name = ctx.fact(profile.representative if profile else None, "organisation.representative",
                    "submitter_representative")
    if profile and profile.representative_title:
        name = f"{name}, {profile.representative_title}"
    return [Text(ctx.label("signature_line")),
            Text(name, lead=f"{ctx.label('signature_name')}: "),
            Text(ctx.values["generated_on"], lead=f"{ctx.label('signature_date')}: ")]


def annexes(ctx: Case, _section: Section, _number: int) -> list[Element]:
    if not ctx.snapshot.annexes:
        return ctx.said("annexes_none")
    return [ItemList(tuple(Text(annex) for annex in ctx.snapshot.annexes), numbered=True)]


def eu_standing(ctx: Case, _section: Section, _number: int) -> list[Element]:
    """The petitioner's nationality and whether they are a citizen or resident of the Union (EP petitions)."""
    status = ctx.snapshot.eu_status
    if status is not None and status not in EU_STATUSES:
        raise ValueError(f"eu_status is {status!r}; expected one of {', '.join(EU_STATUSES)}")
    standing = ctx.label(f"eu_status_{status}") if status else ctx.fact(None, "eu_status", "eu_status")
    nationality = ctx.fact(ctx.snapshot.person.nationality, "person.nationality", "nationality")
    return [Table((), ((ctx.label("eu_nationality"), nationality), (ctx.label("eu_status"), standing)))]


INDIVIDUAL_BUILDERS: Final[Mapping[str, Builder[CaseSnapshot]]] = {
    "rights_violated": rights_violated,
    "mandates": mandates,
    "victim": case_blocks.victim,
    "perpetrators": case_blocks.perpetrators,
    "facts": case_blocks.facts,
    "episodes": case_blocks.episodes,
    "arrests": case_blocks.arrests,
    "ill_treatment": case_blocks.ill_treatment,
    "domestic_remedies": case_blocks.domestic_remedies,
    "other_procedures": other_procedures,
    "categories": categories,
    "consent": consent,
    "request": request,
    "submitter": submitter,
    "signature": signature,
    "annexes": annexes,
    "eu_standing": eu_standing,
}
