"""Every benchmark runs once, tiny, so that none can rot: the figures come from `make bench`, never from here.

Each program runs as `make bench` runs it (a script in `bench/`, its folder first on the path), on SQLite in a
temporary folder; the test asserts only that it finished and printed its figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
TINY = {"BENCH_N": "3", "BENCH_RUNS": "1", "BENCH_CASES": "60", "BENCH_WAITING": "5"}
# What each program prints once its measurements are done.
PRINTS = {
    "task_cycle.py": "ratio (median)",
    "render_filings.py": "collective complaint, 3 complainants",
    "collective_from_db.py": "snapshot + render, median of 1",
    "worker.py": "tick: the same",
    "dashboard.py": "deadline_board, median of 1",
    "xlsx_read.py": "formatted-empty-rows.xlsx",
    "journey.py": "page actions, total",
    "http_load.py": "complete task: p99 at 16 clients",
    "import_appeals.py": "target: < 60 s",
    "follow_up_rounds.py": "ratio round",
}

# Modules the programs share (no program of their own).
SHARED = {"journey_data.py", "journey_stage.py"}


def test_every_benchmark_is_run_here() -> None:
    assert sorted(PRINTS) == sorted(path.name for path in BENCH.glob("*.py") if path.name not in SHARED)


@pytest.mark.parametrize("program", sorted(PRINTS))
def test_the_benchmark_runs_at_a_tiny_size(program: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "BENCH_DATABASE_URL"}
    env |= TINY | {"PETITIO_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path), "TZ": "UTC"}
    done = subprocess.run([sys.executable, str(BENCH / program)], env=env, cwd=BENCH.parent,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert PRINTS[program] in done.stdout, done.stdout
