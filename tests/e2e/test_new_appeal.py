"""In a real browser: intake registers a new appeal with both consent documents from the navigation, is told what
to correct, and lands on the new case; then corrects the complainant's details from the case page."""

from __future__ import annotations

import re

from tests.e2e.test_review_flow import sign_in
from tests.helpers import PDF

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
REF = "KZ-E2E-001"


def test_new_appeal_in_the_browser(server, browser, shoot):
    page = sign_in(browser, server, "dana")
    page.click("nav a:text-is('New appeal')")
    page.wait_for_url(re.compile(r"/appeals/new$"))
    form = page.locator("main form")
    form.locator("input[name=ref]").fill(REF)
    form.locator("input[name=full_name]").fill("Asel Testova")
    form.locator("input[name=city]").fill("Almaty")
    form.locator("input[name=episodes]").first.check()
    form.locator("input[name=incident_types]").first.check()
    form.locator("input[name=incident_date]").fill("2022-01-05")
    form.locator("textarea[name=description]").fill("Detained at the square during a peaceful rally.")
    form.locator("input[name=consent_publish_name][value=no]").check()
    form.locator("input[name=received_on]").fill("2022-03-01")
    form.locator("input[name=email]").fill("not an address")  # refused next to the field, nothing lost
    form.locator("input[name=detained_now]").check()
    form.locator("input[name=form_of_appeal]").set_input_files(
        {"name": "form-of-appeal.pdf", "mimeType": "application/pdf", "buffer": PDF})
    form.locator("input[name=power_of_attorney]").set_input_files(
        {"name": "power-of-attorney.png", "mimeType": "image/png", "buffer": PNG})
    shoot(page, "intake-01-new-appeal")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#email-error")
    assert page.locator("input[name=email]").get_attribute("aria-invalid") == "true"
    assert "e-mail" in page.inner_text("#email-error")
    assert page.locator("input[name=full_name]").input_value() == "Asel Testova"
    shoot(page, "intake-02-new-appeal-refused")

    form = page.locator("main form")
    form.locator("input[name=email]").fill("asel@example.org")
    # Files are never sent back by a browser: choose them again.
    form.locator("input[name=form_of_appeal]").set_input_files(
        {"name": "form-of-appeal.pdf", "mimeType": "application/pdf", "buffer": PDF})
    form.locator("input[name=power_of_attorney]").set_input_files(
        {"name": "power-of-attorney.png", "mimeType": "image/png", "buffer": PNG})
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(f"/cases/{REF}$"))
    assert page.inner_text("h1").strip() == REF
    assert page.locator(".case-meta .urgent").count() == 1
    assert "Asel Testova" in page.inner_text("#h-person + *, section[aria-labelledby=h-person]")
    documents = page.inner_text("section[aria-labelledby=h-documents]")
    assert "form-of-appeal.pdf" in documents and "power-of-attorney.png" in documents
    shoot(page, "intake-03-case-opened")

    # The intake task says the details can be corrected, and they can.
    page.locator("article.task a:text-is(\"Edit the complainant's details\")").click()
    page.wait_for_url(re.compile(f"/cases/{REF}/complainant$"))
    page.locator("input[name=occupation]").fill("Journalist")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(f"/cases/{REF}$"))
    assert "Journalist" in page.inner_text("section[aria-labelledby=h-person]")
    # The correction is in the case's history, a link away.
    page.locator("section[aria-labelledby=h-history] a:text-is(\"History\")").click()
    page.wait_for_url(re.compile(f"/cases/{REF}/history#h-history$"))
    assert "Complainant's details corrected" in page.inner_text("section[aria-labelledby=h-history]")
    page.context.close()
