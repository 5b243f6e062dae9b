"""The Flask app: ``create_app`` composes the feature packages (each a blueprint with its routes, forms and
templates) and the JSON API, and installs what every request goes through (access, CSRF, errors, headers).

Views call the same ``workflow`` services as the command line; the request is the unit of work.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Response, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from limits.errors import StorageError
from marshmallow import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import filings.text as text_rule
from web import converters, database, dates, translate
from web.access import PUBLIC, rule_of
from web.auth.sessions import end_this_session, password_change_gate
from web.extensions import babel, csrf, current_locale, limiter, login_manager, select_locale, select_timezone
from web.labels import deadline_label, label, task_name
from web.logs import install_log_redaction
from web.messages import messages_of
from web.translate import gettext as _
from workflow import crypto, roles
from workflow.config import Settings, load_settings
from workflow.db import is_write_conflict
from workflow.errors import BpmnRefused, Conflict, Forbidden, NotFound, PetitioError, ValidationFailed
from workflow.i18n import CATALOGS, UI_LANGUAGES, language_name
from workflow.models import utcnow
from workflow.problems import Problem
from workflow.schemas.base import clean_text, problems_of
from workflow.services import two_factor

API_PREFIX = "/api/"
# Endpoints registered by Flask and flask-smorest themselves, which cannot carry a decorator.
PUBLIC_ENDPOINTS = frozenset({"static", "api-docs.openapi_json"})
SESSION_MINUTES = 30  # the cookie's own expiry; the server's record ends an idle session too (services/sessions.py)
STATUS_OF = {NotFound: 404, Forbidden: 403, Conflict: 409, ValidationFailed: 422, BpmnRefused: 422}


def _secret_key(settings: Settings) -> str:
    """From the environment, or generated once into PETITIO_HOME/keys (never in the repository)."""
    if os.environ.get("PETITIO_SECRET_KEY"):
        return os.environ["PETITIO_SECRET_KEY"]
    path = settings.keys_dir / "flask_secret_key"
    if not path.exists():
        settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or load_settings()
    crypto.configure(settings)  # identity fields are decrypted with this installation's keys
    app = Flask(__name__)
    app.config.update(
        PETITIO_SETTINGS=settings,
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="petitio_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=SESSION_MINUTES),  # idle timeout, renewed per request
        SESSION_REFRESH_EACH_REQUEST=True,
        REMEMBER_COOKIE_DURATION=timedelta(0),
        MAX_CONTENT_LENGTH=settings.max_document_bytes + 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which times out itself
        BABEL_TRANSLATION_DIRECTORIES=str(CATALOGS),  # the one catalog the worker's mails use too
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        PETITIO_CLOCK=utcnow,  # what "now" is for sessions; tests move it instead of sleeping
        RATELIMIT_HEADERS_ENABLED=True,
        API_TITLE="Petitio API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.config.update(overrides)
    if settings.proxy_hops:  # the client's address (throttling) and scheme as the trusted proxies saw them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops,  # type: ignore[method-assign]
                                x_proto=settings.proxy_hops)
    install_log_redaction()  # the calendar feed's secret never reaches a request log

    converters.install(app.url_map.converters)  # before any route: every <int:...> is bounded
    database.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    dates.init_app(app)  # after Babel: its datetimeformat and dateformat filters give way to ours
    translate.install(app)  # after Babel: its gettext callables give way to ours
    _register_blueprints(app)

    app.before_request(_enforce_access)
    app.before_request(_refuse_broken_text)
    app.after_request(_security_headers)
    _register_error_handlers(app)
    app.add_template_global(label)
    app.add_template_global(task_name)
    app.add_template_global(deadline_label)

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"current_locale": current_locale(), "roles": roles,
                "ui_languages": [(code, language_name(code, code)) for code in UI_LANGUAGES]}

    return app


def _register_blueprints(app: Flask) -> None:
    from web.account.routes import bp as account
    from web.account.tokens import bp as tokens
    from web.admin.catalogue import bp as catalogue
    from web.admin.organisation import bp as organisation
    from web.admin.routes import bp as admin
    from web.api import register_api
    from web.auth.routes import bp as auth
    from web.auth.second_factor import bp as second_factor
    from web.auth.security_keys import bp as security_keys
    from web.bulk.routes import bp as bulk
    from web.cases.routes import bp as cases
    from web.collective.routes import bp as collective
    from web.consent.routes import bp as consent
    from web.deadlines.routes import bp as deadlines
    from web.documents.routes import bp as documents
    from web.episodes.routes import bp as episodes
    from web.facts.routes import bp as facts
    from web.imports.routes import bp as imports
    from web.inbox.routes import bp as inbox
    from web.intake.routes import bp as intake
    from web.position.routes import bp as position
    from web.processes.migrate import bp as process_migration
    from web.processes.routes import bp as processes
    from web.repair.routes import bp as repair
    from web.review.routes import bp as review
    from web.submissions.routes import bp as submissions
    from web.tasks.routes import bp as tasks

    for blueprint in (auth, inbox, intake, cases, tasks, documents, consent, review, submissions, deadlines,
                      collective, admin, catalogue, organisation, episodes, bulk, account, imports,
                      facts, second_factor, security_keys, tokens, repair, processes, process_migration, position):
        app.register_blueprint(blueprint)
    register_api(app)


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def _enforce_access() -> Response | None:
    if request.endpoint is None:  # 404 and 405 are answered by the error handlers
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    rule = rule_of(current_app.view_functions.get(request.endpoint))
    if rule is None:
        abort(403)  # fail closed: a route nobody declared a rule for is reachable by nobody
    if rule == PUBLIC:
        return None
    if is_api_request():
        from web.api.auth import authenticate_bearer

        user = authenticate_bearer()
        if user is None:
            return _json_error(401, "unauthorized", "a valid bearer token is required")
        g.actor = user
    else:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if two_factor.needs_enrolment(database.db(), current_user):
            # Signed in before the role required a second factor, or an admin removed a lost one: sign in again,
            # which sets one up first.
            end_this_session()
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        session.permanent = True
        g.actor = current_user._get_current_object()
        if (gate := password_change_gate(g.actor)) is not None:
            return gate
    if g.actor.role not in rule:
        abort(403)
    return None


def _refuse_broken_text() -> None:
    """The character rule (``filings/text.py``) at the door, for what no schema field may see first.

    A query string is a filter, never free text: a control character or a broken one in it (a name or a value)
    is refused. A form's texts are each checked by their schema, next to their field; only what a database
    cannot store or even compare (a NUL: PostgreSQL refuses it in any parameter; a lone surrogate) is refused
    here, so that a field no schema checks (a search box, a user name at sign-in) never reaches the database
    with it. No person types either. Answers 422 like any refused input.
    """
    if request.endpoint is None or request.endpoint == "static":
        return
    errors: dict[str, Problem] = {}
    for name, value in request.args.items(multi=True):
        try:
            clean_text(name, multiline=False)
            clean_text(value, multiline=False)
        except ValidationError as err:
            errors[_shown_name(name)] = problems_of(err.messages)["_body"]
    # The API reads its bodies through its schemas (web/api/base.py), and a body read here as a form would be
    # gone for the parser that must refuse a body that is not JSON: pages only.
    for name, value in () if is_api_request() else request.form.items(multi=True):
        if text_rule.has_non_characters(name + value):
            errors[_shown_name(name)] = Problem("invalid_text")
        elif "\x00" in name + value:
            errors[_shown_name(name)] = Problem("control_characters", {"position": value.find("\x00") + 1 or 1})
    if errors:
        raise ValidationFailed("the request holds characters that are not text", errors=errors)


def _shown_name(name: str) -> str:
    """A parameter's name as an error may name it (a broken name is named by where it was)."""
    return name if name.isprintable() and not text_rule.has_non_characters(name) else "_query"


