"""Cases: opening one from an appeal (the import, the API, the pages), updating it, reading it as a role may,
and listing cases with their columns.

Every read that includes identity fields leaves an audit event naming the fields read (never their values).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import String, cast, exists, func, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from workflow import crypto, vocab
from workflow.audit import audit
from workflow.bodies import SERVICE_LEVELS
from workflow.config import Settings
from workflow.errors import Conflict, NotFound
from workflow.models import (
    Case,
    ConsentRecord,
    Deadline,
    Document,
    Episode,
    Filing,
    HumanTask,
    Incident,
    LegalFacts,
    Person,
    Review,
    User,
    case_episodes,
    case_incident_types,
    utcnow,
)
from workflow.paging import paginate
from workflow.problems import Problem
from workflow.roles import IDENTITY_FIELDS, LEGAL_FACT_VIEWERS, person_fields
from workflow.runtime.context import document_store
from workflow.schemas.appeal import Appeal
from workflow.services import processes, review
from workflow.services.documents import audit_upload, first_document
from workflow.services.facts import FactsRead, read_facts
from workflow.services.import_facts import apply_import_facts
from workflow.states import Stage
from workflow.visibility import as_seen, review_as_seen, text_fields_read

PERSON_FIELDS = ("full_name", "full_name_native", "gender", "birth_date", "phone", "email", "passport_number",
                 "occupation", "organisation", "city")


class KnownKeys:
    """The episode and incident-type keys an appeal may use (``AppealSchema(known=...)``), read from the database
    once, when first asked."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @cached_property
    def episodes(self) -> set[str]:
        return set(self.session.scalars(select(Episode.key)))

    @cached_property
    def incident_types(self) -> set[str]:
        return set(vocab.keys(self.session, "incident_type"))

    @cached_property
    def perpetrator_agencies(self) -> set[str]:
        return set(vocab.keys(self.session, "perpetrator_agency"))


# What every reader of a whole case (the page, the API, review) uses: the case's person, consent and legal facts
# (one row each, joined to the case's) and these collections. Whether the case has any of each is asked with its
# row (an EXISTS each); a collection it has none of is set empty without a query. Most cases have no filings,
# perpetrators, arrests, ill-treatments or remedy steps yet, and a query that finds nothing costs the ORM as much
# as one that finds something: six of the case page's queries, a sixth of its time.
_COLLECTIONS = ("episodes", "incidents", "documents", "filings", "perpetrators", "arrests", "ill_treatments",
                "remedy_steps")
_READ_NOW = ("episodes", "documents", "filings")  # the others when first used (incidents just below)
_GET_CASE = select(Case, *(getattr(Case, name).any().label(name) for name in _COLLECTIONS)).options(
    joinedload(Case.person), joinedload(Case.consent), joinedload(Case.legal_facts))


def get_case(session: Session, ref: str) -> Case:
    found = session.execute(_GET_CASE.where(Case.ref == ref)).one_or_none()
    if found is None:
        raise NotFound(f"no case {ref!r}")
    case, has = found[0], found._mapping
    unloaded = inspect(case).unloaded  # a collection this session already holds is left as it holds it
    for name in unloaded.intersection(_COLLECTIONS):
        if not has[name]:
            set_committed_value(case, name, [])
        elif name in _READ_NOW:
            getattr(case, name)  # loads it
    if has["incidents"] and "incidents" in unloaded:
        query = select(Incident).where(Incident.case_id == case.id).order_by(Incident.id)
        if has["perpetrators"]:
            incidents = list(session.scalars(query.options(selectinload(Incident.perpetrators))))
        else:  # an incident's perpetrators are among the case's: it has none
            incidents = list(session.scalars(query))
            for incident in incidents:
                if "perpetrators" in inspect(incident).unloaded:
                    set_committed_value(incident, "perpetrators", [])
        set_committed_value(case, "incidents", incidents)
    return case


# -- opening and updating ------------------------------------------------------------------------------------

