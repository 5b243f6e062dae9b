"""The only mapping from the database to ``filings``: frozen snapshots, already redacted for one body.

Redaction happens here, not in templates, so no template can leak what it was never given:

- Who may be named depends on the body's audience. Bodies that send the communication to the government
  concerned (the UN bodies, ODIHR) may carry the name when the complainant allowed it to be shared with the
  government; bodies whose documents become public (the European Parliament, a collective complaint)
  only when the complainant allowed publication. A per-body override in the consent record wins
  (``allow``/``deny``). Anonymous, withdrawn or unverified consent: never named.
- Not named: "A. T." when the complainant chose initials, else "Complainant <ref>"; the native name, the
  birth date, the age, the occupation, the organisation and the activity are then left out, and the full
  name or native name is cut out of every staff-written text (descriptions, the situation, what
  perpetrators did, the arrest and ill-treatment accounts, remedy steps). Officials' names may print.
- Identity numbers, phone numbers, e-mail and postal addresses have no field in a snapshot at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Literal

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from filings.fields import asks
from filings.snapshot import (
    NOT_KNOWN,
    CaseSnapshot,
    CollectiveSnapshot,
    ConsentSnapshot,
    CountedEpisode,
    EpisodeSnapshot,
    GroundSnapshot,
    IncidentSnapshot,
    Official,
    PersonSnapshot,
    RemediesSnapshot,
)
from workflow import snapshot_facts, vocab
from workflow.bodies import body_name, get_body
from workflow.models import Case, Episode, LegalFacts, Review
from workflow.name_scrubber import NameScrubber
from workflow.place_names import city_names, episode_title

Naming = Literal["full", "initials", "none"]
# Bodies whose documents are published (or may be disclosed on request) rather than sent to a government.
PUBLIC_AUDIENCE = frozenset({"ep_droi", "ep_peti", "collective"})
GENDER_LABELS = {
    "en": {"female": "female", "male": "male", "other": "other", "undisclosed": "not disclosed"},
    "ru": {"female": "женский", "male": "мужской", "other": "другой", "undisclosed": "не указан"},
}
TORTURE_TYPES = frozenset({"torture_ill_treatment"})


def naming(case: Case, audience: str) -> Naming:
    """How this body (or ``collective``) may name the complainant of ``case``."""
    consent = case.consent
    if consent is None or consent.status != "verified" or consent.anonymous:
        return "none"
    override = (consent.body_overrides or {}).get(audience)
    if override == "deny":
        return "none"
    if audience in PUBLIC_AUDIENCE:
        allowed = override == "allow" or consent.publish_name
        if allowed:
            return "initials" if consent.initials_only else "full"
    elif override == "allow" or consent.share_name_with_government:
        return "full"  # a government communication cannot be anonymous; initials are for publication
    return "initials" if consent.initials_only else "none"


def initials(full_name: str) -> str:
    return " ".join(f"{part[0]}." for part in full_name.split() if part)


def display_name(case: Case, audience: str) -> str:
    level = naming(case, audience)
    if level == "full":
        return case.person.full_name
    if level == "initials":
        return initials(case.person.full_name)
    return f"Complainant {case.ref}"


def scrub(text: str, case: Case, replacement: str) -> str:
    """Cut the complainant's names out of free text written by staff (a description may quote them)."""
    return NameScrubber([(case, replacement)]).scrub(text)[0]


def _person(case: Case, audience: str, language: str, city: Callable[[str | None], str | None]) -> PersonSnapshot:
    level = naming(case, audience)
    person = case.person
    named = level == "full"
    unknown = {key.removeprefix("person.") for key in case.unknown_facts or () if key.startswith("person.")}
    fact = snapshot_facts.fact
    gender = GENDER_LABELS.get(language, GENDER_LABELS["en"]).get(person.gender or "") or None
    # The birth date goes only to bodies that ask for it (filings.fields), and only with the name.
    asks_birth = named and asks(audience, "person.birth_date")
    situation = person.situation if named or not person.situation else scrub(person.situation, case,
                                                                             display_name(case, audience))
    return PersonSnapshot(
        display_name=display_name(case, audience),
        named=named,
        native_name=person.full_name_native if named else None,
        birth_date=fact(person.birth_date, "birth_date", unknown) if asks_birth else None,
        age=fact(person.age, "age", unknown) if asks_birth else None,
        gender=fact(gender, "gender", unknown),
        city=city(person.city),
        occupation=fact(person.occupation, "occupation", unknown) if named else None,
        organisation=fact(person.organisation, "organisation", unknown) if named else None,
        detained_now=case.detained_now,
        nationality=fact(person.nationality, "nationality", unknown),
        activity=fact(person.activity, "activity", unknown) if named else None,
        situation=fact(situation, "situation", unknown),
    )


