"""The only mapping from the database to ``filings``: a frozen snapshot, already redacted by consent."""

from __future__ import annotations

from filings import CaseSnapshot, EpisodeSnapshot, IncidentSnapshot, PersonSnapshot
from workflow.models import Case


def display_name(case: Case) -> str:
    """The name a filing may carry: full name, initials, or a neutral label, as the consent allows."""
    consent = case.consent
    if consent is None or consent.status == "withdrawn" or consent.anonymous:
        return f"Complainant {case.ref}"
    if consent.initials_only or not (consent.publish_name or consent.share_name_with_government):
        return "".join(f"{part[0]}." for part in case.person.full_name.split() if part)
    return case.person.full_name


def case_snapshot(case: Case, body: str, language: str, organisation: str, *, grounds: tuple[str, ...] = (),
                  mandates: tuple[str, ...] = (), urgent: bool = False) -> CaseSnapshot:
    episodes_by_id = {e.id: e.key for e in case.episodes}
    return CaseSnapshot(
        ref=case.ref,
        body=body,
        language=language,
        organisation=organisation,
        person=PersonSnapshot(display_name=display_name(case), city=case.person.city,
                              detained_now=case.detained_now),
        received_on=case.received_on,
        incidents=tuple(
            IncidentSnapshot(types=tuple(i.types), occurred_on=i.occurred_on, place=i.place,
                             description=i.description,
                             episodes=(episodes_by_id[i.episode_id],) if i.episode_id in episodes_by_id else ())
            for i in case.incidents
        ),
        episodes=tuple(EpisodeSnapshot(e.key, e.title, e.start_date, e.end_date) for e in case.episodes),
        grounds=grounds,
        mandates=mandates,
        urgent=urgent,
    )
