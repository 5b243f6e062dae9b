"""What every API module shares: the request parser, the blueprint class, error answers and their documentation.

Request errors answer like the services do: 422 ``invalid`` with one English message per field (the message of
its ``Problem``); unknown fields are refused in the query string and in uploads too, and a body that is not
JSON is a 422 rather than being read as an empty object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from flask import Response, current_app, jsonify, request
from flask_smorest import Blueprint
from sqlalchemy.exc import OperationalError
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException

from web.api.schemas import ErrorSchema
from workflow.config import Settings
from workflow.db import is_write_conflict
from workflow.errors import ValidationFailed
from workflow.problems import Problem
from workflow.schemas.base import broken_text_at, problems_of

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BINARY = {"type": "string", "format": "binary"}
LOCATION_NAMES = {"json": "request body", "query": "query parameters", "files": "upload", "form": "form"}
ERROR_DESCRIPTIONS = {
    401: "No valid bearer token",
    403: "The caller's role may not do this (or four eyes apply)",
    404: "No such object",
    409: "Conflict: taken reference, task no longer ready, filing not awaiting a response, no PDF converter",
    413: "The file is larger than the limit",
    422: "Invalid input (a field, or a query string breaking the character rule); `errors` names each bad field",
}


def settings() -> Settings:
    return current_app.config["PETITIO_SETTINGS"]


class ApiParser(FlaskParser):
    """webargs, answering like the services do (see the module's docstring)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,  # noqa: RUF012
                                   "query": None, "querystring": None, "files": None}

    def handle_error(self, error: Any, req: Any, schema: Any, *, error_status_code: int | None,
                     error_headers: Any) -> NoReturn:
        messages = error.messages if isinstance(error.messages, dict) else {"json": error.messages}
        where = ", ".join(LOCATION_NAMES.get(str(loc), str(loc)) for loc in messages)
        problems: dict[str, Problem] = {}
        for location_messages in messages.values():
            problems.update(problems_of(location_messages))
        raise ValidationFailed(f"the {where} has errors", errors=problems)

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            if req.get_data(cache=True):
                raise ValidationFailed("the request body must be JSON", errors={"_body": Problem("json_expected")})
            return core.missing
        parsed = core.parse_json(req.get_data(cache=True))
        broken = broken_text_at(parsed)
        if broken is not None:  # "\ud800" is valid JSON but no text: nothing could store it
            raise ValidationFailed("the request body has errors", errors={broken: Problem("invalid_text")})
        return parsed

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValidationFailed("the request body is not valid JSON", errors={"_body": Problem("not_json")})

    def load_files(self, req: Any, schema: Any) -> Any:
        """multipart/form-data: the file parts and the text parts, validated by one schema."""
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def load_json_or_files(self, req: Any, schema: Any) -> Any:
        """A JSON body, or the same fields (and a file) as multipart/form-data."""
        if req.mimetype == "multipart/form-data":
            return self.load_files(req, schema)
        return self.load_json(req, schema)

    __location_map__ = {**FlaskParser.__location_map__, "json_or_files": "load_json_or_files"}  # noqa: RUF012


class ApiBlueprint(Blueprint):
    """A blueprint of /api/v1: our parser, errors documented as they are sent, and a write conflict answered 409."""

    ARGUMENTS_PARSER = ApiParser()
    # Documented as JSON; the route's description names the multipart alternative.
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,  # noqa: RUF012
                                             "json_or_files": "application/json"}

    def __init__(self, name: str, import_name: str, **kwargs: Any) -> None:
        super().__init__(name, import_name, url_prefix="/api/v1", **kwargs)
        self.register_error_handler(OperationalError, database_conflict)

    def errors(self, *codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Document the error answers a route gives (all in the shape of ErrorSchema). 422 always: every route
        refuses a query string that breaks the character rule (web/__init__.py ``_refuse_broken_text``)."""

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            for code in sorted({*codes, 422}):
                view = self.alt_response(code, schema=ErrorSchema, description=ERROR_DESCRIPTIONS[code])(view)
            return view

        return decorate


def database_conflict(err: OperationalError) -> tuple[Response, int]:
    if is_write_conflict(err):
        return jsonify(error="conflict", errors={},
                       message="another request changed the same data at the same time; reload and retry"), 409
    current_app.logger.error("unhandled %s on %s %s", type(err).__name__, request.method, request.url_rule)
    return jsonify(error="internal_error", errors={}, message="internal error; it has been logged"), 500


def flat_errors(err: HTTPException) -> dict[str, str]:
    """The per-field messages an HTTP error may carry (webargs puts them in ``data``), as English text."""
    messages = (getattr(err, "data", None) or {}).get("messages")
    if not isinstance(messages, dict):
        return {}
    return {name: problem.text for location in messages.values() if isinstance(location, dict)
            for name, problem in problems_of(location).items()}
