"""Content blocks: the parts of a filing filled from the snapshot, in the template's wording.

``compose`` walks the template's sections and asks each section's blocks for elements. The blocks of an
individual filing live here with the two shared by both kinds (rights violated, mandates); the collective
complaint's blocks are in ``filings/collective.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Generic, Protocol, TypeVar

from filings.elements import Element, Heading, ItemList, Table, Text, clip, narrative, paragraphs
from filings.formatting import Formats
from filings.snapshot import CaseSnapshot, GroundSnapshot, IncidentSnapshot
from filings.wording import Section, Template

_WGAD_CATEGORIES: Final = ("I", "II", "III", "IV", "V")
_OTHER_PROCEDURES: Final = ("none", "pending", "concluded")


class _Filed(Protocol):
    """What both snapshot kinds offer to the shared blocks."""

    @property
    def grounds(self) -> tuple[GroundSnapshot, ...]: ...

    @property
    def mandates(self) -> tuple[str, ...]: ...


S = TypeVar("S", bound=_Filed)


@dataclass(frozen=True, slots=True)
class Budget:
    """How much free text to print (the 500-word summaries); the default prints all of it."""

    words: int | None = None  # per free-text field: descriptions, summaries
    incidents: int | None = None  # the most recent incidents kept


@dataclass(frozen=True, slots=True)
class Context(Generic[S]):
    snapshot: S
    template: Template
    values: Mapping[str, str]
    formats: Formats
    budget: Budget = Budget()

    def label(self, key: str, *, plural: int | None = None, **extra: str) -> str:
        """A label for use inside a sentence or a table cell: the template's line wrapping removed."""
        return " ".join(self.template.label(key, self.values, plural=plural, **extra).split())

    def said(self, key: str, *, plural: int | None = None, **extra: str) -> list[Element]:
        """A label as paragraphs; a label left empty in the template prints nothing."""
        return paragraphs(self.template.label(key, self.values, plural=plural, **extra))

    def note(self, key: str, *, plural: int | None = None, **extra: str) -> list[Element]:
        """A label as the organisation's own remark (italics), set apart from the account of the facts."""
        return [Text(element.body, note=True) if isinstance(element, Text) else element
                for element in self.said(key, plural=plural, **extra)]

    def clip(self, text: str) -> str:
        return clip(text, self.budget.words)


Builder = Callable[[Context[S], Section, int], list[Element]]


def compose(ctx: Context[S], builders: Mapping[str, Builder[S]]) -> list[Element]:
    """Title, introduction, the numbered sections with their blocks, and the closing."""
    template, values = ctx.template, ctx.values
    out: list[Element] = [Heading(template.fill(template.title, values), 0)]
    out.extend(paragraphs(template.fill(template.intro, values)))
    for number, section in enumerate(template.sections, 1):
        out.append(Heading(f"{number}. {template.fill(section.heading, values)}", 1))
        out.extend(paragraphs(template.fill(section.text, values)))
        for block in section.blocks:
            out.extend(builders[block](ctx, section, number))
    out.extend(paragraphs(template.fill(template.closing, values)))
    return out


def individual_values(snapshot: CaseSnapshot, formats: Formats) -> dict[str, str]:
    """The template-wide placeholders of an individual filing, formatted for its language."""
    return {
        "organisation": snapshot.organisation,
        "body_name": snapshot.body_name,
        "ref": snapshot.ref,
        "person": snapshot.person.display_name,
        "state": snapshot.state or formats.unknown,
        "received_on": formats.date(snapshot.received_on),
        "generated_on": formats.date(snapshot.generated_at.date()),
        "version": formats.number(snapshot.version),
        "mandates": ", ".join(snapshot.mandates) or formats.unknown,
    }


def chronological(incidents: tuple[IncidentSnapshot, ...]) -> list[IncidentSnapshot]:
    # Undated incidents go last, in the order they were recorded.
    return sorted(incidents, key=lambda i: (i.occurred_on is None, i.occurred_on or date.min))


def _yes_no(ctx: Context[S], value: bool) -> str:
    return ctx.template.raw("yes" if value else "no")


# -- shared blocks ---------------------------------------------------------------------------------------

def rights_violated(ctx: Context[S], section: Section, _number: int) -> list[Element]:
    grounds = ctx.snapshot.grounds
    if not grounds:
        return ctx.said("grounds_none")
    items = []
    for ground in grounds:
        udhr = ctx.label("udhr", articles=ground.udhr) if section.cite_udhr and ground.udhr else ""
        items.append(Text(f"{ground.label} {udhr}".strip()))
    return [ItemList(tuple(items))]


def mandates(ctx: Context[S], _section: Section, _number: int) -> list[Element]:
    if not ctx.snapshot.mandates:
        return ctx.said("mandates_none")
    return [*ctx.said("mandates_intro"), ItemList(tuple(Text(mandate) for mandate in ctx.snapshot.mandates))]


# -- individual filing blocks ----------------------------------------------------------------------------

Case = Context[CaseSnapshot]


def victim(ctx: Case, _section: Section, _number: int) -> list[Element]:
    person, formats = ctx.snapshot.person, ctx.formats
    rows = [(ctx.label("name"), person.display_name)]
    # The snapshot already empties these for an unnamed person; checking ``named`` again costs nothing.
    if person.named and person.native_name:
        rows.append((ctx.label("native_name"), person.native_name))
    if person.named and person.birth_date:
        rows.append((ctx.label("birth_date"), formats.date(person.birth_date)))
    for key, value in (("gender", person.gender), ("city", person.city), ("occupation", person.occupation),
                       ("affiliation", person.organisation)):
        if value:
            rows.append((ctx.label(key), value))
    rows.append((ctx.label("detained_now"), _yes_no(ctx, person.detained_now)))
    out: list[Element] = [Table((), tuple(rows))]
    if not person.named:
        out.extend(ctx.said("not_named"))
    return out


