"""The day's work in a browser: a spreadsheet of appeals to a submitted collective complaint and urgent appeals.

One intake clerk, one legal officer and one manager, each at their own Chromium, drive a fresh Petitio the way a
person does (bench/journey_stage.py counts every click, key press that submits, field and file chosen):

  clerk    signs in, imports the episodes file, imports the appeals spreadsheet and the zip of scans (preview,
           then confirm), requests the missing documents of the appeals that lack one, then verifies consent
           in the consent queue, one key press per case, every document shown in the page;
  officer  reviews the urgent cases (detained now) for the UN Special Procedures, then every other case for the
           collective complaint only, in two bulk reviews;
  manager  approves the urgent reviews in one bulk approval;
  officer  opens the collective complaint for every case that may be included, checks the four filings at once;
  manager  approves the collective complaint;
  clerk    downloads the collective complaint and records the four submissions at once.

Prints the page actions per person and in total (target: at most 200 for 150 appeals), the consent documents the
browser displayed, and the wall time and the server's share of it.

    .venv/bin/python bench/journey.py                 # 150 appeals, SQLite
    BENCH_N=30 .venv/bin/python bench/journey.py      # the CI size
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_journey .venv/bin/python bench/journey.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from journey_data import Batch, write_batch  # bench/ is on the path: `make bench` runs the scripts by file
from journey_stage import CHROMIUM, Person, actions_by_role, stage
from sqlalchemy import create_engine, text

N = int(os.environ.get("BENCH_N", "150"))
CLERK, OFFICER, MANAGER = "clerk", "officer", "boss"


@dataclass
class Outcome:
    actions: dict[str, int]
    total: int
    documents_shown: int
    documents_expected: int
    wall_seconds: float
    server_seconds: float
    submitted_filings: int
    collective_cases: int


def _fresh_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def clerk_imports(clerk: Person, batch: Batch) -> None:
    clerk.click("nav a[href='/episodes']")
    clerk.choose_files("input[name=file]", batch.episodes_csv)
    clerk.click("form[action='/episodes/import'] button[type=submit]")
    clerk.click("nav a[href='/imports/appeals']")
    clerk.choose_files("input[name=spreadsheet]", batch.appeals_csv)
    clerk.choose_files("input[name=documents]", batch.documents_zip)
    clerk.click("form[action='/imports/appeals'] button[type=submit]")
    clerk.click("form[action='/imports/appeals/confirm'] button[type=submit]")
    clerk.wait_until_finished()


def clerk_verifies_consent(clerk: Person, batch: Batch) -> None:
    clerk.click("nav a[href='/consent/queue']")
    if batch.appeals > batch.complete:
        clerk.click("form.cq-bulk button[type=submit]")
        clerk.wait_until_finished()
        clerk.click("a[href^='/consent/queue']")
    while clerk.page.locator("button[data-key=v]:not([disabled])").count():
        clerk.press("v")


def officer_reviews(officer: Person, batch: Batch) -> None:
    officer.click("nav a[href='/tasks']")
    if batch.detained:
        officer.select("select[name=urgent]", "true")
        officer.click("form.filters button[type=submit]")
        officer.click("a[href^='/bulk/review']")
        officer.check("input[name=decision][value=approve]")
        officer.check("input[name=bodies][value=un_sp]")
        officer.check("input[name=mandates][value=assembly]")
        officer.check("input[name=grounds][value=iccpr_9]")  # urgent cases go as urgent appeals by default
        officer.click("form.bulk-form button[type=submit]")
        officer.wait_until_finished()
        officer.click("nav a[href='/tasks']")
    officer.click("a[href^='/bulk/review']")
    officer.check("input[name=decision][value=approve]")
    officer.check("input[name=grounds][value=iccpr_21]")
    officer.click("form.bulk-form button[type=submit]")
    officer.wait_until_finished()


def manager_approves_reviews(manager: Person) -> None:
    manager.click("nav a[href='/tasks']")
    manager.click("a[href^='/bulk/approve']")
    manager.check("input[name=decision][value=approve]")
    manager.click("form.bulk-form button[type=submit]")
    manager.wait_until_finished()


COMPLAINT_TEXT = {
    "summary": "Supporters of a peaceful movement were detained at rallies throughout 2022.",
    "legal_basis": "A district court declared the movement extremist.",
    "context": "The movement campaigns peacefully for free elections.",
    "methods": "Detention at rallies, phone searches, fingerprinting.",
    "patterns": "Interrogations about political views.",
    "pressure_on_defenders": "Lawyers who took the cases were warned.",
    "requests": "Ask the government to release those detained and drop the charges.",
}


def officer_opens_the_collective_complaint(officer: Person) -> None:
    officer.click("nav a[href='/collective']")
    officer.click("a[href='/collective/new']")
    officer.fill("input[name=title]", "Mass detentions of peaceful protesters, 2022")
    officer.select("select[name=body]", "ep_droi")
    officer.check("input[name=all_cases]")
    # Every section written: one still "to be completed" would block the check and the manager's approval.
    for section, wording in COMPLAINT_TEXT.items():
        officer.fill(f"textarea[name=narrative_{section}]", wording)
    officer.click("form.collective-form button[type=submit]")


def complete_all(person: Person, task: str, fields: list[tuple[str, ...]]) -> None:
    """From My tasks: the task kind's chip (unless every waiting task is of that kind), "complete all N", the one
    form, send."""
    person.click("nav a[href='/tasks']")
    every_one = f"a[href^='/bulk/complete'][href*='task={task}']"
    if not person.sees(every_one):
        person.click(f"nav.chips a[href*='task={task}']")
    person.click(every_one)
    for how, *where in fields:
        getattr(person, how)(*where)
    person.click("form.bulk-form button[type=submit]")
    person.wait_until_finished()


def _the_day(batch: Batch, clerk: Person, officer: Person, manager: Person) -> None:
    for person in (clerk, officer, manager):
        person.sign_in()
    clerk_imports(clerk, batch)
    clerk_verifies_consent(clerk, batch)
    officer_reviews(officer, batch)
    if batch.detained:
        manager_approves_reviews(manager)
    officer_opens_the_collective_complaint(officer)
    complete_all(officer, "check_filing", [("check", "input[name=decision][value=approve]")])
    complete_all(manager, "approve_filing", [("check", "input[name=decision][value=approve]")])
    complete_all(clerk, "submit_filing", [("fill", "input[name=submitted_on]", date.today().isoformat()),
                                          ("select", "select[name=channel]", "email")])


def run(n: int, database_url: str | None, *, shots: Path | None = None, browser: Any = None) -> Outcome:
    """The journey on ``n`` appeals; ``browser``: a Chromium already launched through Playwright (the tests'),
    else one is launched here."""
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                return run(n, database_url, shots=shots, browser=launched)
            finally:
                launched.close()
    folder = Path(tempfile.mkdtemp(prefix="petitio-journey-data-"))
    batch = write_batch(folder, n)
    if database_url:
        _fresh_postgres(database_url)
    tally: Counter[str] = Counter()
    with stage(database_url) as the_stage:
        started = time.monotonic()
        clerk, officer, manager = (Person(browser, the_stage.base, who, tally) for who in (CLERK, OFFICER, MANAGER))
        try:
            _the_day(batch, clerk, officer, manager)
        except Exception:
            failed = Path(os.environ.get("JOURNEY_SHOTS") or the_stage.home)
            for person in (clerk, officer, manager):
                person.page.screenshot(path=str(failed / f"failed-{person.username}.png"), full_page=True)
            print(f"the journey stopped; screenshots in {failed}", file=sys.stderr)
            raise
        wall = time.monotonic() - started
        if shots:
            clerk.page.screenshot(path=str(shots / "journey-submitted.png"), full_page=True)
        server = sum(p.server_seconds for p in (clerk, officer, manager))
        shown = len(clerk.documents_seen)
        for person in (clerk, officer, manager):
            person.close()
    submitted, collective_cases = _count(the_stage.environ)
    by_role = actions_by_role(tally)
    return Outcome(by_role, sum(by_role.values()), shown, 2 * batch.complete, wall, server, submitted,
                   collective_cases)


def _count(environ: dict[str, str]) -> tuple[int, int]:
    """What the day produced, read back through the command line's own database settings (not a step of it)."""
    from workflow.config import load_settings
    from workflow.db import make_engine

    settings = load_settings(environ)
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        submitted = conn.scalar(text("SELECT count(*) FROM filings WHERE submitted_on IS NOT NULL"))
        cases = conn.scalar(text("SELECT count(*) FROM collective_cases"))
    engine.dispose()
    return int(submitted or 0), int(cases or 0)


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    outcome = run(N, url)
    backend = "PostgreSQL" if url else "SQLite"
    print(f"journey: {N} appeals on {backend}")
    for who, count in sorted(outcome.actions.items()):
        print(f"  {who:8} {count:4d} page actions")
    print(f"page actions, total: {outcome.total} (target: at most 200 for 150 appeals)")
    print(f"consent documents displayed: {outcome.documents_shown} of {outcome.documents_expected}")
    print(f"filings submitted: {outcome.submitted_filings}; cases in the collective complaint: "
          f"{outcome.collective_cases}")
    print(f"wall time {outcome.wall_seconds:.1f} s, of which the server answered for {outcome.server_seconds:.1f} s")


if __name__ == "__main__":
    main()
