"""One database session per request: the request is the unit of work and commits once, at its end."""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

from workflow.db import engine_for, session_factory


def db() -> Session:
    if "db_session" not in g:
        engine = engine_for(current_app.config["PETITIO_SETTINGS"].database_url)
        g.db_session = session_factory(engine)()
    return g.db_session


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