def _episodes(episodes: Iterable[Episode], language: str) -> tuple[EpisodeSnapshot, ...]:
    return tuple(EpisodeSnapshot(e.key, episode_title(e, language), e.start_date, e.end_date, e.description,
                                 e.known_totals)
                 for e in sorted(episodes, key=lambda e: (e.start_date or date.min, e.key)))


def _incidents(session: Session, case: Case, audience: str, language: str,
               city: Callable[[str | None], str | None]) -> tuple[IncidentSnapshot, ...]:
    types = vocab.labels(session, "incident_type", language)
    deprivation = {t.key for t in vocab.terms(session, "incident_type", include_retired=True)
                   if t.extra.get("deprivation_of_liberty")}
    agencies = vocab.labels(session, "perpetrator_agency", language)
    numbers = snapshot_facts.perpetrator_numbers(case)
    episode_keys = {e.id: e.key for e in case.episodes}
    named = naming(case, audience) == "full"
    stand_in = display_name(case, audience)
    fact = snapshot_facts.fact
    ordered = sorted(case.incidents, key=lambda i: (i.occurred_on or date.max, i.id))
    out = []
    for i in ordered:
        unknown = i.unknown or ()
        perpetrators = tuple(agencies.get(p.agency, p.agency) for p in i.perpetrators)
        out.append(IncidentSnapshot(
            types=tuple(types.get(t, t) for t in i.types),
            occurred_on=fact(i.occurred_on, "occurred_on", unknown),
            city=fact(city(i.city), "city", unknown),
            place=fact(i.place if named or not i.place else scrub(i.place, case, stand_in), "place", unknown),
            description=i.description if named else scrub(i.description, case, stand_in),
            perpetrators=perpetrators or (NOT_KNOWN if "perpetrators" in unknown else ()),
            perpetrator_numbers=tuple(numbers[p.id] for p in i.perpetrators if p.id in numbers),
            episodes=(episode_keys[i.episode_id],) if i.episode_id in episode_keys else (),
            type_keys=tuple(i.types),
            deprivation_of_liberty=bool(deprivation.intersection(i.types)),
            ill_treatment=bool(TORTURE_TYPES.intersection(i.types)),
        ))
    return tuple(out)


def state_name(code: str, language: str) -> str:
    """The State concerned in the document's language ("KZ" -> "Kazakhstan" / "Казахстан")."""
    return Locale.parse(language).territories.get(code.upper(), code)


def grounds(session: Session, keys: Iterable[str], language: str) -> tuple[GroundSnapshot, ...]:
    terms = {t.key: t for t in vocab.terms(session, "legal_ground", include_retired=True)}
    return tuple(GroundSnapshot(key, vocab.label_of(terms[key], language) if key in terms else key,
                                terms[key].extra.get("udhr") if key in terms else None) for key in keys)


def mandate_labels(session: Session, keys: Iterable[str], language: str) -> tuple[str, ...]:
    labels = vocab.labels(session, "mandate", language)
    return tuple(labels.get(k, k) for k in keys)


def _consent(case: Case, body: str) -> ConsentSnapshot | None:
    """What the complainant allowed for this body, as the filing states it (overrides applied)."""
    consent = case.consent
    if consent is None:
        return None
    verified = consent.status == "verified"
    override = (consent.body_overrides or {}).get(body)
    open_to = verified and not consent.anonymous and override != "deny"
    return ConsentSnapshot(
        verified=verified,
        share_name_with_government=open_to and (override == "allow" or consent.share_name_with_government),
        publish_name=open_to and (override == "allow" or consent.publish_name),
        initials_only=consent.initials_only, anonymous=consent.anonymous)


