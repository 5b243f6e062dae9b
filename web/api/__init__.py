"""The JSON API (/api/v1): bearer tokens, JSON errors, OpenAPI generated from the validating schemas."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from web.extensions import csrf


def register_api(app: Flask) -> Api:
    api = Api(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    from web.api.routes import blp

    api.register_blueprint(blp)
    # Bearer tokens, not cookies, authenticate API calls, so cross-site requests cannot ride on a session.
    csrf.exempt(blp)
    return api
