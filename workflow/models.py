"""SQLAlchemy 2 typed models: singular classes, plural tables, timezone-aware UTC ``*_at`` columns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    event,
    false,
    inspect,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, foreign, mapped_column, relationship

from workflow import crypto
from workflow.crypto import EncryptedDate, EncryptedJSON, EncryptedText
from workflow.roles import Role
from workflow.states import DeadlineState, DocumentKind, EuStatus, OtherProcedure

__all__ = ["DocumentKind", "Role"]  # defined with their titles in workflow.roles and workflow.states


def utcnow() -> datetime:
    return datetime.now(UTC)


# The largest id a row can have: every primary key is an INTEGER, 32 bits on PostgreSQL. A larger number names no
# row; it is refused (404, 422) where it comes in, before any query (PostgreSQL: out of range; SQLite: over 64 bits).
MAX_ID = 2_147_483_647

# "Overdue" and "due soon", once for Python and SQL alike: the hybrid methods below compare with these.
DUE_SOON = timedelta(days=7)


def past_due(due_at: Any, now: datetime) -> Any:
    """Strictly before ``now``: a deadline due this very second is not overdue yet. Works on a column too."""
    return due_at < now


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware UTC datetime.

    SQLite round-trips ``DateTime(timezone=True)`` as naive values; comparing those with aware ones
    raises, so the conversion happens here once instead of at every call site.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    # An IANA zone name ("Asia/Almaty") the pages show times in; None: the organisation's (Settings.timezone).
    timezone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))  # where the daily digest of deadlines goes
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when an admin resets the password: the pages let the user do nothing but choose a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def display_name(self) -> str:
        """How staff are named to each other: the full name, else the username."""
        return self.full_name or self.username

    # The attributes Flask-Login reads (kept here so that workflow/ never imports Flask).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex; the token itself is never stored
    name: Mapped[str] = mapped_column(String(80))  # chosen by its owner, to tell their tokens apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]  # written at most once a minute (services/api_tokens.py)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Base):
    """One signed-in browser (``workflow/services/sessions.py``): the cookie carries a random id, this row its hash.

    A row is never reopened: sign-out, idleness, another User-Agent, a password, role or account change each
    end it (``ended_at`` and ``end_reason``). Rows are looked up by ``secret_hash`` once per page request.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the cookie's session id
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user_agent_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the User-Agent it was started with
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(30))

    user: Mapped[User] = relationship()


