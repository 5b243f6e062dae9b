"""/admin/instances: the process instances in error, one instance with its error and the tasks it may be reset
to, and the two repairs (retry, reset). Admins only; ``workflow.services.repair`` does the work and audits it.

Each repair asks for a ticked confirmation (no script needed). A repair that fails again is not a refused
request: the instance is marked in error with the new error, which must be kept, so the page says so and the
request commits.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import roles
from web.database import db
from web.messages import message
from web.translate import gettext as _
from workflow.errors import ValidationFailed
from workflow.roles import ADMINS
from workflow.services import repair

bp = Blueprint("repair", __name__, url_prefix="/admin/instances", template_folder="templates")


@bp.app_context_processor
def error_count() -> dict[str, object]:
    # Called by the admins' navigation only (base.html): the count is how admins are alerted on every page.
    return {"instances_in_error": lambda: repair.error_count(db())}


@bp.get("/errors")
@roles(*ADMINS)
def errors() -> str:
    return render_template("repair/errors.html", items=repair.instances_in_error(db(), g.actor))


def _detail(instance_id: int, *, status: int = 200) -> tuple[str, int]:
    item = repair.instance_in_error(db(), current_app.config["PETITIO_SETTINGS"], g.actor, instance_id)
    return render_template("repair/instance.html", item=item), status


@bp.get("/<int:instance_id>")
@roles(*ADMINS)
def instance(instance_id: int) -> tuple[str, int]:
    return _detail(instance_id)


def _unconfirmed(instance_id: int) -> tuple[str, int] | None:
    if request.form.get("confirm") == "yes":
        return None
    flash(_("Tick the box to confirm: nothing was changed."), "error")
    return _detail(instance_id, status=422)


def _done(outcome: repair.Outcome, success: str) -> Response:
    if outcome.error is None:
        flash(success, "success")
    else:
        flash(_("It failed again: the instance stays in error with the new error shown below."), "error")
    return redirect(url_for("repair.instance", instance_id=outcome.instance_id), 303)


@bp.post("/<int:instance_id>/retry")
@roles(*ADMINS)
def retry(instance_id: int) -> Response | tuple[str, int]:
    if (refused := _unconfirmed(instance_id)) is not None:
        return refused
    outcome = repair.retry(db(), current_app.config["PETITIO_SETTINGS"], g.actor, instance_id)
    return _done(outcome, _("The instance ran again and is no longer in error."))


@bp.post("/<int:instance_id>/reset")
@roles(*ADMINS)
def reset(instance_id: int) -> Response | tuple[str, int]:
    if (refused := _unconfirmed(instance_id)) is not None:
        return refused
    try:
        outcome = repair.reset(db(), current_app.config["PETITIO_SETTINGS"], g.actor, instance_id,
                               request.form.get("task", ""))
    except ValidationFailed as err:
        db().rollback()
        flash(message(err.errors["task"]), "error")
        return _detail(instance_id, status=422)
    return _done(outcome, _("The instance was reset to the chosen step and ran from there."))
