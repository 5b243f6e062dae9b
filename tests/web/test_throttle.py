"""Throttled sign-in (issue 14, item 4): per address and per account, in a store web processes share.

Ten failed sign-ins per 15 minutes per client address, and ten per account (known or not: the answer must not
tell) counted by the username as stored. Behind ``PETITIO_PROXY_HOPS`` proxies the address is the client's.
One test runs against Redis (``TEST_REDIS_URL``, default database 3 on 127.0.0.1): a second process counts
failures, this one sees them. Without Redis it is skipped, unless CI is set.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask import Flask

from tests.web.conftest import PASSWORD, csrf_token
from web import create_app
from workflow.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
WRONG = "not the password at all"
sqlite_only = pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # the limits do not depend on the database


def attempt(app: Flask, username: str, password: str = WRONG, *, address: str = "192.0.2.1",
            forwarded_for: str | None = None) -> int:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf_token(client.get("/login", headers=headers).get_data(as_text=True))
    return client.post("/login", headers=headers,
                       data={"username": username, "password": password, "csrf_token": token}).status_code


@sqlite_only
def test_one_address_guessing_many_accounts_is_throttled(app, staff):
    assert [attempt(app, f"guess{n}") for n in range(10)] == [200] * 10
    assert attempt(app, "ina", PASSWORD) == 429  # even the right password waits, from this address
    assert attempt(app, "ina", PASSWORD, address="192.0.2.2") == 302  # another address is not held back


@sqlite_only
def test_many_addresses_guessing_one_account_are_throttled(app, staff):
    typed = ["ina", " INA", "Ina ", "ina", "iNa", "ina", "INA", "ina", " ina ", "ina"]  # one account, as stored
    assert [attempt(app, name, address=f"198.51.100.{n}") for n, name in enumerate(typed)] == [200] * 10
    assert attempt(app, "ina", PASSWORD, address="198.51.100.77") == 429
    assert attempt(app, "lena", PASSWORD, address="198.51.100.77") == 302  # only that account is held back


@sqlite_only
def test_an_unknown_account_is_throttled_like_a_known_one(app, staff):
    assert [attempt(app, "nobody", address=f"198.51.100.{n}") for n in range(10)] == [200] * 10
    assert attempt(app, "nobody", address="198.51.100.77") == 429  # the same answer as for "ina" above


@sqlite_only
def test_successful_sign_ins_do_not_count(app, staff):
    assert [attempt(app, "ina", PASSWORD) for _ in range(12)] == [302] * 12


@sqlite_only
def test_wrong_current_passwords_on_the_account_page_count_against_the_account(app, staff, login):
    lena = login("lena")
    token = csrf_token(lena.get("/account/password").get_data(as_text=True))

    def change(current: str, new: str) -> int:
        return lena.post("/account/password", data={"current_password": current, "password": new, "confirm": new,
                                                    "csrf_token": token}).status_code

    assert [change(PASSWORD, "lenalena2026") for _ in range(11)] == [422] * 11  # a weak new one is no guess
    assert [change(WRONG, "violet kettle under the stairs") for _ in range(10)] == [422] * 10
    assert change(PASSWORD, "violet kettle under the stairs") == 429  # a stolen session guesses no further
    assert attempt(app, "lena", PASSWORD, address="203.0.113.50") == 429  # one count per account


@sqlite_only
@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_proxy_the_address_is_the_clients(env, staff, hops):
    app = create_app(dataclasses.replace(env.settings, proxy_hops=hops), TESTING=True)
    # Ten failures from one client behind the proxy (each for another unknown name: the per-account limit aside).
    codes = [attempt(app, f"guess{n}", address="10.0.0.1", forwarded_for="203.0.113.7") for n in range(10)]
    assert codes == [200] * 10
    other_client = attempt(app, "ina", PASSWORD, address="10.0.0.1", forwarded_for="203.0.113.8")
    if hops:
        assert other_client == 302  # the proxy's header names another client
        assert attempt(app, "ina", PASSWORD, address="10.0.0.1", forwarded_for="203.0.113.7") == 429
    else:
        assert other_client == 429  # no trusted proxy: the header is anyone's to write, so it is ignored


def test_the_settings_read_the_store_and_the_proxy_hops(tmp_path):
    settings = load_settings({"PETITIO_HOME": str(tmp_path), "PETITIO_PROXY_HOPS": "2",
                              "PETITIO_RATELIMIT_STORAGE_URI": "redis://:s3cret@cache:6379/0"})
    assert (settings.proxy_hops, settings.ratelimit_storage_uri) == (2, "redis://:s3cret@cache:6379/0")
    assert "s3cret" not in repr(settings)
    defaults = load_settings({"PETITIO_HOME": str(tmp_path)})
    assert (defaults.proxy_hops, defaults.ratelimit_storage_uri) == (0, "memory://")
    for name, value in [("PETITIO_PROXY_HOPS", "-1"), ("PETITIO_PROXY_HOPS", "two"),
                        ("PETITIO_RATELIMIT_STORAGE_URI", "cache:6379")]:
        with pytest.raises(ValueError, match=name):
            load_settings({"PETITIO_HOME": str(tmp_path), name: value})


# -- a store shared by processes -------------------------------------------------------------------------

FAIL_IN_ANOTHER_PROCESS = textwrap.dedent("""
    import re, sys
    from web import create_app
    from workflow.config import load_settings

    app = create_app(load_settings(), TESTING=True)
    for n in range(int(sys.argv[1])):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        print(client.post("/login", data={"username": "ina", "password": "wrong guess",
                                          "csrf_token": token}).status_code)
