"""API tokens (issue 14, item 1): no one acts as someone else.

Each user creates, lists and revokes their own tokens on /account/tokens; admins list and revoke anyone's
and create none (the old admin route is gone, and no page or API route gives an admin a token of another
user); tokens expire, and expired or revoked tokens get 401; the secret is shown once and stored as SHA-256.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from tests.web.conftest import csrf_token
from workflow.audit import AuditDataRefused
from workflow.errors import Forbidden, NotFound
from workflow.models import ApiToken, AuditEvent, utcnow
from workflow.services.api_tokens import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS, create_token, revoke_token

SECRET = re.compile(r"pt_[A-Za-z0-9_-]{20,}")


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def post(client, url: str, data: dict | None = None, page: str = "/account/tokens"):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def create_on_page(client, name: str = "my script", days: str = "") -> str:  # type: ignore[no-untyped-def]
    response = post(client, "/account/tokens", {"name": name, "days": days})
    assert response.status_code == 200, text_of(response)
    [secret] = SECRET.findall(text_of(response))
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def events(env, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        session.expunge_all()
        return found


def test_a_user_creates_lists_and_revokes_their_own_tokens(env, login, client):
    lena = login("lena")
    secret = create_on_page(lena, "nightly export", "30")
    response = lena.get("/account/tokens")
    page = text_of(response)
    assert "nightly export" in page and secret not in page  # shown once, never again
    assert "no-store" in response.headers["Cache-Control"]
    with env.uow() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert timedelta(days=29, hours=23) < row.expires_at - row.created_at <= timedelta(days=30)
        assert row.last_used_at is None
        stored = session.execute(text("SELECT * FROM api_tokens")).all()
        assert not any(secret in str(value) for r in stored for value in r)
        token_id = row.id
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    listed = client.get("/api/v1/account/tokens", headers=bearer(secret)).get_json()
    assert [(t["id"], t["name"], t["active"]) for t in listed] == [(token_id, "nightly export", True)]
    assert listed[0]["last_used_at"] is not None and "token_hash" not in listed[0]
    [created] = events(env, "token_created")
    assert created.data == {"user_id": created.actor_id, "days": 30, "channel": "web"}

    second = create_on_page(lena, "other")  # each token revoked alone
    answer = post(lena, f"/account/tokens/{token_id}/revoke")
    assert answer.status_code == 303 and secret not in answer.headers["Location"]
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 401
    assert client.get("/api/v1/cases", headers=bearer(second)).status_code == 200
    assert "revoked" in text_of(lena.get("/account/tokens"))
    assert [e.data["channel"] for e in events(env, "token_revoked")] == ["web"]


def test_the_secret_is_never_in_a_redirect_or_the_session(login):
    lena = login("lena")
    response = post(lena, "/account/tokens", {"name": "x"})
    secret = SECRET.findall(text_of(response))[0]
    assert response.status_code == 200 and "Location" not in response.headers
    cookies = " ".join(c.value for c in lena._cookies.values())
    assert secret not in cookies


def test_default_expiry_and_bounded_maximum(env, login):
    ina = login("ina")
    create_on_page(ina, "", "")
    with env.uow() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.name == "token 1"
        assert row.expires_at - row.created_at == timedelta(days=TOKEN_DEFAULT_DAYS)
    for days in (str(TOKEN_MAX_DAYS + 1), "0", "-3", "abc", "9" * 40):
        refused = post(ina, "/account/tokens", {"name": "long", "days": days})
        assert refused.status_code == 422, days
        assert not SECRET.search(text_of(refused)), days
    refused = post(ina, "/account/tokens", {"name": "x" * 81})
    assert refused.status_code == 422
    with env.uow() as session:
        assert session.scalar(select(ApiToken.name).where(ApiToken.name != "token 1")) is None


def test_expired_tokens_are_refused_with_401(env, login, client):
    secret = create_on_page(login("mara"))
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    with env.uow() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    answer = client.get("/api/v1/cases", headers=bearer(secret))
    assert answer.status_code == 401 and answer.get_json()["error"] == "unauthorized"
    assert "expired" in text_of(login("mara").get("/account/tokens"))


def test_last_use_is_written_at_most_once_a_minute(env, login, client):
    secret = create_on_page(login("lena"))
    client.get("/api/v1/cases", headers=bearer(secret))
    with env.uow() as session:
        first = session.scalars(select(ApiToken.last_used_at)).one()
        session.execute(update(ApiToken).values(last_used_at=first))  # unchanged: the next call is within a minute
    client.get("/api/v1/cases", headers=bearer(secret))
    with env.uow() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() == first
        session.execute(update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
    client.get("/api/v1/cases", headers=bearer(secret))
    with env.uow() as session:
        assert session.scalars(select(ApiToken.last_used_at)).one() > first


# -- no one acts as someone else ------------------------------------------------------------------------

def test_an_admin_cannot_obtain_a_token_for_another_user_through_any_route(app, env, login, api):
    ada = login("ada")
    before = text_of(ada.get("/admin/users"))
    token = csrf_token(before)
    for username in ("lena", "mara", "ina"):  # the old route: nothing issued (contract change: 404)
        answer = ada.post(f"/admin/users/{username}/token", data={"csrf_token": token})
        assert answer.status_code in (404, 405), answer.status_code
        assert not SECRET.search(text_of(answer))
    # Every page route an admin may POST to, with a username: none answers with a token.
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api/") and "username" in rule.arguments:
            values = {name: "lena" if name == "username" else "1" for name in rule.arguments}
            path = app.url_map.bind("localhost").build(rule.endpoint, values, method="POST")
            answer = ada.post(path, data={"csrf_token": token, "name": "x", "role": "legal", "active": "true"})
            assert not SECRET.search(text_of(answer)), path
    # The own-token page makes a token for the admin only, whatever the form says.
    answer = ada.post("/account/tokens", data={"csrf_token": token, "name": "x", "username": "lena",
                                               "user_id": "2"})
    own = SECRET.findall(text_of(answer))[0]
    assert api("GET", "/api/v1/cases", headers=bearer(own)).status_code == 403  # an admin does no casework
    # No API route creates a token, whoever calls it.
    for user in ("ada", "lena"):
        for method in ("POST", "PUT"):
            answer = api(method, "/api/v1/account/tokens", user, json={"name": "x", "user": "lena"})
            assert answer.status_code == 405, (user, method)
    with env.uow() as session:
        owners = {row.user.username for row in session.scalars(select(ApiToken))}
    assert "mara" not in owners and "ina" not in owners
    assert {"ada", "lena"} >= owners  # lena's: the fixture's own (the operator's), used by the API calls above


def test_the_service_refuses_a_token_for_someone_else(env, staff):
    with env.uow() as session, pytest.raises(Forbidden):
        create_token(session, env.user(session, "ada"), env.user(session, "lena"), name="x")


def test_admins_list_and_revoke_any_users_tokens_but_create_none(env, login, client):
    secret = create_on_page(login("lena"), "lena's script")
    with env.uow() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    ada = login("ada")
    page = text_of(ada.get("/admin/users/lena/tokens"))
    assert "lena's script" in page and 'action="/account/tokens"' not in page
    assert "1 active" in text_of(ada.get("/admin/users"))
    assert post(ada, f"/admin/users/ina/tokens/{token_id}/revoke", page="/admin/users").status_code == 404
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    assert post(ada, f"/admin/users/lena/tokens/{token_id}/revoke", page="/admin/users").status_code == 303
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 401
    [revoked] = events(env, "token_revoked")
    with env.uow() as session:
        assert revoked.actor_id == env.user(session, "ada").id


def test_another_users_token_is_not_revocable_by_a_non_admin(env, login, client, api):
    secret = create_on_page(login("lena"))
    with env.uow() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    leo = login("leo")
    assert post(leo, f"/account/tokens/{token_id}/revoke").status_code == 404
    assert api("DELETE", f"/api/v1/account/tokens/{token_id}", "leo").status_code == 404
    assert api("DELETE", "/api/v1/account/tokens/99999999999999999999", "leo").status_code == 404
    with env.uow() as session, pytest.raises(NotFound):
        revoke_token(session, env.user(session, "mara"), token_id)
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 200
    assert events(env, "token_revoked") == []
    # Its owner revokes it through the API with the token itself.
    assert client.delete(f"/api/v1/account/tokens/{token_id}", headers=bearer(secret)).status_code == 204
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 401


def test_a_deactivated_users_tokens_stop_working(env, login, client):
    secret = create_on_page(login("ina"))
    ada = login("ada")
    post(ada, "/admin/users/ina/active", {"active": "false"}, page="/admin/users")
    assert client.get("/api/v1/cases", headers=bearer(secret)).status_code == 401


def test_audit_data_refuses_free_text():
    from workflow.audit import check_data

    with pytest.raises(AuditDataRefused):
        check_data({"name": "x" * 81})
    assert check_data({"days": 30, "channel": "cli", "ids": [1, 2]}) == {"days": 30, "channel": "cli", "ids": [1, 2]}
