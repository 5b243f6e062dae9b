"""The consent panel and the withdrawal through the JSON API; what a regenerated filing says afterwards."""

from __future__ import annotations

import io

import docx
from sqlalchemy import select

import filings
from tests.helpers import do, open_sample_case
from workflow.models import AuditEvent, Case
from workflow.snapshots import case_snapshot


def test_update_consent_permissions(client, env, token):
    open_sample_case(env, "APL-301")
    ina = token("ina")
    answer = client.patch("/api/v1/cases/APL-301/consent", headers=ina,
                          json={"publish_name": False, "initials_only": True, "body_overrides": {"un_sp": "allow"}})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    consent = answer.get_json()["consent"]
    assert (consent["publish_name"], consent["initials_only"], consent["body_overrides"]) == (
        False, True, {"un_sp": "allow"})
    with env.uow() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "consent_updated"))
        assert event is not None and "publish_name" in str(event.data)


def test_contradictory_or_unknown_consent_fields_are_refused(client, env, token):
    open_sample_case(env, "APL-302")
    ina = token("ina")
    both = client.patch("/api/v1/cases/APL-302/consent", headers=ina, json={"anonymous": True, "publish_name": True})
    assert both.status_code == 422 and both.get_json()["error"] == "invalid"
    unknown = client.patch("/api/v1/cases/APL-302/consent", headers=ina, json={"nickname": True})
    assert unknown.status_code == 422 and "nickname" in unknown.get_json()["errors"]
    bad_value = client.patch("/api/v1/cases/APL-302/consent", headers=ina, json={"body_overrides": {"un_sp": "maybe"}})
    assert bad_value.status_code == 422
    manager = client.patch("/api/v1/cases/APL-302/consent", headers=token("mara"), json={"publish_name": False})
    assert manager.status_code == 403


def test_withdrawal_through_the_api_and_a_regenerated_filing_names_nobody(client, env, token):
    open_sample_case(env, "APL-303", full_name="Zhanar Fictiveva")
    do(env, "APL-303", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    lena = token("lena")
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-303"))
        before = filings.render(case_snapshot(session, case, "un_sp", "en", "Test NGO"))
    assert "Zhanar Fictiveva" in _text(before)
    missing = client.post("/api/v1/cases/APL-303/consent/withdrawal", headers=lena, json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    answer = client.post("/api/v1/cases/APL-303/consent/withdrawal", headers=lena,
                         json={"reason": "The complainant fears reprisals."})
    assert answer.status_code == 200 and answer.get_json()["stage"] == "withdrawn"
    again = client.post("/api/v1/cases/APL-303/consent/withdrawal", headers=lena, json={"reason": "Twice."})
    assert again.status_code == 409
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "APL-303"))
        after = filings.render(case_snapshot(session, case, "un_sp", "en", "Test NGO"))
    assert "Zhanar" not in _text(after) and "Fictiveva" not in _text(after)
    assert "Complainant APL-303" in _text(after)
    refused = client.patch("/api/v1/cases/APL-303/consent", headers=token("ina"), json={"publish_name": True})
    assert refused.status_code == 409


def _text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)
