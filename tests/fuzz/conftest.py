"""The API fuzz run's report: how many requests schemathesis generated per role, printed in every run's summary
(whatever `-s` or `-q` say), so that the CI log shows how much of the API was exercised."""

from __future__ import annotations

import pytest

# role -> {"requests": n, "seconds": wall clock, "cpu": this process's CPU seconds}; filled by
# test_schemathesis.py, read at the end of the session.
FUZZ_COUNTS: dict[str, dict[str, float]] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FUZZ_COUNTS:
        return
    terminalreporter.section("schemathesis: generated API requests")
    for role, counts in FUZZ_COUNTS.items():
        terminalreporter.write_line(f"{role}: {int(counts['requests'])} requests in {counts['seconds']:.1f} s "
                                    f"({counts['cpu']:.1f} s CPU)")
    total = sum(int(c["requests"]) for c in FUZZ_COUNTS.values())
    seconds = sum(c["seconds"] for c in FUZZ_COUNTS.values())
    cpu = sum(c["cpu"] for c in FUZZ_COUNTS.values())
    terminalreporter.write_line(f"total: {total} requests in {seconds:.1f} s ({cpu:.1f} s CPU)")
