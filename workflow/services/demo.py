"""A fictional organisation to try Petitio with: users of every role, episodes, ~40 cases at every stage.

Every person here is invented. Cases are driven through the real process with the real services, so
the demo also exercises what it shows.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.models import Case, HumanTask, ProcessInstance, User
from workflow.roles import second_factor_required
from workflow.runtime import instances
from workflow.schemas.appeal import Appeal
from workflow.services import processes, two_factor
from workflow.services.cases import open_case
from workflow.services.collective import create_collective, eligible_cases
from workflow.services.consent import withdraw_consent
from workflow.services.episodes import upsert_episode
from workflow.services.organisation import update_profile
from workflow.services.passwords import verify_password
from workflow.services.responses import record_response
from workflow.services.review import update_legal_facts
from workflow.services.tasks import complete_task
from workflow.services.users import add_user
from workflow.services.worker import fire_one
from workflow.vocab import INCIDENT_TYPES

DEMO_PASSWORD = "petitio-demo-2026"
DEMO_USERS = (
    ("dana", "intake", "Dana Intakeva"),
    ("timur", "intake", "Timur Registrov"),
    ("lara", "legal", "Lara Legalbek"),
    ("nurlan", "legal", "Nurlan Reviewson"),
    ("maria", "manager", "Maria Managerova"),
    ("sergei", "manager", "Sergei Approvin"),
    ("admin", "admin", "Demo Administrator"),
)


def demo_totp_secret(username: str) -> str:
    """The demo user's authenticator key: fixed and printed, so that anyone can try the demo (and so worthless as a
    secret: a real install's users scan a random one at their first sign-in)."""
    return base64.b32encode(f"petitio-demo-{username}".ljust(20, "-").encode()).decode().rstrip("=")


def is_demo_secret(username: str, secret: str | None) -> bool:
    return secret is not None and secret == demo_totp_secret(username)


# The submitter the demo's filings name (fictional; admins change it on /admin/organisation).
DEMO_PROFILE = {
    "name": "Demo Human Rights Bureau (fictional)", "address": "1 Example Embankment, Demo City, 000000",
    "email": "office@demo-bureau.example.org", "phone": "+7 000 000 0000",
    "representative": "Aliya Demolawyer", "representative_title": "Lawyer, member of the Demo City bar (fictional)",
}
EPISODES = (
    ("rally_jan", "Mass detentions at the January rally", date(2022, 1, 5), date(2022, 1, 7)),
    ("preventive_feb", "Preventive detentions before the February march", date(2022, 2, 20), date(2022, 2, 28)),
    ("symbol_spring", "Interrogations of people carrying the movement's symbol", date(2022, 3, 1),
     date(2022, 5, 31)),
    ("online_posts", "Prosecutions for social-media comments", date(2021, 9, 1), date(2022, 8, 31)),
)
CITIES = ("Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Taraz", "Pavlodar", "Semey", "Oral", "Aktau")
GIVEN = ("Aida", "Bolat", "Dinara", "Erlan", "Gulnara", "Kairat", "Madina", "Nurzhan", "Saule", "Yerbol")
FAMILY = ("Fictionova", "Inventov", "Imaginaeva", "Madeupov", "Samplova", "Testbekov", "Placeholdina")
PDF = b"%PDF-1.4\n%demo document\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# (how many, where the case stops). Each plan is a list of steps after the appeal is imported.
PLANS: tuple[tuple[int, str], ...] = (
    (4, "intake"), (5, "consent"), (2, "documents"), (6, "legal_review"), (4, "approval"), (5, "filing"),
    (6, "awaiting_response"), (2, "follow_up"), (2, "closed"), (2, "rejected"), (2, "withdrawn"),
    (2, "approved"),
)


def give_demo_keys(session: Session) -> None:
    """A demo loaded before second factors existed: its users of the roles that require one get the printed keys.

    Only an account that still has the demo's published password (open to anyone who read the README anyway):
    a real user who happens to share a demo name is never given a known key.
    """
    for username, _role, _name in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if (user is not None and two_factor.needs_enrolment(session, user)
                and verify_password(user, DEMO_PASSWORD)):
            two_factor.enrol_known_secret(session, None, user, demo_totp_secret(username))


