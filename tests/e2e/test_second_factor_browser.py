"""In a real browser: an admin creates a legal officer, who must set up a second factor at the first sign-in (the
key read from the page and typed into "an app": pyotp here), is shown the recovery codes once, then signs in again
with a code, and with a recovery code that works once."""

from __future__ import annotations

import re

from journey_stage import fresh_code

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_review_flow import sign_in
from workflow.services.demo import demo_totp_secret

PASSWORD = "violet harbour lantern 1987"


def signed_out_sign_in(context, server: str, username: str):  # type: ignore[no-untyped-def]
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    return page


def sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/login"))


def test_a_legal_officer_sets_up_a_second_factor_and_signs_in_with_it(server, browser, shoot):
    admin = sign_in(browser, server, "admin")
    admin.goto(f"{server}/admin/users")
    admin.fill("#username", "olga")
    admin.fill("#full_name", "Olga Testlawyer")
    admin.select_option("#role", "legal")
    admin.fill("#password", PASSWORD)
    admin.click("section[aria-labelledby=h-new-user] button[type=submit]")
    admin.wait_for_load_state()
    assert "Account olga created." in admin.inner_text("main")

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = signed_out_sign_in(context, server, "olga")
    assert page.url.endswith("/login/enrol")
    # The password alone reaches nothing: the case list sends her back to sign in.
    page.goto(f"{server}/cases")
    assert "/login" in page.url and "Cases" not in page.inner_text("h1")
    page.goto(f"{server}/login/enrol")
    assert page.locator("figure.qr svg").count() == 1
    secret = page.inner_text("#totp-secret").strip()
    shoot(page, "second-factor-enrol")
    page.fill("#code", fresh_code(secret, server, "olga"))
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    codes = [c.strip() for c in page.locator("ul.recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    shoot(page, "second-factor-recovery-codes")
    page.click("#codes-continue")
    page.wait_for_url(re.compile(r"/tasks$"))
    page.goto(f"{server}/cases")
    assert page.url.endswith("/cases")
    sign_out(page)

    # Again, with a code from the app.
    page = signed_out_sign_in(context, server, "olga")
    assert page.url.endswith("/login/code")
    page.fill("#code", fresh_code(secret, server, "olga"))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks$"))
    sign_out(page)

    # A recovery code signs in once.
    for attempt in range(2):
        page = signed_out_sign_in(context, server, "olga")
        page.fill("#code", codes[0])
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        if attempt == 0:
            assert page.url.endswith("/tasks")
            sign_out(page)
        else:
            assert page.url.endswith("/login/code")
            assert "nor an unused recovery code" in page.inner_text("main")


def test_a_security_key_replaces_the_code(server, browser, shoot):
    """WebAuthn with Chromium's virtual authenticator (CDP): a manager adds a key on the account page, signs out,
    and signs in with the key instead of a code. A relying party is a host name: the test uses localhost."""
    base = server.replace("127.0.0.1", "localhost")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def password(username: str) -> None:
        page.goto(f"{base}/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r"/login/code$"))

    password("sergei")
    assert page.locator("#use-security-key").count() == 0  # no key yet: only the code
    page.fill("#code", fresh_code(demo_totp_secret("sergei"), base, "sergei"))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks$"))
    page.goto(f"{base}/account")
    page.fill("#security-key-name", "Blue key")
    page.click("#add-security-key")
    # A selector, never a JavaScript string: the page's CSP (no 'unsafe-eval') refuses Playwright's eval of one.
    page.wait_for_selector("ul.security-keys")
    assert "Blue key" in page.inner_text("ul.security-keys")
    shoot(page, "second-factor-security-key-added")
    sign_out(page)

    password("sergei")
    page.click("#use-security-key")
    page.wait_for_url(re.compile(r"/tasks$"))
    page.goto(f"{base}/cases")
    assert page.url.endswith("/cases")
    assert not [e for e in errors if "Content Security Policy" in e], errors