def case_snapshot(session: Session, case: Case, body: str, language: str, organisation: str, *,
                  review: Review | None = None, version: int = 1) -> CaseSnapshot:
    """One case for one body, redacted for that body; grounds and mandates from the approved review.

    ``organisation`` is the settings' name, used when no organisation profile has been filled in.
    """
    named = naming(case, body) == "full"
    stand_in = display_name(case, body)

    def cut(text: str) -> str:
        return text if named else scrub(text, case, stand_in)

    facts = LegalFacts.for_case(case)
    profile = snapshot_facts.organisation_profile(session)
    cities = city_names(session, language)  # the city vocabulary's names in the document's language
    # The legal officer's review decides urgency; the Special Procedures' communication type follows it,
    # so an urgent case is never filed as a letter of allegation that calls itself urgent.
    urgent = review.urgent if review else case.urgent
    communication_type = None
    if body == "un_sp":
        communication_type = "urgent_appeal" if urgent else "letter_of_allegation"
    elif body == "un_wgad" and urgent:
        communication_type = "urgent_appeal"
    return CaseSnapshot(
        ref=case.ref,
        body=body,
        body_name=body_name(get_body(session, body), language),
        language=language,
        organisation=profile.name if profile else organisation,
        person=_person(case, body, language, cities),
        received_on=case.received_on,
        incidents=_incidents(session, case, body, language, cities),
        episodes=_episodes(case.episodes, language),
        grounds=grounds(session, review.grounds, language) if review else (),
        mandates=mandate_labels(session, review.mandates, language) if review and body == "un_sp" else (),
        communication_type=communication_type,
        wgad_categories=tuple(review.wgad_categories) if review and body == "un_wgad" else (),
        urgent=urgent,
        state=state_name(facts.state_code, language),
        remedies=RemediesSnapshot(
            exhausted_on=facts.remedies_exhausted_on,
            summary=cut(facts.remedies_summary),
            ineffective=facts.remedies_ineffective, other_procedure=facts.other_procedure,
            other_procedure_name=facts.other_procedure_name,
            other_procedure_concluded_on=facts.other_procedure_concluded_on),
        consent=_consent(case, body),
        version=version,
        perpetrators=snapshot_facts.perpetrators(session, case, language, cut),
        arrests=snapshot_facts.arrests(case, cut),
        ill_treatments=snapshot_facts.ill_treatments(case, cut),
        remedy_steps=snapshot_facts.remedy_steps(case, cut),
        not_known=snapshot_facts.not_known_kinds(case),
        profile=profile,
        annexes=snapshot_facts.annexes(case, body, language),
        eu_status=facts.eu_status if facts.eu_status in ("citizen", "resident", "none") else None,
    )


def load_cases(session: Session, case_ids: Iterable[int]) -> list[Case]:
    """The cases with everything a snapshot reads, in a handful of queries instead of several per case."""
    return list(session.scalars(
        select(Case).where(Case.id.in_(list(case_ids))).order_by(Case.ref)
        .options(selectinload(Case.person), selectinload(Case.episodes), selectinload(Case.incidents),
                 selectinload(Case.consent), selectinload(Case.legal_facts))))


COLLECTIVE = "collective"  # the audience of a collective complaint: published, so names need publication consent
NARRATIVE_KEYS = ("summary", "legal_basis", "context", "methods", "patterns", "pressure_on_defenders", "requests")


def unnamed_scrubber(cases: Iterable[Case]) -> NameScrubber:
    """Cuts out of staff-written text the names of every complainant a collective complaint may not name in full
    (no publication consent, or initials only), each replaced by how the complaint refers to them."""
    return NameScrubber((c, display_name(c, COLLECTIVE)) for c in cases if naming(c, COLLECTIVE) != "full")


