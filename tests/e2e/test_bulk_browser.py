"""In a real browser, on a server of its own (not the shared demo): a legal officer applies one review to 55
cases, more than are done at once, so the worker does the job while the page shows a progress bar (polled by
web/static/bulk-progress.js under the strict CSP); the page then lists the results and leads to a collective
complaint from these cases."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from journey_stage import second_factor_step

from tests.conftest import Env
from tests.e2e.conftest import PETITIO, clean_environ, serving
from tests.second_factor import TOTP_SECRET
from tests.workflow.test_bulk import open_verified
from workflow.config import load_settings
from workflow.db import make_engine
from workflow.services import jobs, two_factor
from workflow.services.install import initialise
from workflow.services.users import add_user

PASSWORD = "correct horse battery"
CASES = jobs.INLINE_LIMIT + 5


@pytest.fixture(scope="module")
def bulk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("e2e-bulk-home")
    settings = load_settings({"PETITIO_HOME": str(home)})
    engine = make_engine(settings.database_url)
    initialise(engine, settings)
    env = Env(settings, engine, "sqlite")
    with env.uow() as session:
        for username, role in (("ina", "intake"), ("lena", "legal")):
            user = add_user(session, None, username, role, full_name=username.title(), password=PASSWORD)
        two_factor.enrol_known_secret(session, None, user, TOTP_SECRET)  # lena's authenticator
    open_verified(env, CASES)
    engine.dispose()
    environ = clean_environ(home)
    with serving(home, environ) as base:
        yield base, environ


def test_a_bulk_review_runs_in_the_worker_with_a_progress_bar(bulk_server, browser, shoot):
    base, environ = bulk_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login")
    page.fill("#username", "lena")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    second_factor_step(page, base, "lena", TOTP_SECRET)
    page.wait_for_url(re.compile(r"/tasks$"))

    page.goto(f"{base}/bulk/review")
    assert f"All {CASES} tasks of this kind" in page.inner_text("main")
    form = page.locator("form.bulk-form")
    form.locator("input[name=scope][value=all]").check()
    form.locator("input[name=decision][value=approve]").check()
    form.locator("input[name=grounds][value=iccpr_21]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/bulk/jobs/\d+$"))
    assert f"0 of {CASES} done" in page.inner_text("#job-counts")
    shoot(page, "bulk-01-progress")

    # The worker does the job; the page, polling, reloads itself with the results.
    subprocess.run([str(PETITIO), "worker", "--once"], env=environ, check=True, capture_output=True, timeout=300)
    page.wait_for_selector("main h2:has-text('Done')", timeout=30_000)
    assert f"{CASES} of {CASES} done" in page.inner_text("#job-counts")
    shoot(page, "bulk-02-results")

    page.click("text=Collective complaint from these cases")
    page.wait_for_url(re.compile(r"/collective/new\?job=\d+$"))
    assert f"{CASES} cases of your selection are ticked below" in page.inner_text("main")
    assert page.locator("input[name=cases]:checked").count() == CASES
    assert problems == []  # no script error, no CSP violation
    context.close()
