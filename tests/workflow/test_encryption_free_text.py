"""Every free text at rest (issue 14 item 2): staff type a distinct fictional marker into every free-text field,
through the services as the pages and the API call them, and none of the markers is found in the raw SQLite
file, its WAL, the document storage folder, or (PostgreSQL) any table's raw column values.

The audit log records field names, never values (``workflow/audit.py`` refuses free text): no marker may be in
``audit_events.data`` either.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from sqlalchemy import select, text

from tests.conftest import Env
from tests.helpers import PDF, appeal, do, ensure_episode, open_sample_case
from tests.workflow.test_encryption import (
    assert_absent,
    fields,  # noqa: F401 - the fixture
    needles,
    raw_postgresql_rows,
    raw_storage_bytes,
)
from workflow.models import (
    Case,
    CollectiveComplaint,
    ConsentRecord,
    Document,
    Filing,
    Incident,
    LegalFacts,
    Person,
    ProcessInstance,
    Response,
    Review,
)
from workflow.services.cases import open_case
from workflow.services.collective import create_collective
from workflow.services.consent import update_consent_permissions, withdraw_consent
from workflow.services.responses import record_response
from workflow.services.review import update_legal_facts

# One marker per field: fictional, and unlike anything else in the database.
M = {
    "incident.description": "Zorvath Quillmane was beaten outside the Plinkerton bakery",
    "incident.place": "Grubnock square by the Wumple fountain",
    "person.occupation": "Yarnspinner at the Klaxbury mill",
    "person.organisation": "Friends of the Snorfle river",
    "document.filename": "Quillmane_Zorvath_form_of_appeal.pdf",
    "verify_consent.notes": "Called his cousin Brimbleby on +7 700 555 0188",
    "consent.risk_note": "Followed by a grey Wibbleton sedan every evening",
    "consent.withdrawal_reason": "Threatened by Major Frobisher-Grint",
    "legal_facts.remedies_summary": "Appeal dismissed by Judge Pemberton-Splat",
    "legal_facts.other_procedure_name": "Grobnitz commission petition 77",
    "review.notes": "Witness Odalys Marrowfink saw the arrest",
    "review.approval_notes": "Approved, keep Marrowfink's name out",
    "review.checks": "Fobbleworth tribunal complaint 12",
    "collective.title": "Persecution of the Snorfle riverkeepers",
    "collective.narrative": "Riverkeepers of Snorfle detained at dawn raids",
    "collective.officials.position": "Head of the Grimbleshank district police",
    "collective.officials.name": "Colonel Hortensio Vexbarrow",
    "submit_filing.reference": "SNORFLE-REF-4471",
    "response.reference": "GVA-ZORVATH-8812",
    "response.summary": "The body asks about Quillmane's medical record",
    "response.filename": "Letter_about_Quillmane_from_Geneva.pdf",
}
REF, OTHER, RETURNED = "FT-001", "FT-002", "FT-003"
VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}


def enter_every_free_text(env: Env) -> None:
    with env.uow() as session:
        ensure_episode(session)
        open_case(session, env.settings, None, appeal(
            REF, description=M["incident.description"], incident_place=M["incident.place"],
            occupation=M["person.occupation"], organisation=M["person.organisation"]),
            {"form_of_appeal": (PDF, M["document.filename"]), "power_of_attorney": (PDF, "poa.pdf")}, imported=True)
    do(env, REF, "verify_consent", "ina", {**VERIFIED, "notes": M["verify_consent.notes"]})
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == REF))
        update_consent_permissions(session, env.user(session, "ina"), case, risk_note=M["consent.risk_note"])
        update_legal_facts(session, env.user(session, "lena"), case, {
            "remedies_summary": M["legal_facts.remedies_summary"], "other_procedure": "pending",
            "other_procedure_name": M["legal_facts.other_procedure_name"]})
    do(env, REF, "legal_review", "lena", {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"],
                                         "grounds": ["iccpr_21"], "notes": M["review.notes"]})
    do(env, REF, "approve_review", "mara", {"decision": "approve", "notes": M["review.approval_notes"]})
    with env.uow() as session:
        create_collective(session, env.settings, env.user(session, "lena"), body="un_sp", language="en",
                          title=M["collective.title"], cases=[REF],
                          narrative={"summary": M["collective.narrative"]},
                          officials=[{"position": M["collective.officials.position"], "agency": "Police",
                                      "name": M["collective.officials.name"], "role": "ordered the raids"}])
    do(env, REF, "check_filing", "leo", {"decision": "approve"})
    do(env, REF, "submit_filing", "ina", {"submitted_on": date.today().isoformat(), "channel": "email",
                                          "reference": M["submit_filing.reference"]})
    with env.uow() as session:
        filing_id = session.scalar(select(Filing.id).join(Case, Filing.case_id == Case.id).where(Case.ref == REF))
        record_response(session, env.settings, env.user(session, "ina"), filing_id, kind="request_for_information",
                        received_on=date.today(), reference=M["response.reference"], summary=M["response.summary"],
                        document=(PDF, M["response.filename"]))
    open_sample_case(env, OTHER)
    with env.uow() as session:
        other = session.scalar(select(Case).where(Case.ref == OTHER))
        withdraw_consent(session, env.settings, env.user(session, "ivan"), other, M["consent.withdrawal_reason"])
    # A review returned with a body that objects to the other procedure: its findings quote the procedure's name.
    open_sample_case(env, RETURNED)
    do(env, RETURNED, "verify_consent", "ina", VERIFIED)
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == RETURNED))
        update_legal_facts(session, env.user(session, "lena"), case, {
            "other_procedure": "pending", "other_procedure_name": M["review.checks"]})
    do(env, RETURNED, "legal_review", "lena", {"decision": "return", "bodies": ["un_hrc"], "notes": "See facts"})


def read_back(env: Env) -> None:
    """Everything reads back in the clear through the models (the types decrypt)."""
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == REF))
        incident = session.scalar(select(Incident).where(Incident.case_id == case.id))
        assert (incident.description, incident.place) == (M["incident.description"], M["incident.place"])
        person = session.get(Person, case.person_id)
        assert (person.occupation, person.organisation) == (M["person.occupation"], M["person.organisation"])
        assert M["document.filename"] in session.scalars(select(Document.filename)).all()
        consent = session.scalar(select(ConsentRecord).where(ConsentRecord.case_id == case.id))
        assert consent.risk_note == M["consent.risk_note"]
        other = session.scalar(select(ConsentRecord).join(Case).where(Case.ref == OTHER))
        assert other.withdrawal_reason == M["consent.withdrawal_reason"]
        facts = session.scalar(select(LegalFacts).where(LegalFacts.case_id == case.id))
        assert facts.remedies_summary == M["legal_facts.remedies_summary"]
        assert facts.other_procedure_name == M["legal_facts.other_procedure_name"]
        review = session.scalar(select(Review).where(Review.case_id == case.id))
        assert (review.notes, review.approval_notes) == (M["review.notes"], M["review.approval_notes"])
        returned = session.scalar(select(Review).join(Case).where(Case.ref == RETURNED))
        assert {"procedure": M["review.checks"]} in [finding["params"] for finding in returned.checks]
        collective = session.scalar(select(CollectiveComplaint))
        assert collective.title == M["collective.title"]
        assert collective.narrative["summary"] == M["collective.narrative"]
        assert collective.officials[0]["name"] == M["collective.officials.name"]
        response = session.scalar(select(Response))
        assert (response.reference, response.summary) == (M["response.reference"], M["response.summary"])
        filing = session.get(Filing, response.filing_id)
        assert filing.external_reference == M["submit_filing.reference"]
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case.id))
        assert M["verify_consent.notes"] in instance.state_json  # the form data lives in the (encrypted) state


def quoted_by_audit(env: Env) -> set[str]:
    with env.engine.connect() as conn:
        cast = "data::text" if env.backend == "postgresql" else "CAST(data AS TEXT)"
        logged = "\n".join(conn.execute(text(f"SELECT {cast} FROM audit_events")).scalars())
    return {label for label, value in M.items() if value in logged}


def sqlite_files(env: Env) -> dict[str, bytes]:
    """The database file and its WAL as they are while the application holds them open, then once more after
    a checkpoint moved the WAL into the main file."""
    database = Path(env.settings.database_url.removeprefix("sqlite:///"))
    with env.engine.connect():  # keeps the WAL from being checkpointed away while we read it
        found = {f"{p} (open)": p.read_bytes() for p in database.parent.glob(database.name + "*") if p.is_file()}
    assert any(name.endswith("-wal (open)") for name in found), "no WAL file to search"
    env.engine.dispose()
    conn = sqlite3.connect(database)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    found[str(database)] = database.read_bytes()
    return found


def test_every_free_text_is_unreadable_at_rest(fields: Env, staff: dict[str, str]) -> None:  # noqa: F811
    env = fields
    enter_every_free_text(env)
    read_back(env)

    in_audit = quoted_by_audit(env)
    assert not in_audit, f"the audit log quotes {sorted(in_audit)}"
    secrets = dict(M)
    # A positive control: the same search finds what is deliberately plain (the public episode's title).
    control = "Rally in the main square"

    storage = raw_storage_bytes(env)
    assert_absent(storage, M)
    if env.backend == "sqlite":
        raw = sqlite_files(env)
        assert any(needles(control)[0] in content for content in raw.values())
        assert_absent(raw, secrets)
    else:
        dumped = raw_postgresql_rows(env)
        assert any(needles(control)[0] in content for content in dumped.values())
        dumped.pop("audit_events")
        assert_absent(dumped, M)
