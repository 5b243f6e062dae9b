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


def inline(content: bytes, media_type: str, filename: str) -> Response:
    """Shown in the page that frames it (a PDF in a frame, an image), never sniffed into another type; only
    this site may frame it, and inside it nothing runs or loads (the PDF viewer is the browser's own)."""
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=False, download_name=filename,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'; base-uri 'none'"
    return response