def _when_where(ctx: Case, incident: IncidentSnapshot) -> str:
    parts = [ctx.formats.date(incident.occurred_on) if incident.occurred_on else "", incident.place or ""]
    return ", ".join(part for part in parts if part) or ctx.formats.unknown


def perpetrators(ctx: Case, _section: Section, _number: int) -> list[Element]:
    involved: dict[str, list[str]] = {}
    for incident in chronological(ctx.snapshot.incidents):
        for agency in incident.perpetrators:
            involved.setdefault(agency, []).append(_when_where(ctx, incident))
    if not involved:
        return ctx.said("perpetrators_none")
    rows = tuple((agency, "; ".join(where)) for agency, where in involved.items())
    return [Table((ctx.label("column_agency"), ctx.label("column_incidents")), rows)]


def submitter(ctx: Case, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    return [Table((), (
        (ctx.label("submitter_organisation"), snapshot.organisation),
        (ctx.label("submitter_reference"), snapshot.ref),
        (ctx.label("submitter_date"), ctx.values["generated_on"]),
    ))]


def _incident(ctx: Case, incident: IncidentSnapshot, titles: Mapping[str, str]) -> Text:
    when = ctx.formats.date(incident.occurred_on) if incident.occurred_on else ctx.label("date_unknown")
    lead = ", ".join([when, incident.place or ctx.label("place_unknown")])
    lead += f" ({', '.join(incident.types)}). " if incident.types else ". "
    parts = [ctx.clip(incident.description)]
    if incident.perpetrators:
        parts.append(ctx.label("facts_perpetrators", agencies=", ".join(incident.perpetrators)))
    if incident.episodes:
        parts.append(ctx.label("facts_episode", episodes=", ".join(titles.get(k, k) for k in incident.episodes)))
    return Text(" ".join(part for part in parts if part), lead=lead)


def facts(ctx: Case, _section: Section, _number: int) -> list[Element]:
    incidents = chronological(ctx.snapshot.incidents)
    if not incidents:
        return ctx.said("facts_none")
    budget = ctx.budget
    kept = incidents if budget.incidents is None else incidents[len(incidents) - budget.incidents:]
    titles = {episode.key: episode.title for episode in ctx.snapshot.episodes}
    out: list[Element] = [ItemList(tuple(_incident(ctx, i, titles) for i in kept), numbered=True)] if kept else []
    if budget.words is not None:
        out.extend(ctx.note("facts_shortened"))
    omitted = len(incidents) - len(kept)
    if omitted:
        out.extend(ctx.note("facts_omitted", plural=omitted, omitted=ctx.formats.number(omitted)))
    return out


def episodes(ctx: Case, _section: Section, _number: int) -> list[Element]:
    if not ctx.snapshot.episodes:
        return ctx.said("episodes_none")
    items = []
    for episode in ctx.snapshot.episodes:
        parts = [ctx.clip(episode.description or "")]
        if episode.known_totals:
            parts.append(ctx.label("known_totals", totals=episode.known_totals))
        lead = f"{episode.title} ({ctx.formats.period(episode.start_date, episode.end_date)}). "
        items.append(Text(" ".join(part for part in parts if part), lead=lead))
    return [ItemList(tuple(items))]


def detention(ctx: Case, _section: Section, _number: int) -> list[Element]:
    held = [i for i in chronological(ctx.snapshot.incidents) if i.deprivation_of_liberty]
    if not held:
        return ctx.said("detention_none")
    columns = tuple(ctx.label(key) for key in ("column_date", "column_place", "column_authority",
                                                 "column_description"))
    rows = tuple((ctx.formats.date(i.occurred_on), i.place or ctx.formats.unknown,
                  ", ".join(i.perpetrators) or ctx.formats.unknown, ctx.clip(i.description)) for i in held)
    return [Table(columns, rows)]


def domestic_remedies(ctx: Case, _section: Section, _number: int) -> list[Element]:
    remedies = ctx.snapshot.remedies
    if remedies.exhausted_on is not None:
        out = ctx.said("remedies_exhausted", date=ctx.formats.date(remedies.exhausted_on))
    else:
        out = ctx.said("remedies_not_exhausted")
    if remedies.ineffective:
        out.extend(ctx.said("remedies_ineffective"))
    summary = remedies.summary.strip()
    out.extend(narrative(ctx.clip(summary)) if summary else ctx.said("remedies_none"))
    return out


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
        (ctx.label("consent_verified"), _yes_no(ctx, given.verified)),
        (ctx.label("consent_government"), _yes_no(ctx, given.share_name_with_government and not given.anonymous)),
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
    kind = ctx.snapshot.communication_type
    key = f"request_{kind}" if kind and f"request_{kind}" in ctx.template.labels else "request"
    out = ctx.said(key)
    if ctx.snapshot.urgent:
        out.extend(ctx.said("request_urgent"))
    return out


INDIVIDUAL_BUILDERS: Final[Mapping[str, Builder[CaseSnapshot]]] = {
    "rights_violated": rights_violated,
    "mandates": mandates,
    "victim": victim,
    "perpetrators": perpetrators,
    "submitter": submitter,
    "facts": facts,
    "episodes": episodes,
    "detention": detention,
    "domestic_remedies": domestic_remedies,
    "other_procedures": other_procedures,
    "categories": categories,
    "consent": consent,
    "request": request,
}
