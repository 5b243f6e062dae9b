"""Who may reach which route, declared next to each route and enforced for every request.

Every view must carry a rule: ``@roles(...)`` (with the role sets of ``workflow/roles.py``) or ``@public``. A
view without one is refused (fail closed), and tests/web/test_access.py walks ``app.url_map`` so a new route
without a rule fails CI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTRIBUTE = "_petitio_access"
PUBLIC = frozenset({"public"})


def roles(*allowed: str) -> Callable[[F], F]:
    """Only signed-in users whose role is one of ``allowed``."""
    if not allowed:
        raise ValueError("name at least one role")

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTRIBUTE, frozenset(str(r) for r in allowed))
        return view

    return mark


def public(view: F) -> F:
    """Anyone, signed in or not (sign-in page, health check, API description)."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def rule_of(view: Callable[..., Any] | None) -> frozenset[str] | None:
    if view is None:
        return None
    rule = getattr(view, ACCESS_ATTRIBUTE, None)
    if rule is None and hasattr(view, "view_class"):  # class-based views declare it on the class
        rule = getattr(view.view_class, ACCESS_ATTRIBUTE, None)
    return rule
