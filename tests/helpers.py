"""Builders for fictional appeals and small drivers used across the test-suite."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from filings.pdf import office
from workflow.models import Case, HumanTask, ProcessInstance
from workflow.runtime import instances
from workflow.schemas.appeal import Appeal
from workflow.services import processes
from workflow.services.cases import open_case
from workflow.services.episodes import upsert_episode
from workflow.services.tasks import complete_task

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# A collective complaint's text with every section written: one still "to be completed" blocks its legal check
# and its approval (services/collective_checks.py).
COLLECTIVE_TEXT = {
    "summary": "Supporters of a fictional movement were detained at rallies.",
    "legal_basis": "A district court banned the movement as extremist.",
    "context": "The movement campaigns peacefully.", "methods": "Detentions at rallies, phone searches.",
    "patterns": "Interrogations about political views.", "pressure_on_defenders": "Lawyers were warned.",
    "requests": "Ask the government to release those detained.",
}


def appeal(ref: str, **overrides: Any) -> Appeal:
    values: dict[str, Any] = {
        "ref": ref,
        "full_name": f"Aigerim Testova {ref}",
        "city": "Almaty",
        "episodes": ("rally_2022",),
        "incident_types": ("detention_at_rally",),
        "incident_date": date(2022, 1, 5),
        "description": f"Detained at the square during a peaceful rally ({ref}).",
        "form_of_appeal": "foa.pdf",
        "power_of_attorney": "poa.pdf",
        "consent_publish_name": True,
        "received_on": date(2022, 3, 1),
    }
    values.update(overrides)
    return Appeal(**values)


def ensure_episode(session: Session) -> None:
    upsert_episode(session, None, "rally_2022", "Rally in the main square", date(2022, 1, 5), date(2022, 1, 6))


def open_sample_case(env: Any, ref: str, *, documents: tuple[str, ...] = ("form_of_appeal", "power_of_attorney"),
                     imported: bool = True, **overrides: Any) -> None:
    with env.uow() as session:
        ensure_episode(session)
        files = {kind: (PDF, f"{kind}.pdf") for kind in documents}
        open_case(session, env.settings, None, appeal(ref, **overrides), files, imported=imported)


def ready(env: Any, ref: str) -> list[HumanTask]:
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == ref))
        return list(instances.ready_rows(session, case.id))


def ready_ids(env: Any, ref: str) -> list[str]:
    return sorted(t.bpmn_id for t in ready(env, ref))


def task(env: Any, ref: str, bpmn_id: str) -> HumanTask:
    matches = [t for t in ready(env, ref) if t.bpmn_id == bpmn_id]
    assert matches, f"{bpmn_id} is not ready for {ref}: {ready_ids(env, ref)}"
    return matches[0]


def do(env: Any, ref: str, bpmn_id: str, username: str, data: dict[str, Any]) -> None:
    row = task(env, ref, bpmn_id)
    with env.uow() as session:
        complete_task(session, env.settings, row.id, env.user(session, username), data)


def filing_in_check(env: Any, ref: str) -> int:
    """A sample case approved for the Special Procedures; the id of its filing, whose version 1 waits for the
    legal check."""
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    do(env, ref, "legal_review", "lena", {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"],
                                         "grounds": ["iccpr_21"]})
    do(env, ref, "approve_review", "mara", {"decision": "approve"})
    return task(env, ref, "check_filing").filing_id


def stage(env: Any, ref: str) -> str:
    with env.uow() as session:
        return session.scalar(select(Case.stage).where(Case.ref == ref))


def case_instance(session: Session, ref: str) -> ProcessInstance:
    return session.scalar(select(ProcessInstance).join(Case).where(Case.ref == ref))


def expire_timers(env: Any, ref: str, *, only: str | None = None) -> int:
    """Move the case's waiting timers (``only``: names containing that text) a minute into the past."""
    with env.uow() as session:
        loaded = processes.load(session, env.settings, case_instance(session, ref), None)
        moved = instances.reschedule_timers(loaded, datetime.now(UTC) - timedelta(minutes=1), only=only)
        instances.save(loaded, action="timers_rescheduled")
        return moved


def audit_actions(session: Session, ref: str) -> list[str]:
    from workflow.models import AuditEvent

    case = session.scalar(select(Case).where(Case.ref == ref))
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)
                                .order_by(AuditEvent.id)))


def dump(value: Any) -> str:
    return json.dumps(value, default=str)


# -- PDF copies (LibreOffice) ----------------------------------------------------------------------------

A4_POINTS = (595.3, 841.9)  # 210 x 297 mm


def require_office() -> None:
    """Skip a test that converts to PDF where LibreOffice is absent; in CI its absence is a failure."""
    if office() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI for the PDF tests")
        pytest.skip("LibreOffice is not installed (CI installs it and runs this test)")


def read_pdf(content: bytes) -> tuple[list[tuple[float, float]], str]:
    """A PDF's page sizes in points and its text, read back with pypdf."""
    reader = PdfReader(io.BytesIO(content))
    sizes = [(float(page.mediabox.width), float(page.mediabox.height)) for page in reader.pages]
    return sizes, "\n".join(page.extract_text() for page in reader.pages)


def letters(text: str) -> str:
    """Letters and digits only, to find a text in a PDF's: pypdf's spaces and line breaks follow the layout,
    not the source, and with some fonts it moves punctuation ("стр. 3 из 3" may read back as ". стр 3 из3")."""
    return re.sub(r"\W+", "", text)


def is_a4(size: tuple[float, float]) -> bool:
    return all(abs(got - want) < 1 for got, want in zip(size, A4_POINTS, strict=True))


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, an import's writers), from /proc."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children
