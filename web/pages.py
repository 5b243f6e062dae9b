"""Server-rendered pages for intake staff, legal officers, managers and admins."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from werkzeug import Response

from web.access import ALL_STAFF, roles

bp = Blueprint("pages", __name__)


@bp.route("/")
@roles(*ALL_STAFF)
def index() -> Response:
    return redirect(url_for("pages.my_tasks"))


@bp.route("/tasks")
@roles(*ALL_STAFF)
def my_tasks() -> str:
    from flask import render_template

    return render_template("pages/tasks.html", tasks=[])
