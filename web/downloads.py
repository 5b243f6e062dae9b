"""File answers shared by the pages and the API."""

from __future__ import annotations

import io

from flask import Response, send_file


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """Always a download (never rendered inline), never cached, never sniffed into another type."""
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=True, download_name=filename,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
