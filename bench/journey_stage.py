"""The stage of the journey: a real Petitio (``petitio serve`` and ``petitio worker``) on its own SQLite or
PostgreSQL database, three staff accounts, and Chromium driven as a person drives it, counting every action.

An action is what a person does on a page: a click, a key press that submits, a field filled or chosen, a file
chosen. Waiting for a page or a progress bar is not an action. Nothing here writes to the database or calls the
API in place of a person's step; the only set-up outside the browser is what an operator does once on the
server (``petitio init`` and the three accounts).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp

CHROMIUM = "/usr/bin/chromium"
PETITIO = str(Path(sys.executable).with_name("petitio"))
PASSWORD = "journey-passphrase-2026"
STAFF = (("clerk", "intake", "Ivy Intakeson"), ("officer", "legal", "Leo Lawson"), ("boss", "manager", "Mia Manageson"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Stage:
    base: str
    home: Path
    environ: dict[str, str]


def clean_environ(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a Petitio of its own in ``home``: none of the caller's PETITIO_* or DATABASE_URL."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PETITIO_") and k != "DATABASE_URL"}
    environ.update(PETITIO_HOME=str(home), TZ="UTC", **extra)
    return environ


@contextmanager
def serving(home: Path, environ: dict[str, str], *, worker: bool = False) -> Iterator[str]:
    """``petitio serve`` (and ``petitio worker`` looping every second) on a free port; yields its base URL."""
    port = _free_port()
    log = (home / "serve.log").open("wb")
    processes = [subprocess.Popen([PETITIO, "serve", "--host", "127.0.0.1", "--port", str(port)], env=environ,
                                  stdout=log, stderr=subprocess.STDOUT)]
    if worker:
        processes.append(subprocess.Popen([PETITIO, "worker", "--interval", "1"], env=environ, stdout=log,
                                          stderr=subprocess.STDOUT))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, home, processes)
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        log.close()


@contextmanager
def stage(database_url: str | None = None) -> Iterator[Stage]:
    """A fresh Petitio with the three staff accounts, its web server and one worker looping every second."""
    home = Path(tempfile.mkdtemp(prefix="petitio-journey-"))
    environ = clean_environ(home, **({"DATABASE_URL": database_url} if database_url else {}))
    subprocess.run([PETITIO, "init"], env=environ, check=True, capture_output=True, timeout=300)
    for name, role, full_name in STAFF:
        subprocess.run([PETITIO, "users", "add", name, "--role", role, "--full-name", full_name], env=environ,
                       input=PASSWORD.encode(), check=True, capture_output=True, timeout=60)
    with serving(home, environ, worker=True) as base:
        yield Stage(base, home, environ)


def _wait_for(base: str, home: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                for process in processes:
                    process.kill()
                raise RuntimeError("petitio serve did not start: "
                                   + (home / "serve.log").read_text(errors="replace")[-3000:]) from None
            time.sleep(0.2)


# The last 30-second step whose code each (server, user) typed: a code is accepted once per step, and the server
# accepts the next step's code too, so a second sign-in within 30 s types that one instead of waiting.
_USED_STEPS: dict[tuple[str, str], int] = {}


def fresh_code(secret: str, base: str, username: str) -> str:
    current = int(time.time()) // 30
    step = max(current, _USED_STEPS.get((base, username), current - 1) + 1)
    if step > current + 1:
        raise RuntimeError(f"{username} signed in three times within 30 seconds: their codes are spent")
    _USED_STEPS[(base, username)] = step
    return pyotp.TOTP(secret).at(step * 30)


def second_factor_step(page: Any, base: str, username: str, secret: str | None,
                       act: Any = None) -> str | None:
    """After the password: set up the second factor when the page asks (the key read from the page, as a person
    types it into an app), or type the current code. Returns the key. ``act(kind)`` counts each action."""
    count = act or (lambda _kind: None)
    page.wait_for_load_state()
    path = urlsplit(page.url).path
    if path == "/login/enrol":
        secret = page.inner_text("#totp-secret").strip()
    if path in ("/login/enrol", "/login/code"):
        assert secret, f"{username} has a second factor whose key this script does not know"
        count("field")
        page.fill("#code", fresh_code(secret, base, username))
        count("click")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    if path == "/login/enrol":  # the recovery codes, shown once
        count("click")
        page.click("#codes-continue")
        page.wait_for_load_state()
    return secret


class Person:
    """One member of staff at their browser: every method is one counted action."""

    def __init__(self, browser: Any, base: str, username: str, tally: Counter[str]) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(120_000)
        self.base = base
        self.username = username
        self.tally = tally
        self.totp_secret: str | None = None  # read from the page when the second factor is set up
        self.server_seconds = 0.0
        self.documents_seen: set[str] = set()  # consent documents the browser loaded and displayed
        self.page.on("requestfinished", self._timed)

    def _timed(self, request: Any) -> None:
        timing = request.timing
        if timing.get("responseEnd", -1) >= 0 and timing.get("requestStart", -1) >= 0:
            self.server_seconds += max(0.0, timing["responseStart"] - timing["requestStart"]) / 1000
        # The consent queue shows each document in the page: a PDF in a frame, an image as an image.
        if "/consent/documents/" in request.url and request.resource_type in ("document", "image"):
            response = request.response()
            if response is not None and response.ok:
                self.documents_seen.add(request.url.split("?")[0])

    def _count(self, kind: str) -> None:
        self.tally[f"{self.username}:{kind}"] += 1

    # -- actions --------------------------------------------------------------------------------------------
    def open(self, path: str) -> None:
        """Typing an address (or following a bookmark): one action."""
        self._count("navigate")
        self.page.goto(self.base + path)

    def click(self, selector: str) -> None:
        self._count("click")
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state()

    def fill(self, selector: str, value: str) -> None:
        self._count("field")
        self.page.locator(selector).first.fill(value)

    def select(self, selector: str, *values: str) -> None:
        self._count("field")
        self.page.locator(selector).first.select_option(list(values))

    def check(self, selector: str) -> None:
        self._count("field")
        self.page.locator(selector).first.check()

    def choose_files(self, selector: str, *paths: Path) -> None:
        self._count("file")
        self.page.locator(selector).first.set_input_files([str(p) for p in paths])

    def press(self, key: str) -> None:
        """A key press that submits (a shortcut)."""
        self._count("key")
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def sign_in(self) -> None:
        self.open("/login")
        self.fill("input[name=username]", self.username)
        self.fill("input[name=password]", PASSWORD)
        self.click("form button[type=submit], form input[type=submit]")
        self.totp_secret = second_factor_step(self.page, self.base, self.username, self.totp_secret, self._count)

    def sees(self, selector: str) -> bool:
        """Looking at the page (no action)."""
        return self.page.locator(selector).count() > 0

    def wait_until_finished(self) -> None:
        """Wait (no action) for a job's progress page to say it is finished."""
        self.page.locator("[data-finished=true]").first.wait_for(timeout=600_000)
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()


def actions_by_role(tally: Counter[str]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for key, count in tally.items():
        totals[key.split(":", 1)[0]] += count
    return dict(totals)
