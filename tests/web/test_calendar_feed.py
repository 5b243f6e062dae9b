"""Each user's calendar link: created and revoked from /calendar, polled without signing in."""

from __future__ import annotations

import io
import logging
import re
import threading
import urllib.request

import pytest
from icalendar import Calendar
from werkzeug.serving import make_server

from tests import log_watch
from tests.helpers import expire_timers, open_sample_case
from tests.web.conftest import csrf_token
from web.logs import loggable

FEED_URL = re.compile(r'<code class="secret">(http://localhost/calendar/pc_[\w-]+\.ics)</code>')


@pytest.fixture
def cases(env, staff) -> None:
    open_sample_case(env, "CAL-1")
    open_sample_case(env, "CAL-2")
    expire_timers(env, "CAL-2")


def new_link(client) -> str:
    """Create a link as the signed-in user and return its path (the page shows the absolute URL once)."""
    token = csrf_token(client.get("/calendar").get_data(as_text=True))
    response = client.post("/calendar/link", data={"csrf_token": token})
    assert response.status_code == 200
    path = FEED_URL.search(response.get_data(as_text=True)).group(1).removeprefix("http://localhost")
    log_watch.remember(path.removeprefix("/calendar/").removesuffix(".ics"))
    return path


def summaries(body: bytes) -> set[str]:
    return {str(event["summary"]) for event in Calendar.from_ical(body).walk("VEVENT")}


def test_the_feed_lists_the_users_deadlines_without_signing_in(app, login, cases):
    path = new_link(login("ina"))
    response = app.test_client().get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert summaries(response.data) == {"CAL-1: Consent verification due", "CAL-2: Consent verification due"}


def test_a_legal_officer_sees_only_what_legal_answers_for(app, login, cases):
    path = new_link(login("lena"))
    assert summaries(app.test_client().get(path).data) == set()  # both deadlines are intake's


def test_revoking_the_link_makes_the_old_url_answer_404(app, login, cases):
    client = login("ina")
    before = client.get("/calendar").get_data(as_text=True)
    assert "You have no calendar link." in before and "Revoke my calendar link" not in before
    path = new_link(client)
    page = client.get("/calendar").get_data(as_text=True)
    assert "You have a calendar link, created" in page and path not in page  # the secret is shown only once
    token = csrf_token(page)
    response = client.post("/calendar/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    after = client.get("/calendar").get_data(as_text=True)
    assert "was revoked" in after and "You have no calendar link." in after
    assert app.test_client().get(path).status_code == 404


def test_a_new_link_replaces_the_old_one(app, login, cases):
    client = login("ina")
    old, new = new_link(client), new_link(client)
    assert old != new
    feed = app.test_client()
    assert feed.get(old).status_code == 404 and feed.get(new).status_code == 200


def test_unknown_and_revoked_secrets_get_the_same_answer(app, login, cases):
    client = login("ina")
    revoked = new_link(client)
    new_link(client)
    feed = app.test_client()
    unknown = feed.get("/calendar/pc_" + "x" * 43 + ".ics")
    gone = feed.get(revoked)
    assert unknown.status_code == gone.status_code == 404
    assert unknown.data == gone.data


def test_links_are_created_and_revoked_only_with_the_csrf_token(app, login, cases):
    client = login("ina")
    assert client.post("/calendar/link").status_code == 400
    path = new_link(client)
    assert client.post("/calendar/revoke").status_code == 400
    assert app.test_client().get(path).status_code == 200


def test_the_secret_is_never_logged(app, login, cases, caplog):
    caplog.set_level(logging.DEBUG)
    client = login("ina")
    path = new_link(client)
    app.test_client().get(path)
    secret = path.removeprefix("/calendar/").removesuffix(".ics")
    assert secret not in caplog.text


def test_the_feed_is_rate_limited(app, login, cases):
    path = new_link(login("ina"))
    feed = app.test_client()
    answers = [feed.get(path).status_code for _ in range(61)]
    assert answers[:60] == [200] * 60 and answers[60] == 429


def test_the_request_log_of_a_real_server_redacts_the_secret_and_the_feed_still_works(app, login, cases):
    """``petitio serve --dev`` runs werkzeug's server, whose request log prints the request line: served for real here,
    its log read back (gunicorn's access log: tests/web/test_serve.py)."""
    path = new_link(login("ina"))
    secret = path.removeprefix("/calendar/").removesuffix(".ics")
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.addHandler(handler)
    previous = werkzeug_log.level
    werkzeug_log.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}{path}?v=1", timeout=30) as answer:
            status, body = answer.status, answer.read()
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        werkzeug_log.removeHandler(handler)
        werkzeug_log.setLevel(previous)
    assert status == 200 and summaries(body) == {"CAL-1: Consent verification due", "CAL-2: Consent verification due"}
    logged = lines.getvalue()
    assert "GET /calendar/[redacted].ics?v=1 HTTP/1.1" in logged and " 200 " in logged  # the line is there ...
    assert secret not in logged  # ... without the secret


@pytest.mark.parametrize(("line", "expected"), [
    ('"GET /calendar/pc_abc-DEF_123.ics HTTP/1.1" 200 -', '"GET /calendar/[redacted].ics HTTP/1.1" 200 -'),
    ("GET https://petitio.example/calendar/pc_abc.ics?x=1", "GET https://petitio.example/calendar/[redacted].ics?x=1"),
    ("/prefix/calendar/pc_abc", "/prefix/calendar/[redacted]"),
    ('"POST /calendar/link HTTP/1.1" 200', '"POST /calendar/link HTTP/1.1" 200'),  # not a secret: kept
    ("/calendar/revoke", "/calendar/revoke"),
    ("/calendar/link-pc_abc.ics", "/calendar/[redacted].ics"),  # a secret that starts like a page's name
    ("/cases/APL-1", "/cases/APL-1"),
    ('"GET /search?q=aigerim+testova HTTP/1.1" 200', '"GET /search?[redacted] HTTP/1.1" 200'),  # a name typed in
])
def test_loggable_redacts_the_feed_secret_only(line, expected):
    assert loggable(line) == expected


def test_a_record_of_any_request_logger_is_redacted_once_the_app_exists(app):
    """gunicorn's access log records its format with a dict of atoms: the filter reads the formatted line."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    access = logging.getLogger("gunicorn.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        access.info('%(h)s "%(r)s" %(s)s', {"h": "10.0.0.1", "r": "GET /calendar/pc_secretsecret.ics HTTP/1.1",
                                            "s": "200"})
    finally:
        access.removeHandler(handler)
    assert lines.getvalue() == '10.0.0.1 "GET /calendar/[redacted].ics HTTP/1.1" 200\n'
