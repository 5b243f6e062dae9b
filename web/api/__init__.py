"""The JSON API (/api/v1): bearer tokens, JSON errors, OpenAPI generated from the validating schemas.

``base.py`` holds the parser, the blueprint class and the error answers; each other module is one resource.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from web.api.schemas import ErrorSchema
from web.extensions import csrf


class PetitioApi(Api):
    """flask-smorest, documenting errors in the shape the app's error handlers really answer."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all `default` response: each operation lists the error statuses it really sends, so that a
    # status it does not list is a finding of the fuzz run (tests/fuzz), not silently "documented".
    DEFAULT_ERROR_RESPONSE_NAME = None


def register_api(app: Flask) -> Api:
    from web.api import (
        cases,
        catalogue,
        collective,
        consent,
        deadlines,
        documents,
        facts,
        filings,
        imports,
        instances,
        jobs,
        organisation,
        processes,
        review,
        tasks,
        tokens,
    )

    api = PetitioApi(app, spec_kwargs={
        "info": {"description": "Petitio JSON API. Authenticate with `Authorization: Bearer <token>` (created on "
                                "the account page, or `petitio users token NAME`). "
                                "Errors are `{\"error\", \"message\", \"errors\"}`."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    # Bearer tokens, not cookies, authenticate API calls, so cross-site requests cannot ride on a session.
    for module in (cases, documents, consent, review, tasks, filings, collective, deadlines, catalogue, jobs, imports,
                   organisation, facts, tokens, instances, processes):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)
    return api
