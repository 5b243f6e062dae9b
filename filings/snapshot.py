"""Immutable snapshots: the contract between the workflow engine and document generation.

``workflow/snapshots.py`` copies what one filing needs out of the database into these objects, already
redacted for the target body by the complainant's consent, with every vocabulary key already turned into
a label in the document's language. The renderer never touches the database and can only print what was
deliberately handed to it: identity numbers and contact details have no field here at all, and a person
who did not allow naming arrives as initials or "Complainant 17" with their other identity fields empty.

A fact the bodies ask for is in one of three states: a value; ``NOT_KNOWN``, when a person recorded that it
is not known (the filing prints the template's "not known"); or None, when nobody recorded anything (the
filing prints a visible "[To be completed: ...]" placeholder and ``filings.missing`` lists it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Final, TypeVar


class NotKnown(Enum):
    """A fact a person marked "not known": distinct from None, which is a fact nobody recorded."""

    NOT_KNOWN = "not known"

    def __bool__(self) -> bool:  # so that ``if value:`` still means "has a value"
        return False


NOT_KNOWN: Final = NotKnown.NOT_KNOWN
V = TypeVar("V")
Fact = V | NotKnown | None  # a recorded value, marked not known, or missing


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _aware_utc(value: datetime) -> datetime:
    # A naive timestamp would be silently read in the server's zone; refuse it, and normalise aware
    # ones to UTC so that documents generated on different hosts compare equal.
    if value.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PersonSnapshot:
    """The alleged victim as this body may see them.

    ``named`` says whether ``display_name`` is the real name; when it is not, ``native_name`` and
    ``birth_date`` are None whatever the database holds. There is deliberately no field for a passport
    number, a phone number, an e-mail or a postal address.
    """

    display_name: str
    named: bool = False
    native_name: str | None = None
    birth_date: Fact[date] = None
    gender: Fact[str] = None  # a label in the document's language
    city: Fact[str] = None
    occupation: Fact[str] = None
    organisation: Fact[str] = None
    detained_now: bool = False
    nationality: Fact[str] = None
    age: Fact[str] = None  # in years, as recorded; asked when the birth date is not known
    activity: Fact[str] = None  # human-rights, political or social activity
    situation: Fact[str] = None  # current situation and risk


@dataclass(frozen=True, slots=True)
class PerpetratorSnapshot:
    """Someone held responsible. Officials may be named: the consent rules protect the complainant only."""

    number: int  # 1, 2, ... in the case's order; incidents refer to perpetrators by it
    agency: str  # a label in the document's language
    unit: Fact[str] = None
    position: Fact[str] = None
    name: Fact[str] = None
    actions: Fact[str] = None  # what they did


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    types: tuple[str, ...]  # labels in the document's language
    occurred_on: Fact[date]
    place: Fact[str]  # the exact place (a street, a building), within ``city``
    description: str
    perpetrators: tuple[str, ...] | NotKnown = ()  # labels of the perpetrator agencies
    episodes: tuple[str, ...] = ()  # keys of the EpisodeSnapshot(s) this incident belongs to
    type_keys: tuple[str, ...] = ()  # vocabulary keys, for counting and for body-specific wording
    deprivation_of_liberty: bool = False  # an arrest or detention (the WGAD asks for these apart)
    ill_treatment: bool = False  # torture or ill-treatment (the Special Rapporteur asks for its details)
    city: Fact[str] = None
    perpetrator_numbers: tuple[int, ...] = ()  # PerpetratorSnapshot.number of those who took part


@dataclass(frozen=True, slots=True)
class CustodySnapshot:
    """One place of custody; an arrest's places in order make the transfers."""

    place: str
    authority: str | None = None  # who held the person there
    from_on: date | None = None
    to_on: date | None = None


@dataclass(frozen=True, slots=True)
class ArrestSnapshot:
    """One arrest and the detention that followed, every field the WGAD questionnaire asks."""

    arrested_on: Fact[date] = None
    place: Fact[str] = None
    forces: Fact[str] = None
    warrant_shown: Fact[bool] = None
    warrant_issued_by: Fact[str] = None
    reasons_given: Fact[str] = None
    legal_provision: Fact[str] = None  # article and code
    duration: Fact[str] = None
    lawyer_access: Fact[str] = None
    family_access: Fact[str] = None
    released_on: Fact[date] = None
    release: Fact[str] = None  # how and on what terms
    custody: tuple[CustodySnapshot, ...] = ()


@dataclass(frozen=True, slots=True)
class IllTreatmentSnapshot:
    """Torture or ill-treatment, as the Special Rapporteur on torture's checklist asks for it."""

    methods: Fact[str] = None
    duration: Fact[str] = None  # and frequency
    effects: Fact[str] = None  # physical and mental
    medical_evidence: Fact[str] = None
    complaints: Fact[str] = None  # lodged, and to whom
    outcome: Fact[str] = None  # of the complaints
    occurred_on: date | None = None  # of the incident it belongs to, when linked


@dataclass(frozen=True, slots=True)
class RemedyStepSnapshot:
    """One step taken to exhaust domestic remedies."""

    authority: str
    taken_on: Fact[date] = None
    outcome: Fact[str] = None
    decided_on: Fact[date] = None
    final: bool = False  # the last decision domestic law offers


@dataclass(frozen=True, slots=True)
class OrganisationSnapshot:
    """The submitting organisation and its representative, for the submitter and signature blocks."""

    name: str
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    representative: str | None = None
    representative_title: str | None = None


@dataclass(frozen=True, slots=True)
class EpisodeSnapshot:
    key: str
    title: str
    start_date: date | None
    end_date: date | None
    description: str | None = None
    known_totals: str | None = None  # figures from other sources, e.g. "more than 150 detained"


