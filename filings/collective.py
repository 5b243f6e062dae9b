"""The blocks of a collective complaint (DESIGN.md §1 and §6): figures, episodes, officials, named list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from filings.blocks import Builder, Context, mandates, rights_violated
from filings.charts import bar_chart
from filings.elements import Element, Heading, ItemList, Picture, Table, Text, narrative
from filings.formatting import Formats
from filings.schema import COLLECTIVE
from filings.snapshot import EXCLUSION_REASONS, CollectiveSnapshot
from filings.wording import Section, load

Complaint = Context[CollectiveSnapshot]


def collective_values(snapshot: CollectiveSnapshot, formats: Formats) -> dict[str, str]:
    """The template-wide placeholders of a collective complaint, formatted for its language."""
    number = formats.number
    return {
        "organisation": snapshot.organisation,
        "body_name": snapshot.body_name,
        "reference": snapshot.reference,
        "title": snapshot.title,
        "state": snapshot.state or formats.unknown,
        "period": formats.period(snapshot.period_start, snapshot.period_end),
        "period_start": formats.date(snapshot.period_start),
        "period_end": formats.date(snapshot.period_end),
        "received_period": formats.period(snapshot.received_start, snapshot.received_end),
        "received_start": formats.date(snapshot.received_start),
        "received_end": formats.date(snapshot.received_end),
        "appeals_received": number(snapshot.appeals_received),
        "complainants": number(snapshot.complainants),
        "cities": number(len(snapshot.cities)),
        "excluded": number(max(snapshot.appeals_received - snapshot.complainants, 0)),
        "torture_cases": number(snapshot.torture_cases),
        "named_count": number(len(snapshot.named)),
        "unnamed": number(snapshot.unnamed),
        "episodes": number(len(snapshot.episodes)),
        "generated_on": formats.date(snapshot.generated_at.date()),
        "version": number(snapshot.version),
    }


# The blocks that print the legal officer's text for the snapshot field of the same name, or a visible gap.
NARRATIVE_BLOCKS: Final = ("summary", "legal_basis", "context", "methods", "patterns", "pressure_on_defenders",
                           "requests")


def unfinished_sections(narrative: Mapping[str, str], language: str) -> tuple[str, ...]:
    """The narrative sections the complaint in ``language`` would print as "[To be completed ...]": those its
    template uses and the legal officer left empty, in the template's order."""
    template = load(COLLECTIVE, language)
    used = [block for section in template.sections for block in section.blocks if block in NARRATIVE_BLOCKS]
    return tuple(block for block in dict.fromkeys(used) if not (narrative.get(block) or "").strip())


def _chart(ctx: Complaint, title_key: str, rows: tuple[tuple[str, int], ...]) -> list[Element]:
    """A bar chart of ``rows`` beside their table, its alternative text stating every figure."""
    if not rows:
        return []
    title = ctx.label(title_key)
    number = ctx.formats.number
    png = bar_chart(rows, title, ctx.label("chart_others"))
    alt = f"{title}: " + "; ".join(f"{label} — {number(n)}" for label, n in rows)
    return [Picture(png, alt, title)]


def _narrative(field: str) -> Builder[CollectiveSnapshot]:
    """A block printing the legal officer's text for ``field``, or a visible gap when it is empty."""

    def build(ctx: Complaint, _section: Section, _number: int) -> list[Element]:
        text = getattr(ctx.snapshot, field)
        return narrative(text) if text.strip() else ctx.note("narrative_missing")

    return build


def summary(ctx: Complaint, section: Section, number: int) -> list[Element]:
    values = ctx.values
    figures = Table((), (
        (ctx.label("figure_period"), values["period"]),
        (ctx.label("figure_received"), values["received_period"]),
        (ctx.label("figure_appeals"), values["appeals_received"]),
        (ctx.label("figure_complainants"), values["complainants"]),
        (ctx.label("figure_cities"), values["cities"]),
        (ctx.label("figure_episodes"), values["episodes"]),
        (ctx.label("figure_torture"), values["torture_cases"]),
    ))
    return [*ctx.said("summary_figures"), figures, *_narrative("summary")(ctx, section, number)]


def exclusions(snapshot: CollectiveSnapshot) -> list[tuple[str, int]]:
    """Why the appeals received but not included were left out, per reason in ``EXCLUSION_REASONS`` order; the
    appeals counted but known case by case to no one (a figure the legal officer entered) as ``not_recorded``."""
    order = {reason: position for position, reason in enumerate(EXCLUSION_REASONS)}
    known = sorted(((r, n) for r, n in snapshot.excluded if n), key=lambda item: order.get(item[0], len(order)))
    rest = snapshot.appeals_received - snapshot.complainants - sum(n for _r, n in known)
    return [*[(r, n) for r, n in known if r != "not_recorded"],
            *([("not_recorded", rest + dict(known).get("not_recorded", 0))]
              if rest + dict(known).get("not_recorded", 0) > 0 else [])]