class Person(Base):
    """A complainant. Identity fields are encrypted at rest (``workflow.crypto``): SQL cannot compare,
    sort or search them; exact-name search goes through the keyed blind indexes (``services.cases.find_by_name``).
    """

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(EncryptedText("persons.full_name"))
    full_name_native: Mapped[str | None] = mapped_column(EncryptedText("persons.full_name_native"))
    gender: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[date | None] = mapped_column(EncryptedDate("persons.birth_date"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("persons.phone"))
    email: Mapped[str | None] = mapped_column(EncryptedText("persons.email"))
    passport_number: Mapped[str | None] = mapped_column(EncryptedText("persons.passport_number"))
    address: Mapped[str | None] = mapped_column(EncryptedText("persons.address"))
    # HMAC of the normalised name under a key derived from the current key; kept in step by the events below.
    full_name_index: Mapped[str | None] = mapped_column(String(64), index=True)
    full_name_native_index: Mapped[str | None] = mapped_column(String(64), index=True)
    occupation: Mapped[str | None] = mapped_column(EncryptedText("persons.occupation"))
    # Affiliation: organisation or movement (names a group the state may be hunting).
    organisation: Mapped[str | None] = mapped_column(EncryptedText("persons.organisation"))
    city: Mapped[str | None] = mapped_column(String(120), index=True)
    # What the bodies' questionnaires ask about the person beyond the name (research/filing-bodies.md §1).
    nationality: Mapped[str | None] = mapped_column(EncryptedText("persons.nationality"))
    age: Mapped[str | None] = mapped_column(EncryptedText("persons.age"))  # years, when the birth date is not known
    activity: Mapped[str | None] = mapped_column(EncryptedText("persons.activity"))  # human-rights or political work
    situation: Mapped[str | None] = mapped_column(EncryptedText("persons.situation"))  # current situation and risk
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(Person.full_name, "set")
def _index_full_name(target: Person, value: str | None, _old: object, _initiator: object) -> None:
    target.full_name_index = crypto.blind_index(value)


@event.listens_for(Person.full_name_native, "set")
def _index_full_name_native(target: Person, value: str | None, _old: object, _initiator: object) -> None:
    target.full_name_native_index = crypto.blind_index(value)


class Episode(Base):
    """A named, dated event shared by many cases (e.g. mass detentions at one rally)."""

    __tablename__ = "episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    known_totals: Mapped[str | None] = mapped_column(Text)
    # The title in other document languages ({"ru": "..."}); ``title`` is the one staff see in the pages.
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")


case_episodes = Table(
    "case_episodes",
    Base.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("episode_id", ForeignKey("episodes.id"), primary_key=True),
)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    received_on: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(30), index=True, default="intake")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    detained_now: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_hash: Mapped[str | None] = mapped_column(String(64))  # of the imported row, to spot changes
    # Case-level facts a person recorded as "not known" (``workflow.facts.CASE_FACTS``); rows of the tables
    # below carry their own ``unknown`` list. Filings print "not known" for these and only these: a fact
    # neither recorded nor marked is reported as missing, never papered over.
    unknown_facts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # What the import last wrote into the facts it only fills (``services/import_facts.py``): keyed digests and
    # row ids, never values, so that a re-import replaces its own values and leaves a person's alone.
    import_marks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    episodes: Mapped[list[Episode]] = relationship(secondary=case_episodes, order_by=Episode.key)
    incidents: Mapped[list[Incident]] = relationship(back_populates="case", order_by="Incident.id")
    documents: Mapped[list[Document]] = relationship(
        back_populates="case", order_by="Document.id", foreign_keys="Document.case_id"
    )
    consent: Mapped[ConsentRecord | None] = relationship(back_populates="case", uselist=False)
    legal_facts: Mapped[LegalFacts | None] = relationship(back_populates="case", uselist=False)
    filings: Mapped[list[Filing]] = relationship(back_populates="case", order_by="Filing.id")
    perpetrators: Mapped[list[Perpetrator]] = relationship(
        back_populates="case", order_by="Perpetrator.id", cascade="all, delete-orphan")
    arrests: Mapped[list[Arrest]] = relationship(
        back_populates="case", order_by="Arrest.arrested_on", cascade="all, delete-orphan")
    ill_treatments: Mapped[list[IllTreatment]] = relationship(
        back_populates="case", order_by="IllTreatment.id", cascade="all, delete-orphan")
    remedy_steps: Mapped[list[RemedyStep]] = relationship(
        back_populates="case", order_by="RemedyStep.taken_on", cascade="all, delete-orphan")


incident_perpetrators = Table(
    "incident_perpetrators",
    Base.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("perpetrator_id", ForeignKey("perpetrators.id", ondelete="CASCADE"), primary_key=True),
)


