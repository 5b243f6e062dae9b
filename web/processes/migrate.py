"""/admin/processes/<process_id>/migrate: move running cases to the active version of a process. Admins only.

The page shows the dry run (``workflow.services.process_migration.plan``: which instances can move, and why the
others cannot); the form moves the instances chosen, each in its own transaction (committed or rolled back on
its own), so one refused or concurrently changed instance stays on its version while the others move.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import roles
from web.database import db
from web.messages import message
from web.translate import gettext as _
from workflow.errors import PetitioError
from workflow.models import ProcessDefinition
from workflow.roles import ADMINS
from workflow.services import process_migration

bp = Blueprint("process_migration", __name__, url_prefix="/admin/processes", template_folder="templates")


@bp.get("/<process_id>/migrate")
@roles(*ADMINS)
def plan(process_id: str) -> str:
    session = db()
    target = process_migration.target_version(session, process_id)  # NotFound -> the 404 page
    checks = process_migration.plan(session, current_app.config["PETITIO_SETTINGS"], g.actor, process_id, target)
    reasons = {c.instance_id: [message(p) for p in c.blockers] for c in checks}
    return render_template("processes/migrate.html", process_id=process_id, target=target, checks=checks,
                           reasons=reasons)


@bp.post("/<process_id>/migrate")
@roles(*ADMINS)
def migrate(process_id: str) -> Response:
    session, settings = db(), current_app.config["PETITIO_SETTINGS"]
    target = process_migration.target_version(session, process_id)
    target_id = target.id
    chosen = sorted({int(v) for v in request.form.getlist("instance") if v.isdigit()})
    moved = 0
    for instance_id in chosen:
        try:
            process_migration.migrate(session, settings, g.actor, instance_id,
                                      session.get(ProcessDefinition, target_id))
        except PetitioError as err:
            session.rollback()  # this instance only: the ones moved before it are committed
            why = "; ".join(message(p) for p in err.errors.values()) or _("It was changed meanwhile: try again.")
            flash(_("Case process %(id)s was not moved: %(why)s", id=instance_id, why=why), "error")
        else:
            session.commit()  # one transaction per instance
            moved += 1
    flash(_("%(moved)s of %(chosen)s chosen process instances moved to version %(version)s.", moved=moved,
            chosen=len(chosen), version=target.version), "success" if moved == len(chosen) else "error")
    return redirect(url_for("process_migration.plan", process_id=process_id), 303)