def redact_collective_texts(scrubber: NameScrubber, narrative: Mapping[str, str], episodes: Iterable[Episode],
                            officials: Iterable[Mapping[str, str]]) -> tuple[dict[str, str], dict[int, str | None],
                                                                             list[dict[str, str]], list[str]]:
    """The narrative, the episodes' descriptions and the officials as the complaint prints them, and the keys of
    the sections a name was cut from (narrative keys, ``episodes``, ``officials``), for the legal officer."""
    cut: list[str] = []
    texts: dict[str, str] = {}
    for key in NARRATIVE_KEYS:
        texts[key], changed = scrubber.scrub(narrative.get(key, ""))
        if changed:
            cut.append(key)
    descriptions: dict[int, str | None] = {}
    for episode in episodes:
        descriptions[episode.id], changed = scrubber.scrub(episode.description or "")
        if changed and "episodes" not in cut:
            cut.append("episodes")
    # An official is named as entered (officials may be named); only what they did is the complainants' account.
    listed = []
    for official in officials:
        role, changed = scrubber.scrub(official.get("role", ""))
        listed.append({**official, "role": role})
        if changed and "officials" not in cut:
            cut.append("officials")
    return texts, descriptions, listed, cut


def collective_snapshot(session: Session, cases: list[Case], *, reference: str, title: str, body: str,
                        language: str, organisation: str, appeals_received: int, narrative: dict[str, str],
                        officials: list[dict[str, str]], grounds_keys: Iterable[str] = (),
                        mandate_keys: Iterable[str] = (), excluded: Iterable[tuple[str, int]] = (),
                        version: int = 1) -> CollectiveSnapshot:
    """Many cases as one complaint: counts over everyone, names only of those who allowed publication.

    ``excluded``: (reason, appeals) for the appeals received but not included (``services/collective_checks``).
    Cities and episode titles are written in the document's language (``workflow/place_names.py``); the names of
    complainants who may not be named are cut out of the staff-written text.
    """
    city = city_names(session, language)
    cities = Counter(city(c.person.city) or "—" for c in cases)
    per_episode: Counter[int] = Counter()
    episodes: dict[int, Episode] = {}
    per_type: Counter[str] = Counter()
    for case in cases:
        for episode in case.episodes:
            per_episode[episode.id] += 1
            episodes[episode.id] = episode
        per_type.update({t for incident in case.incidents for t in incident.types})
    type_labels = vocab.labels(session, "incident_type", language)
    named = sorted(display_name(c, COLLECTIVE) for c in cases if naming(c, COLLECTIVE) != "none")
    dated = [i.occurred_on for c in cases for i in c.incidents if i.occurred_on]
    received = [c.received_on for c in cases if c.received_on]
    left_out = {reason: n for reason, n in excluded if n}
    texts, descriptions, listed, _cut = redact_collective_texts(unnamed_scrubber(cases), narrative,
                                                                episodes.values(), officials)
    by_key = {e.key: e for e in episodes.values()}
    ordered_episodes = [replace(e, description=descriptions[by_key[e.key].id] or None)
                        for e in _episodes(episodes.values(), language)]
    return CollectiveSnapshot(
        reference=reference, title=title, body=body,
        body_name=body_name(get_body(session, body), language) if body != COLLECTIVE else title,
        language=language, organisation=organisation,
        period_start=min(dated, default=None), period_end=max(dated, default=None),
        received_start=min(received, default=None), received_end=max(received, default=None),
        # The figures must add up: every appeal left out for a known reason was received.
        appeals_received=max(appeals_received, len(cases) + sum(left_out.values())), complainants=len(cases),
        excluded=tuple(left_out.items()),
        cities=tuple(sorted(cities.items(), key=lambda kv: (-kv[1], kv[0]))),
        episodes=tuple(CountedEpisode(e, per_episode[by_key[e.key].id]) for e in ordered_episodes),
        incident_types=tuple(sorted(((type_labels.get(k, k), n) for k, n in per_type.items()),
                                    key=lambda kv: (-kv[1], kv[0]))),
        torture_cases=sum(1 for c in cases if TORTURE_TYPES & {t for i in c.incidents for t in i.types}),
        named=tuple(named), unnamed=len(cases) - len(named),
        state=state_name(Counter(LegalFacts.for_case(c).state_code for c in cases).most_common(1)[0][0], language)
        if cases else None,
        **texts,
        officials=tuple(Official(o.get("position", ""), o.get("agency", ""), o.get("name", ""), o.get("role", ""))
                        for o in listed),
        grounds=grounds(session, grounds_keys, language),
        mandates=mandate_labels(session, mandate_keys, language),
        version=version,
    )