""")


def _redis_or_skip():  # type: ignore[no-untyped-def]
    try:
        import redis

        store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        store.flushdb()  # the test's own database
        return store
    except Exception as err:  # any failure to reach it: no Redis here
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but Redis at {REDIS_URL} is not reachable: {err}")
        pytest.skip(f"no Redis at {REDIS_URL}")


@sqlite_only
def test_two_web_processes_share_the_count_in_redis(env, staff):
    store = _redis_or_skip()
    shared = dataclasses.replace(env.settings, ratelimit_storage_uri=REDIS_URL)
    create_app(shared, TESTING=True)  # the secret key exists before the other process starts
    environ = {**os.environ, "PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url,
               "PETITIO_RATELIMIT_STORAGE_URI": REDIS_URL}
    other = subprocess.run([sys.executable, "-c", FAIL_IN_ANOTHER_PROCESS, "10"], cwd=ROOT, env=environ,
                           capture_output=True, text=True, timeout=120, check=False)
    assert other.returncode == 0, other.stderr[-2000:]
    assert other.stdout.split() == ["200"] * 10  # ten failures, counted in Redis by the other process

    # In-process memory would know nothing of them (one app per process: the last one created counts).
    assert attempt(create_app(env.settings, TESTING=True), "ina", PASSWORD, address="203.0.113.9") == 302
    # With the shared store, this process sees the other's ten failures: the account is held back.
    app = create_app(shared, TESTING=True)
    assert attempt(app, "ina", PASSWORD, address="203.0.113.9") == 429
    assert attempt(app, "lena", PASSWORD, address="203.0.113.9") == 302
    # The store holds addresses and a keyed digest of the account, never a username.
    keys = store.keys("*")
    assert keys and not any(b"ina" in key or b"lena" in key for key in keys)
    store.flushdb()


@sqlite_only
def test_an_unreachable_store_refuses_sign_in_rather_than_counting_nothing(env, staff):
    app = create_app(dataclasses.replace(env.settings, ratelimit_storage_uri="redis://127.0.0.1:1/0"), TESTING=True)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "ina", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 503  # not signed in uncounted, and not a 500
    assert client.get("/tasks").status_code == 302
