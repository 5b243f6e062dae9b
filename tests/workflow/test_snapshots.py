"""Per-body redaction of filing snapshots: who may be named where, and what never enters a filing."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from sqlalchemy import select

from tests.helpers import do, open_sample_case, task
from workflow.models import Case, Document
from workflow.runtime.context import document_store
from workflow.services.consent import update_consent_permissions
from workflow.snapshots import case_snapshot, naming

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
NAME = "Saule Fictivovna Testova"


def _case(session, ref: str) -> Case:
    return session.scalar(select(Case).where(Case.ref == ref))


def _consent(env, ref: str, **fields) -> None:
    with env.uow() as session:
        update_consent_permissions(session, env.user(session, "ina"), _case(session, ref), **fields)


@pytest.mark.parametrize(("fields", "expected"), [
    # share with government, publish, initials, overrides -> un_sp, un_hrc, ep_peti, collective
    ({"share_name_with_government": True, "publish_name": True}, ("full", "full", "full", "full")),
    ({"share_name_with_government": True, "publish_name": False}, ("full", "full", "none", "none")),
    ({"share_name_with_government": True, "publish_name": True, "initials_only": True},
     ("full", "full", "initials", "initials")),
    ({"share_name_with_government": False, "publish_name": False, "initials_only": True},
     ("initials", "initials", "initials", "initials")),
    ({"share_name_with_government": False, "publish_name": False, "body_overrides": {"un_hrc": "allow"}},
     ("none", "full", "none", "none")),
    ({"share_name_with_government": True, "publish_name": True, "body_overrides": {"un_sp": "deny"}},
     ("none", "full", "full", "full")),
    ({"share_name_with_government": False, "publish_name": False, "initials_only": False, "anonymous": True},
     ("none", "none", "none", "none")),
])
def test_who_may_be_named_depends_on_the_body_and_the_consent(env, staff, fields, expected):
    open_sample_case(env, "SNP-001", full_name=NAME, consent_publish_name=False)
    do(env, "SNP-001", "verify_consent", "ina", VERIFIED)
    _consent(env, "SNP-001", **fields)
    with env.uow() as session:
        case = _case(session, "SNP-001")
        assert tuple(naming(case, b) for b in ("un_sp", "un_hrc", "ep_peti", "collective")) == expected


def test_an_unverified_case_names_nobody_and_an_unnamed_person_is_cut_out_of_free_text(env, staff):
    open_sample_case(env, "SNP-002", full_name=NAME, full_name_native="Сауле Тестова",
                     description="Saule Testova was detained; Testova's phone was searched.",
                     passport_number="TEST123456", phone="+7 000 000 0001", email="saule@example.org")
    with env.uow() as session:
        snapshot = case_snapshot(session, _case(session, "SNP-002"), "un_sp", "en", "Test NGO")
    flat = repr(dataclasses.asdict(snapshot))
    assert snapshot.person.display_name == "Complainant SNP-002" and not snapshot.person.named
    for secret in ("Saule", "Testova", "Сауле", "TEST123456", "+7 000", "saule@example.org"):
        assert secret not in flat, secret
    assert "Complainant SNP-002 was detained" in snapshot.incidents[0].description
    assert snapshot.state == "Kazakhstan"


def test_a_named_person_keeps_their_details_but_never_contacts_or_identity_numbers(env, staff):
    open_sample_case(env, "SNP-003", full_name=NAME, passport_number="TEST654321", phone="+7 000 000 0002",
                     occupation="teacher")
    do(env, "SNP-003", "verify_consent", "ina", VERIFIED)
    with env.uow() as session:
        snapshot = case_snapshot(session, _case(session, "SNP-003"), "un_wgad", "en", "Test NGO")
    assert snapshot.person.named and snapshot.person.display_name == NAME
    assert snapshot.person.occupation == "teacher"
    flat = repr(dataclasses.asdict(snapshot))
    assert "TEST654321" not in flat and "+7 000" not in flat
    assert snapshot.incidents[0].deprivation_of_liberty  # detention at a rally


def test_a_revised_filing_no_longer_names_a_person_who_took_back_permission(env, staff):
    open_sample_case(env, "SNP-004", full_name=NAME)
    do(env, "SNP-004", "verify_consent", "ina", VERIFIED)
    do(env, "SNP-004", "legal_review", "lena", {"decision": "approve", "bodies": ["un_sp"],
                                                "mandates": ["assembly"], "grounds": ["iccpr_21"]})
    do(env, "SNP-004", "approve_review", "mara", {"decision": "approve"})

    def latest() -> bytes:
        with env.uow() as session:
            document = session.scalars(select(Document).where(Document.kind == "filing")
                                       .order_by(Document.version.desc())).first()
            content = document_store(env.settings).get(document.storage_key)
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return b"".join(archive.read(n) for n in archive.namelist())

    assert NAME.encode() in latest()
    _consent(env, "SNP-004", share_name_with_government=False, publish_name=False)
    do(env, "SNP-004", "check_filing", "leo", {"decision": "revise", "notes": "Consent changed."})
    assert task(env, "SNP-004", "check_filing")
    everything = latest()
    assert b"Saule" not in everything and b"Testova" not in everything
    assert b"Complainant SNP-004" in everything