def load_demo(session: Session, settings: Settings) -> bool:
    """Load the demo once; returns False (and changes nothing) when it is already there."""
    if session.scalar(select(User).where(User.username == DEMO_USERS[0][0])) is not None:
        give_demo_keys(session)
        return False
    users = {u: add_user(session, None, u, r, full_name=n, password=DEMO_PASSWORD) for u, r, n in DEMO_USERS}
    for username, user in users.items():
        if second_factor_required(user.role):
            two_factor.enrol_known_secret(session, None, user, demo_totp_secret(username))
    for key, title, start, end in EPISODES:
        upsert_episode(session, None, key, title, start, end)
    update_profile(session, settings, users["admin"], DEMO_PROFILE)
    rng = random.Random(2026)
    number = 0
    for count, plan in PLANS:
        for _ in range(count):
            number += 1
            ref = f"APL-{number:03d}"
            _open(session, settings, users, rng, ref, plan)
            _drive(session, settings, users, ref, plan, rng)
    _make_some_overdue(session, settings)
    _collective(session, settings, users)
    return True


def _collective(session: Session, settings: Settings, users: dict[str, User]) -> None:
    """A collective complaint over every case it may include (``collective.eligible_cases``)."""
    eligible = [c.ref for c in eligible_cases(session)]
    create_collective(
        session, settings, users["lara"], body="un_sp", language="en", mandates=["assembly", "expression"],
        grounds=["iccpr_9", "iccpr_19", "iccpr_21"], title="Persecution of the supporters of a banned movement",
        cases=list(eligible), narrative={
            "summary": "Throughout 2022 supporters of a peaceful opposition movement were detained at rallies, "
                       "questioned for carrying its symbol and prosecuted for comments online.",
            "legal_basis": "A district court declared the movement 'extremist'; the prosecutor warned that "
                           "support, posts, leaflets and rallies would be prosecuted.",
            "context": "The movement campaigns peacefully for free elections and an end to corruption.",
            "methods": "Detention at rallies, searches of phones, fingerprinting, forced declarations.",
            "patterns": "Supporters are questioned about their views and put on lists of 'unreliable' citizens.",
            "pressure_on_defenders": "Lawyers who took the supporters' cases were warned by the bar association.",
            "requests": "Ask the government to release those still detained, drop the charges and revoke the ban.",
        },
        officials=[{"position": "Head of the city police department", "agency": "Police",
                    "role": "ordered the dispersal of the January rally"}])


def _open(session: Session, settings: Settings, users: dict[str, User], rng: random.Random, ref: str,
          plan: str) -> None:
    episodes = tuple(sorted(rng.sample([e[0] for e in EPISODES], k=rng.choice((1, 1, 2)))))
    types = tuple(sorted(rng.sample(INCIDENT_TYPES[:6], k=rng.choice((1, 2)))))
    documents = {} if plan == "documents" else {
        "form_of_appeal": (PDF.replace(b"demo", ref.encode()), f"{ref}-form-of-appeal.pdf"),
        "power_of_attorney": (PDF.replace(b"demo", ref.encode() + b" poa"), f"{ref}-power-of-attorney.pdf"),
    }
    city = rng.choice(CITIES)
    appeal = Appeal(
        ref=ref, full_name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}", city=city, episodes=episodes,
        incident_types=types, incident_date=date(2022, 1, 5) + timedelta(days=rng.randrange(200)),
        description=f"Fictional account: detained in {city} after a peaceful protest; held for "
                    f"{rng.randrange(1, 15)} days without access to a lawyer.",
        form_of_appeal=None, power_of_attorney=None, consent_publish_name=rng.random() < 0.7,
        received_on=date(2022, 9, 1) + timedelta(days=rng.randrange(240)),
        detained_now=plan in ("legal_review",) and rng.random() < 0.4,
    )
    open_case(session, settings, users["dana"], appeal, documents, imported=plan != "intake")