@dataclass(frozen=True, slots=True)
class GroundSnapshot:
    key: str  # e.g. "iccpr_21"
    label: str  # in the document's language
    udhr: str | None = None  # the UDHR article(s) carrying the same right, for bodies that cite the UDHR


@dataclass(frozen=True, slots=True)
class RemediesSnapshot:
    """Domestic remedies and other international procedures (the HRC and WGAD ask for both)."""

    exhausted_on: date | None = None
    summary: str = ""
    ineffective: bool = False
    other_procedure: str = "none"  # none | pending | concluded
    other_procedure_name: str = ""
    other_procedure_concluded_on: date | None = None


@dataclass(frozen=True, slots=True)
class ConsentSnapshot:
    """What the complainant allowed, stated in the filing (the bodies ask for it explicitly)."""

    verified: bool
    share_name_with_government: bool
    publish_name: bool
    initials_only: bool
    anonymous: bool


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    """One individual filing: one case, one body, one language."""

    ref: str
    body: str
    body_name: str  # in the document's language, from the catalogue
    language: str
    organisation: str
    person: PersonSnapshot
    received_on: date | None
    incidents: tuple[IncidentSnapshot, ...]
    episodes: tuple[EpisodeSnapshot, ...]
    grounds: tuple[GroundSnapshot, ...] = ()
    mandates: tuple[str, ...] = ()  # labels of the Special Procedures mandates
    communication_type: str | None = None  # urgent_appeal | letter_of_allegation (SP, WGAD)
    wgad_categories: tuple[str, ...] = ()  # I..V
    urgent: bool = False
    remedies: RemediesSnapshot = field(default_factory=RemediesSnapshot)
    consent: ConsentSnapshot | None = None
    state: str | None = None  # the State concerned, in the document's language (every body asks for it)
    version: int = 1
    generated_at: datetime = field(default_factory=_utc_now)
    perpetrators: tuple[PerpetratorSnapshot, ...] = ()
    arrests: tuple[ArrestSnapshot, ...] = ()
    ill_treatments: tuple[IllTreatmentSnapshot, ...] = ()
    remedy_steps: tuple[RemedyStepSnapshot, ...] = ()
    # Kinds of rows a person recorded as not known at all ("perpetrators", "arrests", "ill_treatments",
    # "remedy_steps"): an empty list then prints "not known" instead of asking to be completed.
    not_known: frozenset[str] = frozenset()
    profile: OrganisationSnapshot | None = None  # None: only ``organisation`` (the name) is known
    annexes: tuple[str, ...] = ()  # the annexed documents, named by kind in the document's language
    eu_status: str | None = None  # EP petitions: "citizen" | "resident" | "none"; None when not recorded

    def __post_init__(self) -> None:
        object.__setattr__(self, "generated_at", _aware_utc(self.generated_at))


# Why an appeal received is not part of a collective complaint, in the order the complaint lists them.
EXCLUSION_REASONS = (
    "missing_form_of_appeal",  # the power of attorney came, the signed form of appeal did not
    "missing_power_of_attorney",  # the form of appeal came, the power of attorney did not
    "missing_both",  # neither document came
    "not_verified",  # both documents are on file but were not (yet) verified
    "withdrawn",  # the complainant withdrew their consent
    "not_reviewed",  # consent verified, but no review approved the case for filing
    "not_included",  # could have been included; the legal officer left it out
    "not_recorded",  # counted in the appeals received but not recorded in the system case by case
)


@dataclass(frozen=True, slots=True)
class CountedEpisode:
    episode: EpisodeSnapshot
    complainants: int  # complainants of this complaint in the episode (a person can be in several)


@dataclass(frozen=True, slots=True)
class Official:
    """Someone held responsible, by position, as the legal officer entered it."""

    position: str
    agency: str = ""
    name: str = ""  # officials may be named; complainants only with their consent
    role: str = ""  # what they did


@dataclass(frozen=True, slots=True)
class CollectiveSnapshot:
    """A collective complaint over many cases (DESIGN.md §1 and §6, the reference report's figures).

    Counts cover every included complainant; ``named`` lists only those who allowed publication of their
    name (sorted), and ``unnamed`` says how many others there are. Narrative sections are the legal
    officer's text, printed as given (the names of those who may not be named already cut out).
    """

    reference: str
    title: str
    body: str
    body_name: str
    language: str
    organisation: str
    period_start: date | None
    period_end: date | None
    appeals_received: int  # every appeal received, including those without both consent documents
    complainants: int
    cities: tuple[tuple[str, int], ...]  # (city, complainants), most first
    episodes: tuple[CountedEpisode, ...]
    incident_types: tuple[tuple[str, int], ...]  # (label, complainants), most first
    torture_cases: int
    named: tuple[str, ...]
    unnamed: int
    summary: str = ""
    legal_basis: str = ""  # the act the persecution rests on (e.g. a court's ban as "extremist")
    context: str = ""  # the movement and why it was banned
    methods: str = ""
    patterns: str = ""
    pressure_on_defenders: str = ""
    officials: tuple[Official, ...] = ()
    requests: str = ""
    grounds: tuple[GroundSnapshot, ...] = ()
    mandates: tuple[str, ...] = ()
    state: str | None = None  # the State concerned, in the document's language
    # When the included complainants' appeals were received (their ``received_on``), not when things happened.
    received_start: date | None = None
    received_end: date | None = None
    # (reason, appeals) for the appeals received but not included: a key of ``EXCLUSION_REASONS``, counted.
    excluded: tuple[tuple[str, int], ...] = ()
    version: int = 1
    generated_at: datetime = field(default_factory=_utc_now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "generated_at", _aware_utc(self.generated_at))
