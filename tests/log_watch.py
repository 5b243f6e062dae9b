"""The logs of a test run hold no identity, note, password or token: every record of the session, at DEBUG, goes to
a file of its own, which is scanned when the session ends (tests/conftest.py wires it; each pytest process, e.g.
each half of a split run, writes and scans its own file). A line holding a marker fails the run and is printed.

The markers are the fictional people, notes and passwords the fixtures type (tests/helpers.py,
tests/workflow/fixtures.py, tests/conftest.py), and every secret a test was given (``remember``: the API tokens
and calendar links the fixtures issue), and anything shaped like one of our tokens.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Texts the fixtures enter; none of them may reach a log line.
MARKERS = (
    "Aigerim Testova",  # tests/helpers.appeal: the complainant
    "Detained at the square during a peaceful rally",  # ... and what happened to them
    "Test-Person ", "Тестовая Персона", "Тестовый Персонаж", "test-person-", "+7 000 000 ",  # workflow/fixtures.py
    "+7 700 000 0000", "N0012345", "Officer Fictional",  # phone, passport and perpetrator of the web tests
    "correct horse battery",  # the staff's password (tests/conftest.py)
)
# API tokens (pt_) and calendar secrets (pc_): 32 random bytes, URL-safe; a redacted one reads [redacted].
TOKEN_SHAPE = re.compile(r"\bp[tc]_[A-Za-z0-9_-]{40,}")
_issued: set[str] = set()


def remember(secret: str) -> str:
    """A secret a test was given (a token, a link): the logs must not hold it. Returns it."""
    _issued.add(secret)
    return secret


def offending_lines(path: Path, markers: Iterable[str] = MARKERS, secrets: Iterable[str] = ()) -> list[str]:
    """The lines of the log at ``path`` that hold a marker, a given secret, or a token-shaped string."""
    needles = [m.lower() for m in (*markers, *secrets, *_issued) if m]  # "aigerim testova" typed in lower case too
    found = []
    with path.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            if any(needle in line.lower() for needle in needles) or TOKEN_SHAPE.search(line):
                found.append(line.rstrip("\n"))
    return found


class SessionLog:
    """A DEBUG handler on the root logger for the whole session, writing to a file of this process."""

    def __init__(self) -> None:
        handle, name = tempfile.mkstemp(prefix="petitio-test-log-", suffix=".log")
        os.close(handle)
        self.path = Path(name)
        self.handler = logging.FileHandler(self.path, encoding="utf-8")
        self.handler.setLevel(logging.DEBUG)
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        self.previous_level = root.level
        root.addHandler(self.handler)
        root.setLevel(logging.DEBUG)

    def close(self) -> list[str]:
        """Detach, and return the offending lines (the file is kept when there are some, removed otherwise)."""
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self.previous_level)
        self.handler.close()
        if not self.path.exists():  # removed during the run: nothing proves the run clean
            return [f"the log of this run is missing: {self.path}"]
        found = offending_lines(self.path)
        if not found:
            self.path.unlink(missing_ok=True)
        return found