def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")  # case data must not linger in caches
    return response


def _json_error(status: int, code: str, message: str, errors: dict[str, str] | None = None) -> Response:
    response = jsonify(error=code, message=message, errors=errors or {})
    response.status_code = status
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(PetitioError)
    def service_error(err: PetitioError):  # type: ignore[no-untyped-def]
        status = next((s for cls, s in STATUS_OF.items() if isinstance(err, cls)), 400)
        if is_api_request():
            return _json_error(status, err.code, err.message, err.texts())
        # A page shows the problems in the user's language; the English message is for the API and the logs.
        details = [m for problem in err.errors.values() for m in messages_of(problem)]
        return render_template("error.html", status=status, message=None, details=details), status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):  # type: ignore[no-untyped-def]
        if is_api_request():
            from web.api.base import flat_errors

            code = (err.name or "error").lower().replace(" ", "_")
            response = _json_error(err.code or 500, code, err.description or err.name, flat_errors(err))
        else:
            response = app.make_response((render_template("error.html", status=err.code, message=err.description),
                                          err.code))
        # The headers the error itself carries stay: a 405's Allow (RFC 9110 requires it), a 429's Retry-After.
        for name, value in err.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(RedisError)
    @app.errorhandler(StorageError)
    def throttle_store_down(err: Exception):  # type: ignore[no-untyped-def]
        # The store of the sign-in counts is unreachable: refuse (503) rather than let guesses through uncounted.
        # Its URI is not logged (it may hold a password).
        app.logger.error("the rate limit store is unreachable (%s) on %s", type(err).__name__, request.url_rule)
        if is_api_request():
            return _json_error(503, "service_unavailable", "try again in a moment")
        return render_template("error.html", status=503, message=None), 503

    @app.errorhandler(OperationalError)
    def database_busy(err: OperationalError):  # type: ignore[no-untyped-def]
        # Another writer held the database (SQLite's one write lock past its busy timeout, a PostgreSQL lock or
        # serialization failure): the transaction rolled back, nothing changed, and a retry will likely pass.
        # The API's blueprint answers 409 (web/api/base.py); a page says 503 with Retry-After.
        if not is_write_conflict(err):
            return unexpected(err)
        app.logger.warning("database busy (%s) on %s %s", type(err).__name__, request.method, request.url_rule)
        database.read_only_from_now()
        response = app.make_response((render_template("error.html", status=503, message=_(
            "Petitio is busy saving other work. Nothing was changed; try again in a moment.")), 503))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def unexpected(err: Exception):  # type: ignore[no-untyped-def]
        # Never a stack trace or case data in the answer; the log gets the type and the route only.
        app.logger.error("unhandled %s on %s %s", type(err).__name__, request.method, request.url_rule)
        if is_api_request():
            return _json_error(500, "internal_error", "internal error; it has been logged")
        return render_template("error.html", status=500, message=None), 500
