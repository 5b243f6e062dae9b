"""The day's work on 30 appeals in Chromium, as bench/journey.py does it on 150: the import from the page, the
consent queue, a bulk review, a bulk approval, a collective complaint and the submissions, on a fresh Petitio
(its own server and worker) on SQLite and on PostgreSQL (a database of its own beside the tests')."""

from __future__ import annotations

from pathlib import Path

import journey  # bench/, a folder of scripts, is on the path (tests/e2e/conftest.py)
import pytest
from journey_data import write_batch
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, PG_URL

N = 30


def _journey_database() -> str:
    """A database of its own on the tests' server: the journey recreates its schema from scratch."""
    url = make_url(PG_URL or "")
    name = f"{url.database}_journey"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_thirty_appeals_from_the_spreadsheet_to_the_submitted_complaint(backend: str, tmp_path: Path,
                                                                        browser: object) -> None:
    batch = write_batch(tmp_path / "expected", N)
    outcome = journey.run(N, _journey_database() if backend == "postgresql" else None, shots=tmp_path,
                          browser=browser)
    # Every consent document was shown to the clerk in the page, one key press per case.
    assert outcome.documents_shown == outcome.documents_expected == 2 * batch.complete
    # One key press per case, plus a fixed 21: signing in, episodes, the import, the queue, the submissions.
    assert outcome.actions["clerk"] <= batch.complete + 21
    # The urgent appeals and the collective complaint, every case with its consent in it.
    assert outcome.submitted_filings == len(batch.detained) + 1
    assert outcome.collective_cases == batch.complete
    # The bulk steps do not grow with the number of cases: the officer's and the manager's work is the same
    # for 30 appeals as for 150. Each of them also sets up the second factor at the first sign-in once (the code
    # typed, confirmed, the recovery codes acknowledged: 3 actions each).
    assert outcome.actions["officer"] + outcome.actions["boss"] <= 50 + 2 * 3
