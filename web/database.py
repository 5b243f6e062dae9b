"""One database session per request: the request is the unit of work and commits once, at its end.

A GET or HEAD only reads (and records what it showed): on SQLite it reads from a WAL snapshot that never
waits for a writer, and writes its audit events afterwards in one short transaction (``workflow.db``
``read_session``), so a page answers during a long import or bulk job instead of failing with "locked".

A task completion (a view marked ``writes_late``) reads and runs the process engine on such a snapshot too, and
takes SQLite's one writer only at its first write (``workflow.db`` ``late_write_session``): the instance's
version-checked UPDATE then stops a completion whose instance another one changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session

from workflow.db import (
    engine_for,
    held_back,
    late_write_session,
    read_session,
    session_factory,
    write_held_back,
    write_held_back_later,
)

READ_METHODS = ("GET", "HEAD")
View = TypeVar("View", bound=Callable[..., Any])
# In the request itself the held-back writes wait a second and a half for the lock at most; then the page
# answers and a background thread keeps trying (long jobs commit in batches: the lock comes free between two).
WAIT_IN_REQUEST_MS = 1500


def _engine():  # type: ignore[no-untyped-def]
    return engine_for(current_app.config["PETITIO_SETTINGS"].database_url)


def db() -> Session:
    if "db_session" not in g:
        engine = _engine()
        if request.method in READ_METHODS:
            g.db_session = read_session(engine)
        elif getattr(current_app.view_functions.get(str(request.endpoint)), WRITES_LATE, False):
            g.db_session = late_write_session(engine)
        else:
            g.db_session = session_factory(engine)()
    return g.db_session


WRITES_LATE = "petitio_writes_late"


def writes_late(view: View) -> View:
    """This view's POST runs on ``workflow.db.late_write_session``: on SQLite it reads and computes on a snapshot
    and holds the one writer's lock only for its writes. Only for views whose writes are version-checked (task
    completions: see late_write_session). Put it just under the route, so that the registered function has it."""
    setattr(view, WRITES_LATE, True)
    return view


def read_only_from_now() -> None:
    """The rest of this request reads from a snapshot: its write transaction failed (the database was busy),
    and the answer page must still find the signed-in user without waiting for the writer's lock again."""
    session = g.pop("db_session", None)
    if session is not None:
        # The signed-in user as read (the answer page shows their name and menu), kept out of the rollback, which
        # would expire it: a late writer (a task completion) read it before its write found the database busy.
        actor = g.get("actor")
        if actor is not None and actor in session:
            session.expunge(actor)
        session.rollback()
        session.close()
    g.db_session = read_session(_engine())


def keep_despite_error_status() -> None:
    """Commit this request even though it answers with an error status.

    For a page that refuses input (422) after rolling the refused change back, but has since recorded
    something that must stay: the audit event of identity fields it shows again.
    """
    g.db_commit_on_error = True


def init_app(app: Flask) -> None:
    @app.after_request
    def finish_unit_of_work(response: Response) -> Response:
        session = g.pop("db_session", None)
        if session is None:
            return response
        try:
            if response.status_code < 400 or g.pop("db_commit_on_error", False):
                session.commit()  # reads commit too: their audit events must be kept
                held = held_back(session)  # a read on SQLite: its snapshot is closed, now its writes
                if held and not write_held_back(_engine(), held, attempts=1, wait_ms=WAIT_IN_REQUEST_MS):
                    write_held_back_later(_engine(), held)
            else:
                session.rollback()
        finally:
            session.close()
        return response

    @app.teardown_request
    def close_on_error(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:  # after_request did not run (an exception escaped)
            session.rollback()
            session.close()
