"""The JSON API (/api/v1): bearer tokens, JSON errors, OpenAPI generated from the validating schemas."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from web.api.schemas import ErrorSchema
from web.extensions import csrf


class PetitioApi(Api):
    """flask-smorest, documenting errors in the shape the app's error handlers really answer."""

    ERROR_SCHEMA = ErrorSchema


def register_api(app: Flask) -> Api:
    api = PetitioApi(app, spec_kwargs={
        "info": {"description": "Petitio JSON API. Authenticate with `Authorization: Bearer <token>` "
                                "(`petitio users token NAME`). Errors are `{\"error\", \"message\", \"errors\"}`."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    })
    from web.api.catalogue import blp as catalogue_blp
    from web.api.routes import blp

    # Bearer tokens, not cookies, authenticate API calls, so cross-site requests cannot ride on a session.
    for blueprint in (blp, catalogue_blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    return api