class Incident(Base):
    """What happened to one complainant: types from the controlled vocabulary, date, place, agencies."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    city: Mapped[str | None] = mapped_column(String(120))  # the town; ``place`` is the exact spot in it
    # The exact spot and the account of what happened: encrypted (``city`` stays plain, like ``persons.city``,
    # for the statistics and filters that group by town).
    place: Mapped[str | None] = mapped_column(EncryptedText("incidents.place"))
    description: Mapped[str] = mapped_column(EncryptedText("incidents.description"), default="")
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id"))
    # The fields of this row a person marked "not known" (workflow.facts.ROW_FACTS).
    unknown: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    case: Mapped[Case] = relationship(back_populates="incidents")
    perpetrators: Mapped[list[Perpetrator]] = relationship(secondary=incident_perpetrators,
                                                           order_by="Perpetrator.id")


# Each case's incident types, a row per (type, case): the statistics count cases per type by reading this
# table's key alone, where expanding every incident's JSON list took most of the page's time at 100,000
# cases. Derived from incidents.types and kept in step on every flush (workflow/incident_types.py); nothing
# else writes it.
case_incident_types = Table(
    "case_incident_types",
    Base.metadata,
    Column("incident_type", String(80), primary_key=True),  # a key of the incident_type vocabulary
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True),
)


_TYPES_OF = "case_incident_types.cases"  # session.info: the cases whose incidents' types this flush changes


@event.listens_for(Session, "before_flush")
def _note_incident_types(session: Session, _context: object, _instances: object) -> None:
    cases: set[Any] = session.info.setdefault(_TYPES_OF, set())
    for incident in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(incident, Incident):
            continue
        state = inspect(incident)
        if incident in session.dirty and not (state.attrs.types.history.has_changes()
                                              or state.attrs.case_id.history.has_changes()
                                              or state.attrs.case.history.has_changes()):
            continue
        # A new incident has no case id until the flush sets it: its case is read after the flush. A deleted one
        # may be unreadable then: its case is read now. A moved one leaves its old case too.
        cases.add(incident.case_id if incident in session.deleted else incident)
        cases.update(i for i in state.attrs.case_id.history.deleted if i is not None)


@event.listens_for(Session, "after_flush")
def _sync_incident_types(session: Session, _context: object) -> None:
    noted = session.info.pop(_TYPES_OF, set())
    ids = sorted({i.case_id if isinstance(i, Incident) else i for i in noted} - {None})
    sync_incident_types(session.connection(), ids)


@event.listens_for(Session, "after_rollback")
def _forget_incident_types(session: Session) -> None:
    session.info.pop(_TYPES_OF, None)  # a flush that failed wrote nothing to keep in step


def sync_incident_types(conn: Any, case_ids: list[int]) -> None:
    """Rewrite the ``case_incident_types`` rows of these cases from their incidents (SQLAlchemy Connection)."""
    table = case_incident_types
    for start in range(0, len(case_ids), 500):  # bounded IN lists: an import flushes thousands of cases
        ids = case_ids[start:start + 500]
        conn.execute(table.delete().where(table.c.case_id.in_(ids)))
        rows = conn.execute(select(Incident.case_id, Incident.types).where(Incident.case_id.in_(ids)))
        pairs = sorted({(case_id, kind) for case_id, types in rows for kind in types or ()})
        if pairs:
            conn.execute(table.insert(), [{"case_id": case_id, "incident_type": kind} for case_id, kind in pairs])


class Perpetrator(Base):
    """Someone held responsible: an agency from the vocabulary, and as much as is known of who acted.

    Unit, position, name and what they did are encrypted: they name officials and carry the complainant's
    account, and a leaked list of who reported whom endangers the complainant.
    """

    __tablename__ = "perpetrators"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(80))  # a perpetrator_agency vocabulary key
    unit: Mapped[str | None] = mapped_column(EncryptedText("perpetrators.unit"))
    position: Mapped[str | None] = mapped_column(EncryptedText("perpetrators.position"))
    name: Mapped[str | None] = mapped_column(EncryptedText("perpetrators.name"))
    actions: Mapped[str | None] = mapped_column(EncryptedText("perpetrators.actions"))  # what they did
    # The fields of this row a person marked "not known" (workflow.facts.ROW_FACTS).
    unknown: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    case: Mapped[Case] = relationship(back_populates="perpetrators")


class Arrest(Base):
    """One arrest and the detention that followed (the WGAD questionnaire's "arrest" and "detention").

    ``warrant_shown`` is "yes" or "no"; None means nobody recorded it, unless "warrant_shown" is in
    ``unknown`` (a person recorded that it is not known). Free texts are encrypted.
    """

    __tablename__ = "arrests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    arrested_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(EncryptedText("arrests.place"))
    forces: Mapped[str | None] = mapped_column(EncryptedText("arrests.forces"))  # who carried out the arrest
    warrant_shown: Mapped[str | None] = mapped_column(String(3))
    warrant_issued_by: Mapped[str | None] = mapped_column(EncryptedText("arrests.warrant_issued_by"))
    reasons_given: Mapped[str | None] = mapped_column(EncryptedText("arrests.reasons_given"))
    legal_provision: Mapped[str | None] = mapped_column(EncryptedText("arrests.legal_provision"))  # article, code
    duration: Mapped[str | None] = mapped_column(EncryptedText("arrests.duration"))  # e.g. "15 days"
    lawyer_access: Mapped[str | None] = mapped_column(EncryptedText("arrests.lawyer_access"))
    family_access: Mapped[str | None] = mapped_column(EncryptedText("arrests.family_access"))
    released_on: Mapped[date | None] = mapped_column(Date)
    release: Mapped[str | None] = mapped_column(EncryptedText("arrests.release"))  # how and on what terms
    # The fields of this row a person marked "not known" (workflow.facts.ROW_FACTS).
    unknown: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    case: Mapped[Case] = relationship(back_populates="arrests")
    custody: Mapped[list[CustodyPlace]] = relationship(
        back_populates="arrest", order_by="CustodyPlace.position", cascade="all, delete-orphan")


class CustodyPlace(Base):
    """A place where the person was held after an arrest; several make the transfers, in order."""

    __tablename__ = "custody_places"

    id: Mapped[int] = mapped_column(primary_key=True)
    arrest_id: Mapped[int] = mapped_column(ForeignKey("arrests.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    place: Mapped[str] = mapped_column(EncryptedText("custody_places.place"))
    authority: Mapped[str | None] = mapped_column(EncryptedText("custody_places.authority"))  # who held them
    from_on: Mapped[date | None] = mapped_column(Date)
    to_on: Mapped[date | None] = mapped_column(Date)

    arrest: Mapped[Arrest] = relationship(back_populates="custody")


class IllTreatment(Base):
    """Torture or ill-treatment as the SR on torture's checklist asks for it; every text encrypted."""

    __tablename__ = "ill_treatments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    methods: Mapped[str | None] = mapped_column(EncryptedText("ill_treatments.methods"))
    duration: Mapped[str | None] = mapped_column(EncryptedText("ill_treatments.duration"))  # and frequency
    effects: Mapped[str | None] = mapped_column(EncryptedText("ill_treatments.effects"))  # physical and mental
    medical_evidence: Mapped[str | None] = mapped_column(EncryptedText("ill_treatments.medical_evidence"))
    complaints: Mapped[str | None] = mapped_column(EncryptedText("ill_treatments.complaints"))  # lodged, to whom
    outcome: Mapped[str | None] = mapped_column(EncryptedText("ill_treatments.outcome"))  # of the complaints
    # The fields of this row a person marked "not known" (workflow.facts.ROW_FACTS).
    unknown: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    case: Mapped[Case] = relationship(back_populates="ill_treatments")


class RemedyStep(Base):
    """One step taken to exhaust domestic remedies: which authority, when, with what outcome.

    ``final`` marks the last decision available in domestic law; the HRC time bar counts from the latest
    final step when the legal facts give no explicit date of exhaustion.
    """

    __tablename__ = "remedy_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    taken_on: Mapped[date | None] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(EncryptedText("remedy_steps.authority"))
    outcome: Mapped[str | None] = mapped_column(EncryptedText("remedy_steps.outcome"))
    decided_on: Mapped[date | None] = mapped_column(Date)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    # The fields of this row a person marked "not known" (workflow.facts.ROW_FACTS).
    unknown: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    case: Mapped[Case] = relationship(back_populates="remedy_steps")


class OrganisationProfile(Base):
    """The submitting organisation as every filing names it (one row; admins edit it in the settings).

    Contact details are encrypted: the organisation and its lawyer are targets too.
    """

    __tablename__ = "organisation_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(EncryptedText("organisation_profile.address"))
    email: Mapped[str | None] = mapped_column(EncryptedText("organisation_profile.email"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("organisation_profile.phone"))
    representative: Mapped[str | None] = mapped_column(EncryptedText("organisation_profile.representative"))
    representative_title: Mapped[str | None] = mapped_column(
        EncryptedText("organisation_profile.representative_title"))  # e.g. "lawyer, member of the bar of ..."
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @classmethod
    def stored(cls, session: Session) -> OrganisationProfile | None:
        """The profile an admin saved (the lowest id, should two first saves have raced), or None."""
        return session.scalar(select(cls).order_by(cls.id).limit(1))


class Document(Base):
    """Metadata of a stored file; the bytes live encrypted in the document store under ``storage_key``."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("filings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # Encrypted: uploads are named like "Surname_Name_form_of_appeal.pdf". Never compared or sorted in SQL.
    filename: Mapped[str] = mapped_column(EncryptedText("documents.filename"))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A generated filing: SHA-256 of the template file whose wording produced it (templates/filings/...),
    # so a version can be traced to the exact wording a lawyer approved. None for uploads.
    wording_sha256: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case | None] = relationship(back_populates="documents", foreign_keys=[case_id])
    # Who uploaded it; None for what we generated (a filing's generated versions).
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id], viewonly=True)


class DocumentBlob(Base):
    """A document's encrypted blob when documents are stored in the database (``document_storage = "database"``,
    ``workflow/storage_db.py``): the very bytes the filesystem store would write, AES-256-GCM with the key bound
    as associated data. Not a row of its own in backups: they carry it as a document (``workflow/backup``)."""

    __tablename__ = "document_blobs"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRecord(Base):
    """Proof of consent (form of appeal + power of attorney) and what the complainant allows."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | verified | withdrawn
    publish_name: Mapped[bool] = mapped_column(Boolean, default=False)
    share_name_with_government: Mapped[bool] = mapped_column(Boolean, default=True)
    initials_only: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    body_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    risk_note: Mapped[str | None] = mapped_column(EncryptedText("consent_records.risk_note"))
    form_of_appeal_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    power_of_attorney_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(EncryptedText("consent_records.withdrawal_reason"))

    case: Mapped[Case] = relationship(back_populates="consent")


class Filing(Base):
    __tablename__ = "filings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    kind: Mapped[str] = mapped_column(String(20), default="individual")
    # draft | checked | submitted | acknowledged | transmitted | replied | decided | closed | cancelled
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(20))
    external_reference: Mapped[str | None] = mapped_column(EncryptedText("filings.external_reference"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A collective complaint's filing belongs to the complaint, not to one case.
    collective_id: Mapped[int | None] = mapped_column(ForeignKey("collective_complaints.id"), index=True)

    case: Mapped[Case | None] = relationship(back_populates="filings")
    # The generated versions only: a body's answer stored on a collective filing also carries its filing_id.
    documents: Mapped[list[Document]] = relationship(
        primaryjoin=lambda: and_(Filing.id == foreign(Document.filing_id),
                                 Document.kind == DocumentKind.FILING.value),
        order_by=Document.version, viewonly=True,
    )
    responses: Mapped[list[Response]] = relationship(back_populates="filing", order_by="Response.id")


class Response(Base):
    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    received_on: Mapped[date] = mapped_column(Date)
    # The body's letter: its reference and what it says are encrypted like the case's facts.
    reference: Mapped[str | None] = mapped_column(EncryptedText("responses.reference"))
    summary: Mapped[str | None] = mapped_column(EncryptedText("responses.summary"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    filing: Mapped[Filing] = relationship(back_populates="responses")


class ProcessDefinition(Base):
    """One deployed version of a process: BPMN sources and the serialized spec, stored once by hash."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("process_id", "sha256"), UniqueConstraint("process_id", "version"))

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Both are large and immutable; they are cached in-process by sha256, so load them only on a miss.
    sources: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)  # file name -> BPMN/JSON text
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Deploying stores a version; activating it (a separate, audited step for an upload) makes new instances
    # start on it. The active version of a process is the one activated last; None: never activated.
    activated_at: Mapped[datetime | None]
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProcessInstance(Base):
    __tablename__ = "process_instances"
    __table_args__ = (Index("ix_process_instances_due", "next_timer_at", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # running (waits on people or timers) | complete | error
    status: Mapped[str] = mapped_column(String(20), default="running")
    # The serialized workflow holds every task's data, i.e. copies of what staff typed into the forms: the
    # whole document is encrypted (one AES-GCM blob per save). Nothing reads it with SQL.
    state_json: Mapped[str] = mapped_column(EncryptedText("process_instances.state_json"))
    serializer_version: Mapped[str] = mapped_column(String(10))
    next_timer_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(EncryptedText("process_instances.last_error"))  # may quote data
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    definition: Mapped[ProcessDefinition] = relationship()
    case: Mapped[Case | None] = relationship()
    # The stored rows its state projects and its saves rewrite (workflow/runtime/projections.py): its ready inbox
    # rows and its BPMN timers' open deadlines. Read-only here; loaded with the instance's lock (LOCKED_WITH).
    ready_task_rows: Mapped[list[HumanTask]] = relationship(
        primaryjoin=lambda: and_(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == "ready"),
        viewonly=True)
    open_timer_rows: Mapped[list[Deadline]] = relationship(
        primaryjoin=lambda: and_(Deadline.instance_id == ProcessInstance.id, Deadline.open_timer),
        viewonly=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative API


class HumanTask(Base):
    """The inbox: a projection of the READY manual tasks, rewritten on every save of the instance."""

    __tablename__ = "human_tasks"
    # The second index finds assigned ready tasks for the managers' board without reading the history. The last
    # two find an instance's or a case's ready tasks (every save, case page and case list) among the completed
    # ones, which every follow-up round adds to: the state is part of the key, not a filter on each row.
    __table_args__ = (Index("ix_human_tasks_state_lane", "state", "lane"),
                      Index("ix_human_tasks_state_assignee", "state", "assignee_id", "instance_id", "lane", "due_at"),
                      Index("ix_human_tasks_instance_state", "instance_id", "state"),
                      Index("ix_human_tasks_case_state", "case_id", "state"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("filings.id"))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(40))
    form: Mapped[str | None] = mapped_column(String(120))
    due_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20), default="ready")  # ready | completed | cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set from the task's ``assignTo`` property (a data variable holding a user id), e.g. a review the
    # manager returned goes back to the officer who wrote it; the rest of the lane still sees it.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When someone claimed the task or was assigned it (services/queues.py); None for assignTo assignments.
    assigned_at: Mapped[datetime | None]

    @hybrid_method
    def overdue(self, now: datetime) -> Any:
        return self.due_at is not None and past_due(self.due_at, now)

    @overdue.inplace.expression
    @classmethod
    def _overdue_expression(cls, now: datetime) -> Any:
        return past_due(cls.due_at, now)


class Deadline(Base):
    """A clock someone must beat.

    ``source``: ``bpmn_timer`` (one per waiting timer, kept in step by ``instances.save``), ``rule`` (a legal
    limit such as the HRC time bar, ``services/deadlines.py``) or ``response`` (what a body asked of us,
    e.g. the reply to a request for information).
    """

    __tablename__ = "deadlines"
    # The first is wide enough that the managers' board groups open deadlines from the index (bench/dashboard.py).
    # The others find an instance's open timers (every save locks them with the instance: without its own index
    # PostgreSQL read every open deadline's entry for it, 7 ms at 100,000 cases) and a case's open deadlines (the
    # case list's overdue flag) among the closed ones.
    __table_args__ = (Index("ix_deadlines_state_due", "state", "due_at", "owner_role", "filing_id", "case_id",
                            "instance_id"),
                      Index("ix_deadlines_instance_state", "instance_id", "state"),
                      Index("ix_deadlines_case_state", "case_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    filing_id: Mapped[int | None] = mapped_column(ForeignKey("filings.id"))
    timer_task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    label: Mapped[str] = mapped_column(String(255))  # in English, as the API shows it
    # The parameters of a label made from a template (``services/deadlines.LABEL_TEMPLATES``), to translate it.
    label_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    owner_role: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default="bpmn_timer")
    # Which rule or response a non-timer deadline stands for (``time_bar``, ``request_for_information``).
    kind: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10), default=DeadlineState.OPEN)  # workflow.states.DeadlineState
    closed_at: Mapped[datetime | None]
    # When the timer fired and a manager was alerted: the deadline stays open (and overdue) until the work
    # it guards is done, so a missed service level cannot disappear from the overdue list.
    escalated_at: Mapped[datetime | None]

    @hybrid_property
    def open_timer(self) -> Any:
        """A BPMN timer of its instance still waiting: what every save rewrites (``ProcessInstance.open_timer_rows``)
        and the case page shows as waiting."""
        return self.state == DeadlineState.OPEN and self.source == "bpmn_timer"

    @open_timer.inplace.expression
    @classmethod
    def _open_timer_expression(cls) -> Any:
        return and_(cls.state == DeadlineState.OPEN, cls.source == "bpmn_timer")

    @hybrid_method
    def overdue(self, now: datetime) -> Any:
        """Open and past due."""
        return self.state == DeadlineState.OPEN and past_due(self.due_at, now)

    @overdue.inplace.expression
    @classmethod
    def _overdue_expression(cls, now: datetime) -> Any:
        return and_(cls.state == DeadlineState.OPEN, past_due(cls.due_at, now))

    @hybrid_method
    def due_soon(self, now: datetime) -> Any:
        """Open, not overdue, due within ``DUE_SOON``."""
        return self.state == DeadlineState.OPEN and not past_due(self.due_at, now) and self.due_at < now + DUE_SOON

    @due_soon.inplace.expression
    @classmethod
    def _due_soon_expression(cls, now: datetime) -> Any:
        return and_(cls.state == DeadlineState.OPEN, ~past_due(cls.due_at, now), cls.due_at < now + DUE_SOON)


class DigestLog(Base):
    """One row per user and UTC day a digest was sent (or is being sent): at most one mail a day."""

    __tablename__ = "digest_logs"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    # None while the mail is on its way; stays None if a crash interrupted it (no second mail that day).
    sent_at: Mapped[datetime | None]
    deadlines: Mapped[int] = mapped_column(Integer, default=0)  # how many the mail listed


class CalendarToken(Base):
    """A secret calendar-feed URL of one user; only the SHA-256 of the secret is stored."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Append-only record of who did or read what, when."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # codes only (workflow/audit.py)
    # The hash chain (workflow/audit.py): place in the chain, the previous event's hash and this one's.
    # Set when the transaction commits; ``petitio audit verify`` walks it.
    seq: Mapped[int | None] = mapped_column(unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


class Body(Base):
    """One entry of the catalogue of filing bodies (INTERFACES.md §5 codes), edited by admins.

    ``rules`` maps an admissibility rule (workflow/admissibility.py) to its parameters; a rule that is
    absent is not checked for this body. ``names`` map a UI language to the body's name.
    """

    __tablename__ = "bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    mandates: Mapped[list[str]] = mapped_column(JSON, default=list)
    communication_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    required_consent: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response_days: Mapped[int] = mapped_column(Integer)
    follow_up_days: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class VocabularyTerm(Base):
    """A term of a controlled vocabulary (incident types, perpetrator agencies, legal grounds, mandates).

    Keys are stable codes stored on cases; labels are per UI language. Retired terms stay (old cases
    keep their meaning) but are no longer offered.
    """

    __tablename__ = "vocabulary_terms"
    __table_args__ = (UniqueConstraint("vocabulary", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. a ground's UDHR equivalent
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class LegalFacts(Base):
    """What admissibility depends on beyond the incidents and consent, entered by legal officers."""

    __tablename__ = "legal_facts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    state_code: Mapped[str] = mapped_column(String(2), default="KZ")  # the state concerned (ISO 3166-1)
    torture_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    deprived_of_liberty: Mapped[bool] = mapped_column(Boolean, default=False)
    remedies_exhausted_on: Mapped[date | None] = mapped_column(Date)  # the last final domestic decision
    remedies_summary: Mapped[str] = mapped_column(EncryptedText("legal_facts.remedies_summary"), default="")
    remedies_ineffective: Mapped[bool] = mapped_column(Boolean, default=False)
    other_procedure: Mapped[str] = mapped_column(String(20), default="none")  # none | pending | concluded
    other_procedure_name: Mapped[str] = mapped_column(EncryptedText("legal_facts.other_procedure_name"), default="")
    other_procedure_concluded_on: Mapped[date | None] = mapped_column(Date)
    eu_status: Mapped[str] = mapped_column(String(20), default="unknown")  # unknown | citizen | resident | none
    eu_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="legal_facts")

    @classmethod
    def for_case(cls, case: Case) -> LegalFacts:
        """The case's legal facts; a case nobody has looked at yet has the defaults (not stored)."""
        return case.legal_facts or cls(
            state_code="KZ", torture_risk=False, deprived_of_liberty=False, remedies_summary="",
            remedies_ineffective=False, other_procedure=OtherProcedure.NONE, other_procedure_name="",
            eu_status=EuStatus.UNKNOWN, eu_subject=False)


class Review(Base):
    """A legal review as decided, with the admissibility checks it saw, and the manager's approval."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    decision: Mapped[str] = mapped_column(String(20))
    bodies: Mapped[list[str]] = mapped_column(JSON, default=list)
    mandates: Mapped[list[str]] = mapped_column(JSON, default=list)
    grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    communication_type: Mapped[str | None] = mapped_column(String(40))
    wgad_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Body code -> the language its filing is written in, as the legal officer chose (a body left out: its first).
    languages: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(EncryptedText("reviews.notes"), default="")  # free text: encrypted
    # The admissibility findings as the reviewer saw them: their parameters may quote the legal facts' texts.
    checks: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON("reviews.checks"), default=list)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    approval: Mapped[str | None] = mapped_column(String(20))  # approve | return, once a manager decided
    approval_notes: Mapped[str] = mapped_column(EncryptedText("reviews.approval_notes"), default="")
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]

    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])


collective_cases = Table(
    "collective_cases",
    Base.metadata,
    Column("collective_id", ForeignKey("collective_complaints.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
)


class CollectiveComplaint(Base):
    """One complaint over many cases (DESIGN.md §1): the figures, the narrative and who may be named.

    ``narrative`` holds the legal officer's text per section (summary, legal_basis, context, methods,
    patterns, pressure_on_defenders, requests); ``officials`` the people held responsible, by position.
    """

    __tablename__ = "collective_complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Title, narrative and officials are encrypted: they name places, patterns and the officials held
    # responsible. Nothing sorts or filters on them in SQL (the list is ordered by creation).
    title: Mapped[str] = mapped_column(EncryptedText("collective_complaints.title"))
    body: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    mandates: Mapped[list[str]] = mapped_column(JSON, default=list)
    grounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    narrative: Mapped[dict[str, str]] = mapped_column(EncryptedJSON("collective_complaints.narrative"), default=dict)
    officials: Mapped[list[dict[str, str]]] = mapped_column(EncryptedJSON("collective_complaints.officials"),
                                                            default=list)
    appeals_received: Mapped[int] = mapped_column(Integer, default=0)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()
    cases: Mapped[list[Case]] = relationship(secondary=collective_cases, order_by="Case.ref")
    filing: Mapped[Filing | None] = relationship(primaryjoin="CollectiveComplaint.id == Filing.collective_id",
                                                 foreign_keys="Filing.collective_id", uselist=False, viewonly=True)


class Job(Base):
    """A long piece of work (an import, a bulk action) done item by item, each item in its own transaction.

    ``state``: ``queued`` -> ``running`` -> ``done`` (or ``failed`` when the job as a whole could not go on).
    A job whose runner died (no heartbeat for a while) is picked up again and goes on with its pending items
    only: an item's outcome is committed together with the work it records, so no item is done twice.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="queued")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    # What the job applies (a review's decision and grounds, staged file keys and names): may hold free text.
    params: Mapped[Any] = mapped_column(EncryptedJSON("jobs.params"))
    error: Mapped[str | None] = mapped_column(String(60))  # a problem code when state is "failed"

    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[JobItem]] = relationship(back_populates="job", order_by="JobItem.position",
                                                cascade="all, delete-orphan")


class JobItem(Base):
    """One unit of a job: a task to complete, a case to act on, a spreadsheet row to import."""

    __tablename__ = "job_items"
    __table_args__ = (UniqueConstraint("job_id", "position"), Index("ix_job_items_job_state", "job_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(64))  # a task id, a case reference, a row number
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done | refused | skipped
    outcome: Mapped[str | None] = mapped_column(String(20))  # e.g. created | updated | unchanged (imports)
    # [{"field", "code", "params"}]: why the item was refused or skipped (codes of workflow/problems.py).
    problems: Mapped[Any] = mapped_column(JSON, default=list)
    finished_at: Mapped[datetime | None]

    job: Mapped[Job] = relationship(back_populates="items")


class SecondFactor(Base):
    """A user's authenticator app (TOTP, RFC 6238): the shared secret, encrypted like the identity fields.

    A row without ``confirmed_at`` is an enrolment begun (the QR code shown) whose first code was not typed yet: it
    protects nothing until then. ``last_step`` is the 30-second time step of the last code accepted, so that a code
    seen over a shoulder or in a proxy's log cannot be used a second time. ``failures`` counts wrong codes in a row
    in the database, not in the session cookie, so that replaying an older cookie does not reset it.
    """

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    totp_secret: Mapped[str] = mapped_column(EncryptedText("second_factors.totp_secret"))
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(Base):
    """One single-use recovery code, kept as a SHA-256 digest (80 random bits: no dictionary to try)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SecurityKey(Base):
    """A WebAuthn security key registered as a second option beside the authenticator app (the public key only:
    the private key never leaves the device). ``sign_count`` is the device's counter: a smaller one means a copy."""

    __tablename__ = "security_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
