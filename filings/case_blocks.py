"""The blocks of an individual filing that state the case's facts: the person, the incidents, who acted,
the arrests and detention, ill-treatment and the domestic remedies.

Every fact goes through ``Context.fact``: a value prints as itself, a fact a person marked "not known"
prints the template's "not known", and a fact nobody recorded prints "[To be completed: ...]" and is
reported by ``filings.missing``. Long answers are labelled paragraphs ("Date of arrest: ..."), never a
narrow table column (a 20,000-character account in a quarter-width column made a 41-page filing).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from filings.blocks import Context, chronological, yes_no
from filings.elements import CLIPPED, Element, Heading, ItemList, Table, Text, narrative
from filings.fields import asks
from filings.snapshot import NOT_KNOWN, ArrestSnapshot, CaseSnapshot, IllTreatmentSnapshot, IncidentSnapshot
from filings.wording import Section

Case = Context[CaseSnapshot]

# (snapshot field, label) of the person's facts printed in the victim table; the first two only for a
# named person (they identify), as ``workflow/snapshots.py`` also withholds them.
_PERSON_ROWS: Final = (("occupation", "occupation"), ("organisation", "affiliation"), ("gender", "gender"),
                       ("nationality", "nationality"), ("city", "city"))
_WITHHELD: Final = frozenset({"occupation", "organisation", "activity", "birth_date", "age", "native_name"})
_ARREST_BEFORE: Final = (("arrested_on", "arrest_date"), ("place", "arrest_place"), ("forces", "arrest_forces"),
                         ("warrant_shown", "arrest_warrant_shown"), ("warrant_issued_by", "arrest_warrant_issued_by"),
                         ("reasons_given", "arrest_reasons"), ("legal_provision", "arrest_legal_provision"))
_ARREST_AFTER: Final = (("duration", "arrest_duration"), ("lawyer_access", "arrest_lawyer"),
                        ("family_access", "arrest_family"))
_ILL_TREATMENT: Final = (("methods", "ill_methods"), ("duration", "ill_duration"), ("effects", "ill_effects"),
                         ("medical_evidence", "ill_medical"), ("complaints", "ill_complaints"),
                         ("outcome", "ill_outcome"))


def _labelled(ctx: Case, label: str, value: str) -> Text:
    return Text(value, lead=f"{ctx.label(label)}: ")


def _sentences(parts: list[str]) -> str:
    """Parts as sentences: a full stop after each, unless it already ends in one ("1 марта 2023 г.")."""
    return " ".join(part if part.endswith((".", CLIPPED)) else f"{part}." for part in parts)


def _plain(ctx: Case, value: object) -> str:
    """A value for a summary line (no placeholder: the fact's own block reports it when missing)."""
    if value is NOT_KNOWN or value is None:
        return ""
    return ctx.formats.date(value) if isinstance(value, date) else str(value)


# -- the person ------------------------------------------------------------------------------------------

def _birth(ctx: Case) -> tuple[str, str]:
    person = ctx.snapshot.person
    if isinstance(person.birth_date, date):
        return ctx.label("birth_date"), ctx.formats.date(person.birth_date)
    if isinstance(person.age, str) and person.age:
        return ctx.label("age"), person.age
    value = NOT_KNOWN if NOT_KNOWN in (person.birth_date, person.age) else None
    return ctx.label("birth_date"), ctx.fact(value, "person.birth_date", "birth_date")


def victim(ctx: Case, _section: Section, _number: int) -> list[Element]:
    person, body = ctx.snapshot.person, ctx.snapshot.body
    rows = [(ctx.label("name"), person.display_name)]
    # The snapshot already empties these for an unnamed person; checking ``named`` again costs nothing.
    if person.named and person.native_name:
        rows.append((ctx.label("native_name"), person.native_name))
    if person.named and asks(body, "person.birth_date"):
        rows.append(_birth(ctx))
    for attribute, label in _PERSON_ROWS:
        if (person.named or attribute not in _WITHHELD) and asks(body, f"person.{attribute}"):
            rows.append((ctx.label(label), ctx.fact(getattr(person, attribute), f"person.{attribute}", label)))
    rows.append((ctx.label("detained_now"), yes_no(ctx, person.detained_now)))
    out: list[Element] = [Table((), tuple(rows))]
    for attribute in ("activity", "situation"):
        if (person.named or attribute not in _WITHHELD) and asks(body, f"person.{attribute}"):
            value = ctx.fact(getattr(person, attribute), f"person.{attribute}", attribute, free_text=True)
            out.append(_labelled(ctx, attribute, value))
    if not person.named:
        out.extend(ctx.said("not_named"))
    return out


# -- incidents and who took part -------------------------------------------------------------------------

def _when_where(ctx: Case, incident: IncidentSnapshot) -> str:
    parts = (_plain(ctx, incident.occurred_on), _plain(ctx, incident.city), _plain(ctx, incident.place))
    return ", ".join(part for part in parts if part) or ctx.formats.unknown


def _incident(ctx: Case, n: int, incident: IncidentSnapshot, titles: Mapping[str, str]) -> Text:
    key = f"incidents[{n}]"
    when = (ctx.label("date_unknown") if incident.occurred_on is NOT_KNOWN
            else ctx.fact(incident.occurred_on, f"{key}.occurred_on", "incident_date"))
    city = ctx.fact(incident.city, f"{key}.city", "incident_city")
    place = (ctx.label("place_unknown") if incident.place is NOT_KNOWN
             else ctx.fact(incident.place, f"{key}.place", "incident_place"))
    lead = ", ".join([when, city, place])
    lead += f" ({', '.join(incident.types)}). " if incident.types else ". "
    parts = [ctx.clip(incident.description)]
    if incident.perpetrators is NOT_KNOWN or not incident.perpetrators:
        marked = incident.perpetrators if incident.perpetrators is NOT_KNOWN else None
        agencies = ctx.fact(marked, f"{key}.perpetrators", "incident_perpetrators")
    else:
        agencies = ", ".join(incident.perpetrators)
    parts.append(ctx.label("facts_perpetrators", agencies=agencies))
    if incident.episodes:
        parts.append(ctx.label("facts_episode", episodes=", ".join(titles.get(k, k) for k in incident.episodes)))
    return Text(" ".join(part for part in parts if part), lead=lead)


def facts(ctx: Case, _section: Section, _number: int) -> list[Element]:
    incidents = chronological(ctx.snapshot.incidents)
    if not incidents:
        return [Text(ctx.fact(None, "incidents", "incidents_what"))]
    budget = ctx.budget
    kept = incidents if budget.incidents is None else incidents[len(incidents) - budget.incidents:]
    first = len(incidents) - len(kept) + 1
    titles = {episode.key: episode.title for episode in ctx.snapshot.episodes}
    out: list[Element] = [ItemList(tuple(_incident(ctx, first + n, i, titles) for n, i in enumerate(kept)),
                                   numbered=True)] if kept else []
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


def perpetrators(ctx: Case, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    if not snapshot.perpetrators:
        if "perpetrators" in snapshot.not_known:
            return ctx.said("perpetrators_none")
        return [Text(ctx.fact(None, "perpetrators", "perpetrators_what"))]
    incidents = chronological(snapshot.incidents)
    items = []
    for perpetrator in snapshot.perpetrators:
        key = f"perpetrators[{perpetrator.number}]"
        parts = [f"{ctx.label(label)}: {ctx.fact(getattr(perpetrator, field), f'{key}.{field}', label)}"
                 for field, label in (("unit", "perpetrator_unit"), ("position", "perpetrator_position"),
                                      ("name", "perpetrator_name"))]
        actions = ctx.fact(perpetrator.actions, f"{key}.actions", "perpetrator_actions", free_text=True)
        parts.append(f"{ctx.label('perpetrator_actions')}: {actions}")
        took_part = [_when_where(ctx, i) for i in incidents if perpetrator.number in i.perpetrator_numbers]
        parts.append(f"{ctx.label('perpetrator_incidents')}: "
                     f"{'; '.join(took_part) or ctx.label('perpetrator_no_incident')}")
        items.append(Text(_sentences(parts), lead=f"{perpetrator.agency}. "))
    return [ItemList(tuple(items), numbered=True)]


# -- arrest, detention, ill-treatment --------------------------------------------------------------------

def _arrest(ctx: Case, n: int, arrest: ArrestSnapshot, last: bool) -> list[Element]:
    key = f"arrests[{n}]"
    out = [_labelled(ctx, label, ctx.fact(getattr(arrest, field), f"{key}.{field}", label, free_text=True))
           for field, label in _ARREST_BEFORE]
    if arrest.custody:
        out.append(Text("", lead=f"{ctx.label('arrest_custody')}:"))
        places = []
        for place in arrest.custody:
            text = place.place + (f" ({place.authority})" if place.authority else "")
            if place.from_on or place.to_on:
                text += f", {ctx.formats.period(place.from_on, place.to_on)}"
            places.append(Text(text))
        out.append(ItemList(tuple(places), numbered=True))
    else:
        out.append(_labelled(ctx, "arrest_custody", ctx.fact(None, f"{key}.custody", "arrest_custody")))
    out.extend(_labelled(ctx, label, ctx.fact(getattr(arrest, field), f"{key}.{field}", label, free_text=True))
               for field, label in _ARREST_AFTER)
    if last and ctx.snapshot.person.detained_now and arrest.released_on is None and arrest.release is None:
        out.append(_labelled(ctx, "arrest_released_on", ctx.label("arrest_not_released")))
    else:
        out.append(_labelled(ctx, "arrest_released_on",
                             ctx.fact(arrest.released_on, f"{key}.released_on", "arrest_released_on")))
        out.append(_labelled(ctx, "arrest_release",
                             ctx.fact(arrest.release, f"{key}.release", "arrest_release", free_text=True)))
    return out


def arrests(ctx: Case, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    if not snapshot.arrests:
        if "arrests" in snapshot.not_known:
            return ctx.said("arrests_not_known")
        if (snapshot.body == "un_wgad" or snapshot.person.detained_now
                or any(i.deprivation_of_liberty for i in snapshot.incidents)):
            return [Text(ctx.fact(None, "arrests", "arrests_what"))]
        return ctx.said("arrests_none")
    out: list[Element] = []
    count = len(snapshot.arrests)
    for n, arrest in enumerate(snapshot.arrests, 1):
        if count > 1:
            out.append(Heading(ctx.label("arrest_number", number=str(n)), 2))
        out.extend(_arrest(ctx, n, arrest, n == count))
    return out


def _ill_treatment(ctx: Case, n: int, record: IllTreatmentSnapshot) -> list[Element]:
    return [_labelled(ctx, label, ctx.fact(getattr(record, field), f"ill_treatments[{n}].{field}", label,
                                           free_text=True))
            for field, label in _ILL_TREATMENT]


def ill_treatment(ctx: Case, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    if not snapshot.ill_treatments:
        if "ill_treatments" in snapshot.not_known:
            return ctx.said("ill_treatment_not_known")
        if any(i.ill_treatment for i in snapshot.incidents):
            return [Text(ctx.fact(None, "ill_treatments", "ill_treatment_what"))]
        return ctx.said("ill_treatment_none")
    out: list[Element] = []
    count = len(snapshot.ill_treatments)
    for n, record in enumerate(snapshot.ill_treatments, 1):
        if count > 1 or record.occurred_on:
            when = ctx.formats.date(record.occurred_on) if record.occurred_on else ""
            out.append(Heading(ctx.label("ill_treatment_number", number=str(n), date=when).rstrip(" ,"), 2))
        out.extend(_ill_treatment(ctx, n, record))
    return out


# -- domestic remedies -----------------------------------------------------------------------------------

def domestic_remedies(ctx: Case, _section: Section, _number: int) -> list[Element]:
    snapshot = ctx.snapshot
    remedies = snapshot.remedies
    if remedies.exhausted_on is not None:
        out = ctx.said("remedies_exhausted", date=ctx.formats.date(remedies.exhausted_on))
    else:
        out = ctx.said("remedies_not_exhausted")
    if remedies.ineffective:
        out.extend(ctx.said("remedies_ineffective"))
    if snapshot.remedy_steps:
        items = []
        for n, step in enumerate(snapshot.remedy_steps, 1):
            key = f"remedy_steps[{n}]"
            parts = [f"{ctx.label('remedy_taken_on')}: {ctx.fact(step.taken_on, f'{key}.taken_on', 'remedy_taken_on')}",
                     f"{ctx.label('remedy_outcome')}: "
                     f"{ctx.fact(step.outcome, f'{key}.outcome', 'remedy_outcome', free_text=True)}",
                     f"{ctx.label('remedy_decided_on')}: "
                     f"{ctx.fact(step.decided_on, f'{key}.decided_on', 'remedy_decided_on')}",
                     f"{ctx.label('remedy_final')}: {yes_no(ctx, step.final)}"]
            items.append(Text(_sentences(parts), lead=f"{step.authority}. "))
        out.append(ItemList(tuple(items), numbered=True))
    elif "remedy_steps" in snapshot.not_known:
        out.extend(ctx.said("remedies_none"))
    else:
        out.append(Text(ctx.fact(None, "remedy_steps", "remedy_steps_what")))
    summary = remedies.summary.strip()
    if summary:
        out.extend(narrative(ctx.clip(summary)))
    return out