def _apply(session: Session, case: Case, appeal: Appeal, episodes: Mapping[str, Episode] | None = None) -> None:
    """``episodes``: every episode the appeal may name, by key, read beforehand (else read here)."""
    for field in PERSON_FIELDS:
        setattr(case.person, field, getattr(appeal, field))
    case.received_on = appeal.received_on
    case.detained_now = appeal.detained_now
    case.urgent = case.urgent or appeal.detained_now
    case.source_hash = appeal.fingerprint()
    if episodes is None:
        found = list(session.scalars(select(Episode).where(Episode.key.in_(appeal.episodes))))
    else:
        found = [episodes[key] for key in appeal.episodes if key in episodes]
    case.episodes = sorted(found, key=lambda e: e.key)
    incident = case.incidents[0] if case.incidents else Incident(case=case)
    incident.types = list(appeal.incident_types)
    incident.occurred_on = appeal.incident_date
    incident.description = appeal.description
    incident.episode_id = case.episodes[0].id if len(case.episodes) == 1 else None
    session.add(incident)
    consent = case.consent or ConsentRecord(case=case)
    consent.publish_name = appeal.consent_publish_name
    session.add(consent)


def open_case(session: Session, settings: Settings, actor: User | None, appeal: Appeal,
              documents: Mapping[str, tuple[bytes, str]], *, imported: bool) -> Case:
    """Create the person, case, incident and consent record, attach documents, start the process.

    ``imported`` cases start at ``verify_consent``; others at ``complete_intake``.
    """
    return open_cases(session, settings, actor, [(appeal, documents)], imported=imported)[0]


def open_cases(session: Session, settings: Settings, actor: User | None,
               appeals: Sequence[tuple[Appeal, Mapping[str, tuple[bytes, str]]]], *, imported: bool) -> list[Case]:
    """``open_case`` for many appeals at once (an import's batch): each case as it would be opened alone, its
    audit events in the same order, but the rows of all written together in a few flushes."""
    wanted = {key for appeal, _documents in appeals for key in appeal.episodes}
    episodes = {e.key: e for e in session.scalars(select(Episode).where(Episode.key.in_(wanted)))}
    cases = []
    for appeal, _documents in appeals:
        case = Case(ref=appeal.ref, person=Person(full_name=appeal.full_name), stage=Stage.INTAKE)
        session.add(case)
        _apply(session, case, appeal, episodes)
        cases.append(case)
    session.flush()
    stored: list[list[Document]] = []
    store = document_store(settings, session)
    for case, (appeal, documents) in zip(cases, appeals, strict=True):
        # Nobody has recorded legal facts for a case that did not exist a moment ago: triage need not read them.
        set_committed_value(case, "legal_facts", None)
        apply_import_facts(session, case, appeal)
        stored.append([first_document(session, settings, actor, case, kind, content, filename, store)
                       for kind, (content, filename) in documents.items()])
    session.flush()
    for case, uploaded in zip(cases, stored, strict=True):
        for document in uploaded:
            audit_upload(session, actor, document)
        audit(session, actor, "case_opened", "case", case.ref, case.id, {"imported": imported})
    processes.start_many(session, settings, processes.CASE_PROCESS, [(case, {
        "case_ref": case.ref,
        "imported": imported,
        "consent_verified": False,
        "detained_now": case.detained_now,
        "urgent": case.urgent,
        "filing_kind": "individual",  # filing.bpmn's collective path is for collective complaints
        **SERVICE_LEVELS,
    }) for case in cases], actor=actor)
    return cases


def open_appeal(session: Session, settings: Settings, actor: User, appeal: Appeal,
                documents: Mapping[str, tuple[bytes, str]] | None = None) -> Case:
    """Intake of one appeal typed in, with the consent ``documents`` uploaded beside it (the pages) or none (the
    API uploads them afterwards); the case starts its process at ``complete_intake``. Conflict when the reference
    is taken."""
    taken = Conflict(f"a case {appeal.ref!r} already exists", errors={"ref": Problem("already_exists")})
    if session.scalar(select(Case.id).where(Case.ref == appeal.ref)) is not None:
        raise taken
    try:
        with session.begin_nested():
            return open_case(session, settings, actor, appeal, documents or {}, imported=False)
    except IntegrityError:  # the same reference created by a concurrent request
        raise taken from None