def _complete(session: Session, settings: Settings, user: User, ref: str, bpmn_id: str,
              data: dict[str, Any]) -> None:
    rows = session.scalars(select(HumanTask).join(Case, HumanTask.case_id == Case.id)
                           .where(Case.ref == ref, HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready")
                           .order_by(HumanTask.created_at)).all()
    for row in rows:
        complete_task(session, settings, row.id, user, data)


def _drive(session: Session, settings: Settings, users: dict[str, User], ref: str, plan: str,
           rng: random.Random) -> None:
    if plan in ("intake", "consent"):
        return
    both = plan != "documents"
    _complete(session, settings, users["timur"], ref, "verify_consent",
              {"form_of_appeal_verified": both, "power_of_attorney_verified": both})
    if plan in ("documents", "legal_review"):
        return
    decision = {"rejected": "reject"}.get(plan, "approve")
    candidates = ["un_sp", "un_wgad", "un_hrc", "osce_odihr"]
    bodies = [] if plan == "approved" else rng.sample(candidates, k=rng.choice((1, 2)))
    case = session.scalar(select(Case).where(Case.ref == ref))
    update_legal_facts(session, users["lara"], case, {
        "deprived_of_liberty": True,
        "remedies_exhausted_on": (datetime.now(UTC) - timedelta(days=rng.randrange(60, 900))).date(),
        "remedies_summary": "Administrative arrest upheld on appeal by the regional court."})
    _complete(session, settings, users["lara"], ref, "legal_review", {
        "decision": decision, "bodies": bodies if decision == "approve" else [],
        "mandates": ["assembly", "expression"] if "un_sp" in bodies and decision == "approve" else [],
        "wgad_categories": ["II"] if "un_wgad" in bodies and decision == "approve" else [],
        "grounds": ["iccpr_9", "iccpr_19", "iccpr_21"],
        "notes": "Peaceful assembly; arbitrary detention." if decision == "approve" else "Outside our mandate.",
    })
    if plan in ("rejected", "approval", "approved"):
        return  # "approved": reviewed for collective complaints only, which needs no approval of its own
    _complete(session, settings, users["maria"], ref, "approve_review", {"decision": "approve"})
    _complete(session, settings, users["nurlan"], ref, "check_filing", {"decision": "approve"})
    if plan == "filing":
        return
    submitted = (datetime.now(UTC) - timedelta(days=rng.randrange(5, 40))).date().isoformat()
    _complete(session, settings, users["dana"], ref, "submit_filing",
              {"submitted_on": submitted, "channel": "email", "reference": f"REF-{ref}"})
    case = session.scalar(select(Case).where(Case.ref == ref))
    if plan == "withdrawn":
        withdraw_consent(session, settings, users["dana"], case, "The complainant fears reprisals.")
    elif plan == "follow_up":
        _expire_and_fire(session, settings, case)
    elif plan == "closed":
        for filing in case.filings:
            record_response(session, settings, users["lara"], filing.id, kind="decision",
                            received_on=datetime.now(UTC).date(), summary="Communication sent to the state.")
        _complete(session, settings, users["lara"], ref, "record_outcome", {"outcome": "communication_sent"})


def _instance(session: Session, case: Case) -> ProcessInstance:
    instance = instances.of_case(session, case.id)
    assert instance is not None, "every demo case has started its process"
    return instance


def _expire_and_fire(session: Session, settings: Settings, case: Case) -> None:
    loaded = processes.load(session, settings, _instance(session, case), None)
    past = datetime.now(UTC) - timedelta(days=1)
    instances.reschedule_timers(loaded, past)
    instances.save(loaded, action="demo_clock_moved")
    fire_one(session, settings, loaded.instance.id, datetime.now(UTC))


def _make_some_overdue(session: Session, settings: Settings) -> None:
    """Put a few service-level clocks in the past (not yet swept) so the overdue views have content."""
    for ref in ("APL-005", "APL-006", "APL-012", "APL-013"):
        case = session.scalar(select(Case).where(Case.ref == ref))
        loaded = processes.load(session, settings, _instance(session, case), None)
        instances.reschedule_timers(loaded, datetime.now(UTC) - timedelta(days=3))
        instances.save(loaded, action="demo_clock_moved")
