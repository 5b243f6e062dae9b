"""The admin pages of instances in error and the case page's notice of a stuck case (web/repair/)."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.helpers import case_instance, do, ready_ids, stage
from tests.web.conftest import csrf_token
from tests.workflow.mailbox import mailbox
from tests.workflow.test_digest import give_addresses, with_smtp
from tests.workflow.test_repair import VERIFIED, failed_case
from workflow.models import AuditEvent
from workflow.services.repair_alerts import send_error_alerts

STEP = "Alert a manager: consent verification late"


def test_admins_see_the_instance_in_error_and_reset_it_and_the_case_completes(env, login):
    instance_id = failed_case(env, "APL-W01")
    ada = login("ada")
    inbox = ada.get("/admin/users").get_data(as_text=True)
    assert re.search(r"Instances in error\s*<span class=\"badge overdue\">1</span>", inbox)
    listing = ada.get("/admin/instances/errors").get_data(as_text=True)
    assert "APL-W01" in listing and STEP in listing and "escalation_role" in listing
    page = ada.get(f"/admin/instances/{instance_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "escalate_consent" in html and "escalation_role" in html
    target = re.search(r'<option value="([0-9a-f-]{36})">Set consent due date', html).group(1)
    token = csrf_token(html)
    # Without the ticked confirmation nothing happens.
    refused = ada.post(f"/admin/instances/{instance_id}/reset", data={"csrf_token": token, "task": target})
    assert refused.status_code == 422 and "Tick the box" in refused.get_data(as_text=True)
    unknown = ada.post(f"/admin/instances/{instance_id}/reset",
                       data={"csrf_token": token, "task": "nothing", "confirm": "yes"})
    assert unknown.status_code == 422 and "Choose a step of this instance" in unknown.get_data(as_text=True)
    with env.uow() as session:
        assert case_instance(session, "APL-W01").status == "error"
    done = ada.post(f"/admin/instances/{instance_id}/reset",
                    data={"csrf_token": token, "task": target, "confirm": "yes"}, follow_redirects=True)
    assert done.status_code == 200 and "was reset to the chosen step" in done.get_data(as_text=True)
    assert "No process instance is in error." in ada.get("/admin/instances/errors").get_data(as_text=True)
    assert ready_ids(env, "APL-W01") == ["verify_consent"]
    do(env, "APL-W01", "verify_consent", "ina", VERIFIED)
    do(env, "APL-W01", "legal_review", "lena", {"decision": "reject", "notes": "Not a human-rights matter."})
    assert stage(env, "APL-W01") == "rejected"
    with env.uow() as session:
        assert case_instance(session, "APL-W01").status == "complete"
        reset = session.scalars(select(AuditEvent).where(AuditEvent.action == "instance_reset")).one()
        assert reset.data["task"] == "set_consent_due" and reset.actor.username == "ada"
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "instance_error_read"))


def test_a_retry_that_fails_again_says_so_and_keeps_the_error(env, login):
    instance_id = failed_case(env, "APL-W02")
    ada = login("ada")
    token = csrf_token(ada.get(f"/admin/instances/{instance_id}").get_data(as_text=True))
    answer = ada.post(f"/admin/instances/{instance_id}/retry", data={"csrf_token": token, "confirm": "yes"},
                      follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "It failed again" in html and "escalation_role" in html
    with env.uow() as session:
        assert case_instance(session, "APL-W02").status == "error"
        assert session.scalars(select(AuditEvent.data).where(AuditEvent.action == "instance_retried")).one() == {
            "ok": False, "task": "escalate_consent"}


def test_staff_see_the_case_is_stuck_without_the_error_and_cannot_repair(env, login):
    instance_id = failed_case(env, "APL-W03")
    lena = login("lena")
    html = lena.get("/cases/APL-W03").get_data(as_text=True)
    assert f"This case is stuck: the step {STEP} failed on" in html
    assert "The administrators see it on their list of instances in error." in html
    assert "escalation_role" not in html and "escalate_consent" not in html
    token = csrf_token(html)
    assert lena.get("/admin/instances/errors").status_code == 403
    assert lena.get(f"/admin/instances/{instance_id}").status_code == 403
    assert lena.post(f"/admin/instances/{instance_id}/retry",
                     data={"csrf_token": token, "confirm": "yes"}).status_code == 403
    with env.uow() as session:
        assert case_instance(session, "APL-W03").status == "error"
    give_addresses(env)
    with mailbox() as box:
        assert send_error_alerts(env.engine, with_smtp(env, box.port)) == 1
    html = lena.get("/cases/APL-W03").get_data(as_text=True)
    assert re.search(r"The administrators were alerted by mail on <time[^>]*>[^<]+</time>: Ada\.", html)
