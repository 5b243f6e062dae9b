"""API routes. Request and response schemas here are the ones that validate and the ones documented."""

from __future__ import annotations

from flask_smorest import Blueprint

from web.access import public

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Petitio JSON API")


@blp.route("/health")
@public
def health() -> dict[str, str]:
    """Liveness check; no token needed."""
    return {"status": "ok"}