def update_case(session: Session, actor: User | None, case: Case, appeal: Appeal) -> bool:
    """Apply a changed appeal to an existing case; False when nothing changed (idempotent re-import)."""
    if case.source_hash == appeal.fingerprint():
        return False
    previous_city = case.person.city
    _apply(session, case, appeal)
    session.flush()
    apply_import_facts(session, case, appeal, previous_city=previous_city)
    session.flush()
    # Field names only: the values are identity data and do not belong in the log.
    audit(session, actor, "case_updated", "case", case.ref, case.id, {"source": "import"})
    return True


# -- one case, as a role may see it ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LegalFactsRead:
    facts: LegalFacts  # stored, or the defaults (not stored) when nobody has recorded them yet
    recorded: bool
    updated_at: datetime | None
    updated_by: User | None


@dataclass(frozen=True)
class CaseRead:
    """A case as one reader may see it: ``person`` holds only the fields the role may read."""

    case: Case
    person: dict[str, Any]
    tasks: list[HumanTask]
    deadlines: list[Deadline]
    review: Review | None
    legal_facts: LegalFactsRead | None  # legal officers, managers and the operator
    facts: FactsRead | None = None  # the rows of the facts for the filings, for the roles that read them
    role: str = ""  # the reader's: documents and incidents are shown as it may see them (``workflow.visibility``)

    @property
    def documents(self) -> list[Any]:
        return as_seen(self.role, "documents", self.case.documents)

    @property
    def incidents(self) -> list[Any]:
        return as_seen(self.role, "incidents", self.case.incidents)

    def __getattr__(self, name: str) -> Any:
        # ref, stage, urgent, received_on, episodes, incidents, documents, consent, filings: the case's own.
        return getattr(self.case, name)


def legal_facts_read(session: Session, case: Case) -> LegalFactsRead:
    stored = case.legal_facts
    return LegalFactsRead(LegalFacts.for_case(case), stored is not None, stored.updated_at if stored else None,
                          session.get(User, stored.updated_by_id) if stored and stored.updated_by_id else None)


def read_case(session: Session, ref: str, *, actor: User | None, role: str, channel: str) -> CaseRead:
    """The case with the identity fields ``role`` may read; the read of identity fields is audited (``channel``:
    web, api or cli). Raises NotFound."""
    case = get_case(session, ref)
    fields = person_fields(role)
    texts = text_fields_read(role, [kind for kind in ("documents", "incidents") if getattr(case, kind)])
    if read := sorted(IDENTITY_FIELDS.intersection(fields)) + texts:
        audit(session, actor, "identity_read", "case", case.ref, case.id, {"fields": read, "channel": channel},
              at_commit=True)
    tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready")
                            .order_by(HumanTask.created_at))
    deadlines = session.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.due_at))
    return CaseRead(case, {f: getattr(case.person, f) for f in fields}, list(tasks), list(deadlines),
                    review_as_seen(role, review.latest_review(session, case)),
                    legal_facts_read(session, case) if role in LEGAL_FACT_VIEWERS else None,
                    read_facts(session, actor, case, role=role, channel=channel), role)


# -- lists of cases ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseFilters:
    stage: str | None = None
    episode: str | None = None
    city: str | None = None
    incident_type: str | None = None
    overdue: bool = False
    q: str | None = None  # search by reference (prefix or substring, case-insensitive)
    body: str | None = None  # a body the case has a filing for, or its latest review chose
    urgent: bool | None = None


