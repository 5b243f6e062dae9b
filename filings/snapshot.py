"""Immutable snapshots: the contract between the workflow engine and document generation.

``workflow/snapshots.py`` copies what one filing needs out of the database into these objects, already
redacted for the target body by the complainant's consent, with every vocabulary key already turned into
a label in the document's language. The renderer never touches the database and can only print what was
deliberately handed to it: identity numbers and contact details have no field here at all, and a person
who did not allow naming arrives as initials or "Complainant 17" with their other identity fields empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime


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
    birth_date: date | None = None
    gender: str | None = None  # a label in the document's language
    city: str | None = None
    occupation: str | None = None
    organisation: str | None = None
    detained_now: bool = False


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    types: tuple[str, ...]  # labels in the document's language
    occurred_on: date | None
    place: str | None
    description: str
    perpetrators: tuple[str, ...] = ()  # labels of the perpetrator agencies
    episodes: tuple[str, ...] = ()  # keys of the EpisodeSnapshot(s) this incident belongs to
    type_keys: tuple[str, ...] = ()  # vocabulary keys, for counting and for body-specific wording
    deprivation_of_liberty: bool = False  # an arrest or detention (the WGAD asks for these apart)


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
