"""The second factor in tests: a known TOTP secret for the staff whose role requires one, and a movable clock.

A code is accepted once per 30-second step, so a test that signs the same user in twice moves the app's clock
(``PETITIO_CLOCK``) a step on instead of sleeping.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp

from workflow.models import utcnow

# Fictional, fixed: what tests/conftest.py staff of the legal, manager and admin roles have in their app.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class MovableClock:
    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float = 0, **delta: float) -> None:
        self.at += timedelta(seconds=seconds, **delta)

    def next_code(self, secret: str = TOTP_SECRET) -> str:
        """Move to the next 30-second step and give the code an authenticator app shows there."""
        self.advance(30)
        return pyotp.TOTP(secret).at(self.at)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def pass_second_factor(client, response, clock: MovableClock, secret: str = TOTP_SECRET):  # type: ignore[no-untyped-def]
    """After the password's answer: type the current code when the code page is asked for; else the answer as is."""
    if response.status_code != 302 or not response.headers["Location"].startswith("/login/code"):
        return response
    page = client.get("/login/code").get_data(as_text=True)
    return client.post("/login/code", data={"code": clock.next_code(secret), "csrf_token": csrf_of(page)})
