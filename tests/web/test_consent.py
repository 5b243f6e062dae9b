"""What the complainant allows: the service (validation, audit, refusal after withdrawal), the consent panel
per role, and the pre-filled forms for signature (intake only, audited, never stored)."""

from __future__ import annotations

import io

import docx
import pytest
from sqlalchemy import func, select

from tests.helpers import open_sample_case
from tests.web.conftest import csrf_token
from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.models import AuditEvent, Document
from workflow.services.cases import get_case
from workflow.services.consent import update_consent_permissions, withdraw_consent


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def events(env, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return [e.data for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                                .order_by(AuditEvent.id))]


def consent_of(env, ref: str):  # type: ignore[no-untyped-def]
    with env.uow() as session:
        c = get_case(session, ref).consent
        return {"share": c.share_name_with_government, "publish": c.publish_name, "initials": c.initials_only,
                "anonymous": c.anonymous, "overrides": dict(c.body_overrides or {}), "risk": c.risk_note}


# -- the service -----------------------------------------------------------------------------------------

def test_update_validates_audits_names_and_booleans_only(env, staff):
    open_sample_case(env, "APL-601")
    with env.uow() as session:
        case = get_case(session, "APL-601")
        update_consent_permissions(session, env.user(session, "ina"), case, publish_name=False, initials_only=True,
                                   body_overrides={"un_hrc": "deny"}, risk_note="Threatened by an officer.")
    assert consent_of(env, "APL-601") == {"share": True, "publish": False, "initials": True, "anonymous": False,
                                          "overrides": {"un_hrc": "deny"}, "risk": "Threatened by an officer."}
    (event,) = events(env, "consent_updated")
    assert event["changed"] == ["publish_name", "initials_only", "body_overrides.un_hrc", "risk_note"]
    assert set(event) == {"changed"}  # the names of the changes, never their values (workflow/audit.py)
    assert "Threatened" not in str(event)

    with env.uow() as session:  # anonymous excludes every way of naming the person
        case, ina = get_case(session, "APL-601"), env.user(session, "ina")
        with pytest.raises(ValidationFailed) as err:
            update_consent_permissions(session, ina, case, anonymous=True)
        assert set(err.value.errors) == {"anonymous"}
        with pytest.raises(ValidationFailed) as err:
            update_consent_permissions(session, ina, case, anonymous=True, share_name_with_government=False,
                                       initials_only=False, body_overrides={"osce_odihr": "allow"})
        assert set(err.value.errors) == {"body_overrides"}
        for bad in ({"body_overrides": {"nowhere": "allow"}}, {"body_overrides": {"un_sp": "maybe"}},
                    {"publish_name": "yes"}, {"risk_note": "x" * 5001}, {"colour": "red"}):
            with pytest.raises(ValidationFailed):
                update_consent_permissions(session, ina, case, **bad)
        with pytest.raises(Forbidden):
            update_consent_permissions(session, env.user(session, "mara"), case, publish_name=True)
        # A change to nothing leaves no event.
        update_consent_permissions(session, ina, case, initials_only=True)
        # Fully anonymous, with everything else off, is fine.
        update_consent_permissions(session, ina, case, anonymous=True, share_name_with_government=False,
                                   initials_only=False, body_overrides={"un_hrc": "deny"})
    assert consent_of(env, "APL-601")["anonymous"] is True
    assert len(events(env, "consent_updated")) == 2


def test_no_change_after_withdrawal(env, staff):
    open_sample_case(env, "APL-602")
    with env.uow() as session:
        withdraw_consent(session, env.settings, env.user(session, "lena"), get_case(session, "APL-602"), "Asked.")
    with env.uow() as session, pytest.raises(Conflict):
        update_consent_permissions(session, env.user(session, "ina"), get_case(session, "APL-602"),
                                   publish_name=False)
    assert events(env, "consent_updated") == []


# -- the consent panel -----------------------------------------------------------------------------------

