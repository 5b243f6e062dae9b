"""In a real browser: intake verifies consent, a legal officer reviews (correcting a validation error on
the way), a manager approves. Screenshots of each page go to test-artifacts/screenshots/."""

from __future__ import annotations

import re

from journey_stage import second_factor_step

from tests.e2e.conftest import DEMO_PASSWORD
from workflow.services.demo import demo_totp_secret

REF = "APL-007"  # a demo case waiting at verify_consent with both documents


def sign_in(browser, server: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    second_factor_step(page, server, username, demo_totp_secret(username))
    page.wait_for_url(re.compile(r"/tasks$"))
    return page


def stage_of(page) -> str:  # type: ignore[no-untyped-def]
    return page.inner_text(".case-meta .stage").strip()


def test_consent_review_and_approval_in_the_browser(server, browser, shoot):
    # Intake staff: the case is in their tasks; they verify both documents.
    intake = sign_in(browser, server, "dana")
    assert REF in intake.inner_text("main")
    shoot(intake, "01-intake-my-tasks")
    intake.click(f"main a:text-is('{REF}')")
    intake.wait_for_url(re.compile(f"/cases/{REF}"))
    assert stage_of(intake) == "Consent"
    shoot(intake, "02-intake-case-verify-consent")
    form = intake.locator("form.task-form")
    form.locator("input[name=form_of_appeal_verified]").check()
    form.locator("input[name=power_of_attorney_verified]").check()
    with intake.expect_navigation():  # the answer page, not the one the click left
        form.locator("button[type=submit]").click()
    assert stage_of(intake) == "Legal review"
    assert intake.locator(".flash").count() == 1
    shoot(intake, "03-intake-consent-verified")
    intake.context.close()

    # Legal officer: rejecting without a reason is refused next to the field; then the review is done.
    legal = sign_in(browser, server, "lara")
    legal.goto(f"{server}/cases/{REF}")
    form = legal.locator("form.task-form")
    form.locator("input[name=decision][value=reject]").check()
    with legal.expect_navigation():  # the answer page, not the one the click left
        form.locator("button[type=submit]").click()
    error = legal.locator("form.task-form .field-error")
    assert error.count() == 1 and "reason" in error.inner_text()
    assert legal.locator("form.task-form textarea[name=notes]").get_attribute("aria-invalid") == "true"
    assert legal.locator("input[name=decision][value=reject]").is_checked()  # nothing typed was lost
    shoot(legal, "04-legal-review-validation-error")
    # The admissibility table shows the WGAD's needs; the officer records the detention as a legal fact.
    assert legal.locator("#legal-facts").count() == 1
    facts = legal.locator("form.facts-form")
    facts.locator("input[name=facts-deprived_of_liberty]").check()
    with legal.expect_navigation():  # the answer page, not the one the click left
        facts.locator("button[type=submit]").click()
    assert legal.locator("form.facts-form input[name=facts-deprived_of_liberty]").is_checked()
    form = legal.locator("form.task-form")
    form.locator("input[name=decision][value=approve]").check()
    form.locator("input[name=bodies][value=un_wgad]").check()
    form.locator("input[name=grounds][value=iccpr_9]").check()
    form.locator("input[name=grounds][value=iccpr_21]").check()
    form.locator("textarea[name=notes]").fill("Detention for a peaceful assembly.")
    with legal.expect_navigation():  # the answer page, not the one the click left
        form.locator("button[type=submit]").click()
    error = legal.locator("form.task-form .field-error")  # a blocking check: the WGAD needs a category
    assert error.count() == 1 and "Working Group on Arbitrary Detention" in error.inner_text()
    assert "category of arbitrary detention" in legal.inner_text("table.admissibility")
    assert stage_of(legal) == "Legal review"
    shoot(legal, "05-legal-review-admissibility-error")
    form = legal.locator("form.task-form")
    form.locator("input[name=wgad_categories][value=II]").check()
    with legal.expect_navigation():  # the answer page, not the one the click left
        form.locator("button[type=submit]").click()
    assert stage_of(legal) == "Approval"
    shoot(legal, "06-legal-review-done")
    legal.context.close()

    # Manager: four eyes, a different person approves.
    manager = sign_in(browser, server, "maria")
    assert REF in manager.inner_text("main")
    shoot(manager, "07-manager-my-tasks")
    manager.goto(f"{server}/cases/{REF}")
    form = manager.locator("form.task-form")
    form.locator("input[name=decision][value=approve]").check()
    with manager.expect_navigation():  # the answer page, not the one the click left
        form.locator("button[type=submit]").click()
    assert stage_of(manager) == "Filing"
    shoot(manager, "08-manager-approved")
    manager.context.close()
