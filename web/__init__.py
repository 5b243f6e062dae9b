"""Flask delivery: the only package that knows HTTP. Sign-in, pages and the JSON API come in issue 3;
until then the app serves its health check and a landing page, and exposes no case data."""

from __future__ import annotations

from flask import Flask, jsonify

from workflow.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    app.config["PETITIO_SETTINGS"] = settings or load_settings()

    @app.get("/api/v1/health")
    def health():  # type: ignore[no-untyped-def]
        return jsonify(status="ok")

    @app.get("/")
    def index() -> str:
        return ("<!doctype html><title>Petitio</title><h1>Petitio</h1>"
                "<p>The server is running. Case work is done with the <code>petitio</code> command for now.</p>")

    return app
