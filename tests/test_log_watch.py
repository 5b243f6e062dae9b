"""The scanner of the run's logs (tests/log_watch.py) finds what it must: a test that can fail."""

from __future__ import annotations

import logging

from tests import log_watch


def test_a_planted_identity_token_or_remembered_secret_is_found_and_a_clean_log_passes(tmp_path) -> None:
    log = tmp_path / "run.log"
    secret = "s3cret-link-" + "q" * 10
    log_watch.remember(secret)
    log.write_text("\n".join([
        "2026-12-06 INFO web: case APL-1 opened",
        "2026-12-06 INFO werkzeug: \"GET /calendar/[redacted].ics HTTP/1.1\" 200 -",
        "2026-12-06 ERROR petitio: refused: Aigerim Testova APL-1 already exists",
        "2026-12-06 DEBUG x: Authorization: Bearer pt_" + "A" * 43,
        f"2026-12-06 INFO y: feed {secret}",
    ]) + "\n", encoding="utf-8")
    found = log_watch.offending_lines(log)
    assert [line.split(" ", 3)[2] for line in found] == ["petitio:", "x:", "y:"]
    clean = tmp_path / "clean.log"
    clean.write_text("2026-12-06 INFO web: case APL-1 opened\n", encoding="utf-8")
    assert log_watch.offending_lines(clean) == []


def test_the_session_log_records_debug_lines_of_any_logger() -> None:
    """The scan reads what every logger wrote at any level during the run (this process's file)."""
    watch = log_watch.SessionLog()
    try:
        logging.getLogger("workflow.anything").debug("a harmless debug line %s", 42)
    finally:
        watch.handler.flush()
        text = watch.path.read_text(encoding="utf-8")
        assert watch.close() == []
    assert "a harmless debug line 42" in text
