"""Several machines against one PostgreSQL: two web servers and two workers (``petitio serve``, ``petitio
worker``, real processes, each with a PETITIO_HOME of its own holding only a copy of the key ring) share documents
stored in the database (``document_storage = "database"``) and the sign-in limiter's counts in Redis.

A case goes from intake to its submitted filing through both servers in turn, over HTTP: the consent documents
uploaded on one are read on the other, the filing generated on one is downloaded from the other, a session cookie
made by one opens pages on the other, and failed sign-ins counted on both hold the account back. Meanwhile both
workers sweep the timers of several cases made due at once. Nothing is lost or done twice: each task completed
once, each timer fired once, no audit event doubled, no 5xx, no document on any machine's disk, and the workers
stop cleanly on SIGTERM.

PostgreSQL only (the PostgreSQL half of CI: SQLite is one machine's file). Redis at TEST_MULTI_REDIS_URL (default
database 4 on 127.0.0.1); with CI set a missing Redis fails the test instead of skipping it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from tests import log_watch
from tests.conftest import Env
from tests.helpers import PDF, ensure_episode, expire_timers, open_sample_case, task
from workflow.models import AuditEvent, Case, HumanTask
from workflow.services.api_tokens import create_token
from workflow.services.users import get_user

PETITIO = Path(sys.executable).with_name("petitio")
# Not TEST_REDIS_URL's database: tests/web/test_throttle.py empties that one, in the other half of CI, meanwhile.
REDIS_URL = os.environ.get("TEST_MULTI_REDIS_URL", "redis://127.0.0.1:6379/4")
PASSWORD = "correct horse battery"  # the staff's (tests/conftest.py)
VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
APPROVE = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"],
           "notes": "Peaceful assembly."}
REF = "APL-MULTI"
RACED = [f"APL-RACE-{n}" for n in range(6)]  # cases whose timers both workers find due at once
pg_only = pytest.mark.parametrize("env", ["postgresql"], indirect=True)


def _redis():  # type: ignore[no-untyped-def]
    try:
        import redis

        store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        store.flushdb()  # the test's own database
        return store
    except Exception as err:  # any failure to reach it: no Redis here
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but Redis at {REDIS_URL} is not reachable: {err}")
        pytest.skip(f"no Redis at {REDIS_URL}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Machines:
    """The processes of the deployment, each as if on a machine of its own."""

    def __init__(self, env: Env, root: Path) -> None:
        self.env, self.root = env, root
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: dict[str, str] = {}
        self.statuses: list[tuple[str, str, int]] = []
        self.tokens: dict[str, str] = {}  # username -> API token

    def environ(self, name: str) -> dict[str, str]:
        home = self.root / name
        shutil.copytree(self.env.settings.keys_dir, home / "keys")  # the key ring, copied to every machine
        values = {key: value for key, value in os.environ.items() if not key.startswith(("PETITIO_", "TEST_"))}
        return {**values, "PETITIO_HOME": str(home), "DATABASE_URL": self.env.settings.database_url,
                "PETITIO_DOCUMENT_STORAGE": "database", "PETITIO_RATELIMIT_STORAGE_URI": REDIS_URL,
                "PETITIO_SECRET_KEY": "fictional session secret shared by the web servers", "PYTHONUNBUFFERED": "1"}

    def start(self, name: str, *args: str) -> None:
        with (self.root / f"{name}.log").open("wb") as log:  # the child keeps its own copy of the descriptor
            self.processes[name] = subprocess.Popen([str(PETITIO), *args], env=self.environ(name), stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def serve(self, name: str) -> None:
        port = _free_port()
        self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port))
        self.urls[name] = f"http://127.0.0.1:{port}"

    def wait_until_serving(self, timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        for name, url in self.urls.items():
            while True:
                assert self.processes[name].poll() is None, self.log(name)
                try:
                    if requests.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass  # not listening yet, or listening while its workers still build the app (a busy machine)
                assert time.monotonic() < deadline, f"{name} did not answer: {self.log(name)}"
                time.sleep(0.2)  # a process starting up: nothing to move

    def call(self, server: str, method: str, path: str, user: str | None = None, *, expect: int = 200,
             browser: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        """``user``: with their API token; ``browser``: with its cookies (the session cookie is Secure, which a
        cookie jar keeps from plain http, so they are carried by hand)."""
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        if browser:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in browser.items())
        response = requests.request(method, self.urls[server] + path, headers=headers, timeout=60,
                                    allow_redirects=False, **kwargs)
        if browser is not None:
            browser.update(response.cookies.get_dict())
        self.statuses.append((server, path, response.status_code))
        assert response.status_code == expect, f"{method} {path} on {server}: {response.text[:1000]}"
        return response

    def stop(self, name: str) -> int:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                pytest.fail(f"{name} did not stop on SIGTERM: {self.log(name)}")
        return int(process.returncode)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture
def machines(env: Env, staff: dict[str, str], tmp_path: Path) -> Iterator[Machines]:
    deployment = Machines(env, tmp_path)
    with env.uow() as session:
        ensure_episode(session)
        for username in ("ina", "ivan", "lena", "leo", "mara"):
            _, value = create_token(session, None, get_user(session, username), channel="cli")
            deployment.tokens[username] = log_watch.remember(value)
    try:
        yield deployment
    finally:
        for name in list(deployment.processes):
            deployment.stop(name)


def _complete(m: Machines, server: str, bpmn_id: str, user: str, data: dict[str, Any],
              ref: str = REF) -> dict[str, Any]:
    task_id = task(m.env, ref, bpmn_id).id
    return m.call(server, "POST", f"/api/v1/tasks/{task_id}/complete", user, json={"data": data}).json()


def _failed_sign_in(m: Machines, server: str, username: str, password: str, *, expect: int) -> None:
    browser: dict[str, str] = {}
    page = m.call(server, "GET", "/login", browser=browser).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    m.call(server, "POST", "/login", browser=browser, expect=expect,
           data={"username": username, "password": password, "csrf_token": token})


@pg_only
def test_two_servers_and_two_workers_share_one_database(env: Env, machines: Machines, tmp_path: Path) -> None:
    store = _redis()
    m = machines
    shared = dataclasses.replace(env, settings=dataclasses.replace(env.settings, document_storage="database"))
    for ref in RACED:  # waiting at verify_consent, with its service level's timer
        open_sample_case(shared, ref)
    m.serve("web-a")
    m.serve("web-b")
    m.start("worker-1", "worker", "--interval", "0.5")
    m.start("worker-2", "worker", "--interval", "0.5")
    m.wait_until_serving()

    # Both workers find the same six cases due at once.
    for ref in RACED:
        assert expire_timers(shared, ref, only="Consent verification") == 1

    # A session made by one server opens pages on the other (signed cookie, sessions in the database).
    browser: dict[str, str] = {}
    page = m.call("web-a", "GET", "/login", browser=browser).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    m.call("web-a", "POST", "/login", browser=browser, expect=302,
           data={"username": "ina", "password": PASSWORD, "csrf_token": csrf})
    m.call("web-b", "GET", "/tasks", browser=browser)  # 200: signed in there too, not sent to /login

    # The case, alternately through both servers.
    appeal = {"ref": REF, "full_name": "Aigerim Multiserverova", "city": "Almaty", "episodes": ["rally_2022"],
              "incident_types": ["detention_at_rally"], "incident_date": "2022-01-05",
              "description": "Detained at the square during a peaceful rally.", "consent_publish_name": True,
              "received_on": "2022-03-01"}
    m.call("web-a", "POST", "/api/v1/cases", "ina", json=appeal, expect=201)
    _complete(m, "web-b", "complete_intake", "ivan", {"notes": "Scanned."})
    uploaded = {kind: m.call("web-a", "POST", f"/api/v1/cases/{REF}/documents", "ina", expect=201,
                             data={"kind": kind}, files={"file": (f"{kind}.pdf", PDF, "application/pdf")}).json()
                for kind in ("form_of_appeal", "power_of_attorney")}
    for document in uploaded.values():  # written by A, read by B (and A)
        for server in ("web-b", "web-a"):
            assert m.call(server, "GET", f"/api/v1/documents/{document['id']}", "ina").content == PDF
    assert _complete(m, "web-b", "verify_consent", "ina", VERIFIED)["stage"] == "legal_review"
    assert _complete(m, "web-a", "legal_review", "lena", APPROVE)["stage"] == "approval"
    assert _complete(m, "web-b", "approve_review", "mara", {"decision": "approve"})["stage"] == "filing"
    filing_id = task(env, REF, "check_filing").filing_id
    generated = m.call("web-a", "GET", f"/api/v1/filings/{filing_id}", "lena").json()["versions"][-1]
    for server in ("web-a", "web-b"):  # generated by B, downloaded from both
        content = m.call(server, "GET", f"/api/v1/filings/{filing_id}/document", "lena").content
        assert hashlib.sha256(content).hexdigest() == generated["sha256"]
    _complete(m, "web-a", "check_filing", "leo", {"decision": "approve"})
    case = _complete(m, "web-b", "submit_filing", "ivan", {"submitted_on": date.today().isoformat(),
                                                           "channel": "email", "reference": "G/SO 214"})
    assert case["stage"] == "awaiting_response"
    bundle = m.call("web-a", "GET", f"/api/v1/cases/{REF}/filings.zip", "ina")
    assert bundle.content[:2] == b"PK"

    # Failed sign-ins counted by both servers in Redis hold the account back on either.
    for n in range(10):
        _failed_sign_in(m, ("web-a", "web-b")[n % 2], "ivan", "a wrong guess", expect=200)
    _failed_sign_in(m, "web-a", "ivan", PASSWORD, expect=429)
    assert store.keys("*")

    # The workers have fired every raced timer (each once), then stop cleanly.
    deadline = time.monotonic() + 45
    while _fired(env) != dict.fromkeys(RACED, 1):
        assert time.monotonic() < deadline, (_fired(env), m.log("worker-1"), m.log("worker-2"))
        time.sleep(0.2)  # the workers are other processes: their clock cannot be moved from here
    for worker in ("worker-1", "worker-2"):
        assert m.stop(worker) == 0, m.log(worker)
        assert "worker stopped" in m.log(worker)
    assert _fired(env) == dict.fromkeys(RACED, 1)
    fired_lines = [int(n) for w in ("worker-1", "worker-2")
                   for n in re.findall(r"fired due timers on (\d+) process", m.log(w))]
    assert sum(fired_lines) == len(RACED)

    with env.uow() as session:
        case_id = session.scalar(select(Case.id).where(Case.ref == REF))
        completed = Counter(e.data["task_id"] for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "task_completed", AuditEvent.case_id == case_id)))
        assert len(completed) == 6 and set(completed.values()) == {1}  # six tasks, each completed once
        done = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.state == "completed", HumanTask.case_id == case_id))
        assert done == 6
        escalations = Counter(session.scalars(select(Case.ref).join(AuditEvent, AuditEvent.case_id == Case.id)
                                              .where(AuditEvent.action == "escalated")))
        assert escalations == dict.fromkeys(RACED, 1)  # each late consent alerted a manager once
    assert not [s for s in m.statuses if s[2] >= 500], m.statuses
    for name in m.processes:  # every document is in the database, none on any machine's disk
        documents = tmp_path / name / "documents"
        assert not documents.exists() or not any(p.is_file() for p in documents.rglob("*")), name
        assert "Traceback" not in m.log(name), m.log(name)


def _fired(env: Env) -> dict[str, int]:
    with env.uow() as session:
        return dict(Counter(session.scalars(select(Case.ref).join(AuditEvent, AuditEvent.case_id == Case.id)
                                            .where(AuditEvent.action == "timers_fired",
                                                   Case.ref.in_(RACED)))))
