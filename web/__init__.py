"""Flask delivery: the only package that knows HTTP, the session and the current user (the app: ``web/app.py``).

The package itself imports nothing: ``petitio`` (``web/cli.py``) runs every command but ``serve`` without loading
Flask and the app, which was a third of each command's start. ``create_app`` and the app module's other names are
loaded from ``web/app.py`` when first asked for (``from web import create_app`` works as before).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


def __getattr__(name: str) -> Any:
    app = import_module("web.app")  # once imported, a submodule's own name (``from web import database``) is found
    if name == "app":
        return app
    try:
        return getattr(app, name)
    except AttributeError:
        raise AttributeError(f"module 'web' has no attribute {name!r}") from None