def list_cases(session: Session, filters: CaseFilters, *, page: int = 1, per_page: int = 50,
               now: datetime | None = None, count_up_to: int | None = None) -> tuple[list[Case], int]:
    """A page of cases matching the filters (ordered by reference), and the total count (``paginate``: with
    ``count_up_to``, a total above it means more than that)."""
    now = now or utcnow()
    query = select(Case)
    if filters.stage:
        query = query.where(Case.stage == filters.stage)
    if filters.episode:
        query = query.where(exists().where(case_episodes.c.case_id == Case.id,
                                           case_episodes.c.episode_id == Episode.id, Episode.key == filters.episode))
    if filters.city:
        query = query.where(Case.person_id.in_(select(Person.id).where(Person.city == filters.city)))
    if filters.incident_type:
        # A row per case and type (models.case_incident_types): an exact match on its primary key.
        query = query.where(exists().where(case_incident_types.c.case_id == Case.id,
                                           case_incident_types.c.incident_type == filters.incident_type))
    if filters.overdue:
        query = query.where(exists().where(Deadline.case_id == Case.id, Deadline.overdue(now)))
    if filters.q:
        # What was typed is literal: "%" and "_" are no wildcards (autoescape escapes them, on both databases).
        query = query.where(func.lower(Case.ref).contains(filters.q.strip().lower(), autoescape=True))
    if filters.body:
        reviewed_for = select(Review.case_id).where(cast(Review.bodies, String).contains(f'"{filters.body}"',
                                                                                         autoescape=True))
        query = query.where(or_(Case.id.in_(reviewed_for),
                                exists().where(Filing.case_id == Case.id, Filing.body == filters.body)))
    if filters.urgent is not None:
        query = query.where(Case.urgent.is_(filters.urgent))
    rows, total = paginate(session, query.order_by(Case.ref), page=page, per_page=per_page, count_up_to=count_up_to)
    return [case for (case,) in rows], total


class ListedTask(NamedTuple):
    """A ready task as the case list names it: its step and lane, read as columns (no inbox row loaded)."""

    bpmn_id: str
    name: str
    lane: str | None


@dataclass(frozen=True)
class CaseRow:
    """The list columns of one case: never an identity field (the city is the only person field)."""

    case: Case
    city: str | None
    overdue: bool
    tasks: tuple[ListedTask, ...]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.case, name)  # ref, stage, urgent, received_on

    @property
    def ready_tasks(self) -> int:
        return len(self.tasks)


def case_rows(session: Session, cases: list[Case], *, now: datetime | None = None) -> list[CaseRow]:
    """The list columns of a page of cases in three queries: cities, overdue cases, ready tasks."""
    if not cases:
        return []
    now = now or utcnow()
    ids = [c.id for c in cases]
    people = {c.person_id for c in cases}
    city_of = dict(session.execute(select(Person.id, Person.city).where(Person.id.in_(people))).all())
    overdue = set(session.scalars(select(Deadline.case_id).where(Deadline.case_id.in_(ids), Deadline.overdue(now))))
    tasks: dict[int, list[ListedTask]] = defaultdict(list)
    for case_id, *task in session.execute(
            select(HumanTask.case_id, HumanTask.bpmn_id, HumanTask.name, HumanTask.lane)
            .where(HumanTask.case_id.in_(ids), HumanTask.state == "ready").order_by(HumanTask.created_at)):
        tasks[case_id or 0].append(ListedTask(*task))
    return [CaseRow(c, city_of.get(c.person_id), c.id in overdue, tuple(tasks[c.id])) for c in cases]


def cities(session: Session) -> list[str]:
    """The persons' cities, each once. SQLite skips through the city index for a DISTINCT by itself; PostgreSQL
    reads all its entries (13 ms at 100,000 persons, on every list page), so there the index is walked one city
    at a time: a recursive query of one index probe per city (1 ms)."""
    if session.get_bind().dialect.name == "sqlite":
        return sorted(c for c in session.scalars(select(Person.city).distinct()) if c)
    walk = select(func.min(Person.city).label("city")).cte("city_walk", recursive=True)
    following = select(func.min(Person.city)).where(Person.city > walk.c.city).scalar_subquery()
    walk = walk.union_all(select(following).where(walk.c.city.is_not(None)))
    return sorted(c for c in session.scalars(select(walk.c.city)) if c)


def find_by_name(session: Session, name: str) -> list[Person]:
    """Persons whose full name or native-script name is exactly ``name`` (ignoring case, Unicode form
    and spacing), through the keyed blind indexes: the names themselves are encrypted and not searchable.
    Matched under every key in the ring, so rows a running key rotation has not reached are found too."""
    digests = crypto.blind_indexes(name)
    if not digests:
        return []
    query = select(Person).where(or_(Person.full_name_index.in_(digests), Person.full_name_native_index.in_(digests)))
    return list(session.scalars(query.order_by(Person.id)))