def signatories(ctx: Complaint, _section: Section, _number: int) -> list[Element]:
    snapshot, number = ctx.snapshot, ctx.formats.number
    out: list[Element] = [*ctx.said("signatories_text")]
    if reasons := exclusions(snapshot):
        # Each reason with its own count: a sentence saying why "the others" were left out would be untrue
        # for most of them.
        rows = [(ctx.label(f"reason_{reason}"), number(count)) for reason, count in reasons]
        rows.append((ctx.label("total"), number(sum(count for _reason, count in reasons))))
        out.extend(ctx.said("excluded_text"))
        out.append(Table((ctx.label("column_reason"), ctx.label("column_appeals")), tuple(rows)))
    else:
        out.extend(ctx.said("excluded_none"))
    out.extend(ctx.said("cities_text"))
    rows = [(city, number(count)) for city, count in snapshot.cities]
    rows.append((ctx.label("total"), number(snapshot.complainants)))
    out.append(Table((ctx.label("column_city"), ctx.label("column_complainants")), tuple(rows)))
    return [*out, *_chart(ctx, "chart_cities", snapshot.cities)]


def episodes(ctx: Complaint, _section: Section, number: int) -> list[Element]:
    counted = ctx.snapshot.episodes
    if not counted:
        return ctx.said("episodes_none")
    formats = ctx.formats
    columns = tuple(ctx.label(key) for key in ("column_episode", "column_period", "column_known_totals",
                                                 "column_complainants"))
    rows = tuple((c.episode.title, formats.period(c.episode.start_date, c.episode.end_date),
                  c.episode.known_totals or formats.unknown, formats.number(c.complainants)) for c in counted)
    chart = _chart(ctx, "chart_episodes", tuple((c.episode.title, c.complainants) for c in counted))
    out: list[Element] = [Table(columns, rows), *chart, *ctx.said("episodes_overlap")]
    for position, item in enumerate(counted, 1):
        episode = item.episode
        out.append(Heading(f"{number}.{position} {episode.title}", 2))
        out.append(Text(formats.period(episode.start_date, episode.end_date), lead=f"{ctx.label('column_period')}: "))
        out.extend(narrative(episode.description or ""))
        if episode.known_totals:
            out.extend(ctx.said("episode_known_totals", totals=episode.known_totals))
        out.extend(ctx.said("episode_count", plural=item.complainants, count=formats.number(item.complainants)))
    return out


def incident_types(ctx: Complaint, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    if snapshot.incident_types:
        rows = tuple((label, ctx.formats.number(count)) for label, count in snapshot.incident_types)
        out: list[Element] = [Table((ctx.label("column_incident_type"), ctx.label("column_complainants")), rows),
                              *_chart(ctx, "chart_incident_types", snapshot.incident_types)]
    else:
        out = ctx.said("incident_types_none")
    return [*out, *ctx.said("torture_sentence", plural=snapshot.torture_cases)]


def officials(ctx: Complaint, _section: Section, _number: int) -> list[Element]:
    listed = ctx.snapshot.officials
    if not listed:
        return ctx.said("officials_none")
    columns = tuple(ctx.label(key) for key in ("column_position", "column_agency", "column_official_name",
                                                 "column_official_role"))
    rows = tuple((o.position, o.agency, o.name, o.role) for o in listed)
    return [Table(columns, rows)]


def named_complainants(ctx: Complaint, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    if snapshot.named:
        out: list[Element] = [ItemList(tuple(Text(name) for name in snapshot.named), numbered=True)]
    else:
        out = ctx.said("named_none")
    if snapshot.unnamed:
        out.extend(ctx.said("unnamed_sentence", plural=snapshot.unnamed))
    return out


COLLECTIVE_BUILDERS: Final[Mapping[str, Builder[CollectiveSnapshot]]] = {
    "rights_violated": rights_violated,
    "mandates": mandates,
    "summary": summary,
    "legal_basis": _narrative("legal_basis"),
    "context": _narrative("context"),
    "methods": _narrative("methods"),
    "patterns": _narrative("patterns"),
    "pressure_on_defenders": _narrative("pressure_on_defenders"),
    "requests": _narrative("requests"),
    "signatories": signatories,
    "episodes": episodes,
    "incident_types": incident_types,
    "officials": officials,
    "named_complainants": named_complainants,
}
