"""/admin/processes: the processes, their versions, uploading a new version and activating one. Admins only.

``workflow/services/process_versions.py`` checks an upload like ``petitio init`` and stores it inactive; a refusal
is its one line, shown above the form (422), and nothing is stored. Activation is a separate POST with a box to
tick. The version page draws the diagram with the shared viewer (``data-diagram-url`` = ``bpmn`` below).
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug import Response

from web.access import roles
from web.database import db
from web.downloads import attachment
from web.processes.forms import ActivateForm, UploadForm
from web.translate import gettext as _
from workflow.errors import BpmnRefused, Conflict
from workflow.roles import ADMINS
from workflow.runtime.changes import flow_nodes
from workflow.services import process_versions as service

bp = Blueprint("processes", __name__, url_prefix="/admin/processes", template_folder="templates")


def _index(form: UploadForm, *, refused: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("processes/index.html", processes=service.list_processes(db(), g.actor), form=form,
                           refused=refused), status


@bp.get("")
@roles(*ADMINS)
def index() -> tuple[str, int]:
    return _index(UploadForm(formdata=None))


@bp.post("")
@roles(*ADMINS)
def upload() -> tuple[str, int]:
    form = UploadForm()  # CSRFProtect refused a bad token already; the service checks the files
    files = [(f.filename or "", f.read()) for f in request.files.getlist(form.files.name) if f and f.filename]
    try:
        results = service.upload(db(), g.actor, files)
    except BpmnRefused as err:
        db().rollback()
        return _index(form, refused=err.message, status=422)
    return render_template("processes/uploaded.html", results=results), 200


@bp.get("/<process_id>/versions/<int:version>")
@roles(*ADMINS)
def version(process_id: str, version: int) -> tuple[str, int]:
    return _version_page(process_id, version, ActivateForm(formdata=None))


def _version_page(process_id: str, version: int, form: ActivateForm, status: int = 200) -> tuple[str, int]:
    info = service.get_version(db(), g.actor, process_id, version)  # NotFound -> the 404 page
    changes, from_active = service.changes_of(db(), info.definition)
    nodes = sorted(flow_nodes(info.definition.sources, process_id).values(),
                   key=lambda n: (n.process_id != process_id, n.process_id, not n.is_user_task, n.node_id))
    return render_template("processes/version.html", info=info, changes=changes, from_active=from_active,
                           nodes=nodes, files=sorted(info.definition.sources), form=form), status


@bp.get("/<process_id>/versions/<int:version>/bpmn")
@roles(*ADMINS)
def bpmn(process_id: str, version: int) -> Response:
    """The BPMN XML that defines the process (or ``?file=NAME``, another source of the version), as a download."""
    info = service.get_version(db(), g.actor, process_id, version)
    source = service.source_file(info, request.args.get("file") or None)
    return attachment(source.text.encode("utf-8"), source.media_type, source.download_name)


@bp.post("/<process_id>/versions/<int:version>/activate")
@roles(*ADMINS)
def activate(process_id: str, version: int) -> Response | tuple[str, int]:
    form = ActivateForm()
    if not (form.validate_on_submit() and form.confirm.data):
        form.confirm.errors = [_("Tick the box to confirm the activation.")]
        return _version_page(process_id, version, form, status=422)
    try:
        before = service.activate_version(db(), g.actor, process_id, version)
    except Conflict:
        flash(_("Version %(version)s of %(process)s is the active version already.", version=version,
                process=process_id), "info")
        return redirect(url_for("processes.version", process_id=process_id, version=version), 303)
    if before is None:
        flash(_("Version %(version)s of %(process)s is now active.", version=version, process=process_id), "success")
    else:
        flash(_("Version %(version)s of %(process)s is now active (it was version %(previous)s). Running cases "
                "stay on their version.", version=version, process=process_id, previous=before.version), "success")
    return redirect(url_for("processes.version", process_id=process_id, version=version), 303)
