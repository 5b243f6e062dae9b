"""In a real browser: My tasks as a work queue (counts per kind, a filter, claim and release) and the header's
search box. Reads and claims only: the demo cases stay where the other browser tests expect them."""

from __future__ import annotations

import re

from tests.e2e.test_review_flow import sign_in


def test_the_queue_filters_claims_and_searches(server, browser, shoot):
    intake = sign_in(browser, server, "dana")
    chip = intake.locator("nav.chips a", has_text="Verify consent")
    count = int(chip.locator(".count").inner_text())
    chip.click()
    intake.wait_for_url(re.compile(r"/tasks\?task=verify_consent"))
    rows = intake.locator("table.tasks tbody tr")
    assert rows.count() == min(count, 50) and count > 1
    assert intake.locator("select#f-task").input_value() == "verify_consent"
    shoot(intake, "10-queue-verify-consent")
    # Claim the last task of the page (not APL-007, which the review flow completes), then give it back.
    last = rows.last
    ref = last.locator("td a").first.inner_text()
    assert ref != "APL-007"
    last.locator("button", has_text="Claim").click()
    intake.wait_for_load_state()
    assert intake.url.endswith("/tasks?task=verify_consent")
    held = intake.locator("table.tasks tbody tr", has=intake.locator(f"a:text-is('{ref}')"))
    assert held.locator(".assignee").inner_text().strip() != ""
    shoot(intake, "11-queue-claimed")
    held.locator("button", has_text="Release").click()
    intake.wait_for_load_state()
    held = intake.locator("table.tasks tbody tr", has=intake.locator(f"a:text-is('{ref}')"))
    assert held.locator("button", has_text="Claim").count() == 1
    # The search box of every page: a reference opens the case; Enter sends it.
    intake.fill("header form.search input[name=q]", ref.lower())
    intake.press("header form.search input[name=q]", "Enter")
    intake.wait_for_url(re.compile(f"/cases/{ref}$"))
    assert intake.locator("h1").inner_text() == ref
    assert intake.locator("input[name=and_next][accesskey=n]").count() == 1