def post_consent(client, ref: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_token(text_of(client.get(f"/cases/{ref}")))
    data = {"consent-csrf_token": token, **{f"consent-{k}": v for k, v in fields.items()}}
    return client.post(f"/cases/{ref}/consent", data=data)


def test_the_panel_saves_choices_and_refuses_bad_ones(env, login):
    open_sample_case(env, "APL-610")
    client = login("lena")
    response = post_consent(client, "APL-610", share_name_with_government="y", initials_only="y",
                            body_un_wgad="deny", risk_note="Summoned twice.")
    assert response.status_code == 303 and response.headers["Location"].endswith("/cases/APL-610#h-consent")
    assert consent_of(env, "APL-610") == {"share": True, "publish": False, "initials": True, "anonymous": False,
                                          "overrides": {"un_wgad": "deny"}, "risk": "Summoned twice."}
    page = text_of(client.get("/cases/APL-610"))
    assert "Consent choices saved." in page and "never named" in page
    assert "Consent choices changed" in text_of(client.get("/cases/APL-610/history"))
    assert '<option value="deny" selected>' in text_of(client.get("/cases/APL-610?open=consent"))

    refused = post_consent(client, "APL-610", anonymous="y", publish_name="y", body_un_sp="allow")
    html = text_of(refused)
    assert refused.status_code == 422
    assert "Fully anonymous excludes: Name may appear in public reports." in html
    assert 'aria-describedby="consent-anonymous-error"' in html
    assert consent_of(env, "APL-610")["anonymous"] is False
    assert len(events(env, "consent_updated")) == 1
    bad_choice = post_consent(client, "APL-610", body_un_sp="perhaps")
    assert bad_choice.status_code == 422 and len(events(env, "consent_updated")) == 1


def test_the_panel_after_withdrawal_is_read_only_and_posts_are_409(env, login):
    open_sample_case(env, "APL-611")
    client = login("ina")
    token = csrf_token(text_of(client.get("/cases/APL-611/consent/withdraw")))
    assert client.post("/cases/APL-611/consent/withdraw",
                       data={"csrf_token": token, "reason": "Fears reprisals."}).status_code == 303
    page = text_of(client.get("/cases/APL-611?open=consent"))
    assert 'action="/cases/APL-611/consent"' not in page and "What the complainant allows" in page
    assert "open=consent" not in page.split("<main", 1)[1]  # nor the link to the form
    response = client.post("/cases/APL-611/consent", data={"csrf_token": token, "consent-csrf_token": token,
                                                            "consent-publish_name": "y"})
    assert response.status_code == 409 and "can no longer change" in text_of(response)


def test_the_panel_per_role(env, login):
    open_sample_case(env, "APL-612")
    with env.uow() as session:
        update_consent_permissions(session, env.user(session, "ina"), get_case(session, "APL-612"),
                                   risk_note="Lives near the border.", body_overrides={"ep_peti": "deny"})
    ina = login("ina")
    plain = text_of(ina.get("/cases/APL-612"))  # the form is drawn when asked for, through this link
    assert 'href="/cases/APL-612?open=consent#consent"' in plain and 'action="/cases/APL-612/consent"' not in plain
    assert "Lives near the border." in plain and "never named" in plain
    intake = text_of(ina.get("/cases/APL-612?open=consent"))
    assert 'action="/cases/APL-612/consent"' in intake and 'name="consent-anonymous"' in intake
    assert "Lives near the border." in intake
    assert 'href="/cases/APL-612/forms/power_of_attorney.docx?lang=ru"' in intake
    assert 'href="/cases/APL-612/forms/form_of_appeal.docx?lang=en"' in intake
    legal = text_of(login("lena").get("/cases/APL-612?open=consent"))
    assert 'action="/cases/APL-612/consent"' in legal and "/forms/" not in legal
    mara = login("mara")
    manager = text_of(mara.get("/cases/APL-612?open=consent"))
    assert 'action="/cases/APL-612/consent"' not in manager and "/forms/" not in manager
    assert "Lives near the border." not in manager  # the risk note is for the people who act on it
    assert "What the complainant allows" in manager and "never named" in manager
    assert "Form of appeal" in manager and "no document on file" not in manager  # which documents prove it
    token = csrf_token(manager)
    refused = mara.post("/cases/APL-612/consent", data={"csrf_token": token, "consent-csrf_token": token})
    assert refused.status_code == 403


# -- forms for signature ---------------------------------------------------------------------------------

def body_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_forms_for_signature_are_for_intake_streamed_and_audited(env, login, token, app):
    open_sample_case(env, "APL-620", passport_number="N0012345", full_name="Aigerim Formova")
    with env.uow() as session:
        documents_before = session.scalar(select(func.count()).select_from(Document))
    client = login("ina")
    response = client.get("/cases/APL-620/forms/power_of_attorney.docx?lang=ru")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "APL-620-power_of_attorney-ru.docx" in response.headers["Content-Disposition"]
    assert "Aigerim" not in response.headers["Content-Disposition"]
    text = body_text(response.data)
    assert "Доверенность" in text and "Aigerim Formova" in text and "N0012345" in text
    english = client.get("/cases/APL-620/forms/form_of_appeal.docx?lang=en")
    assert english.status_code == 200 and "Aigerim Formova" in body_text(english.data)
    assert client.get("/cases/APL-620/forms/form_of_appeal.docx?lang=de").status_code == 404
    assert client.get("/cases/APL-620/forms/passport.docx?lang=en").status_code == 404
    for user in ("lena", "mara", "ada"):
        assert login(user).get("/cases/APL-620/forms/form_of_appeal.docx?lang=en").status_code == 403
    api = app.test_client()
    via_api = api.get("/api/v1/cases/APL-620/forms/form_of_appeal?lang=en", headers=token("ina"))
    assert via_api.status_code == 200 and "N0012345" in body_text(via_api.data)
    assert api.get("/api/v1/cases/APL-620/forms/form_of_appeal?lang=de", headers=token("ina")).status_code == 422
    assert api.get("/api/v1/cases/APL-620/forms/form_of_appeal", headers=token("lena")).status_code == 403
    logged = events(env, "consent_form_downloaded")
    assert [(e["form"], e["language"], e["channel"]) for e in logged] == [
        ("power_of_attorney", "ru", "web"), ("form_of_appeal", "en", "web"), ("form_of_appeal", "en", "api")]
    assert all("passport_number" in e["fields"] and "N0012345" not in str(e) for e in logged)
    with env.uow() as session:  # never stored
        assert session.scalar(select(func.count()).select_from(Document)) == documents_before
