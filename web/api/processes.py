"""Processes and their versions (/api/v1/processes), for admins: read them, upload a new version, activate one.

Admins only, managers included out: a version's sources, who deployed and activated it and the instance counts
are the installation's configuration, which admins run (as on /admin/processes and with ``petitio processes``);
casework staff see where their case stands on the case page. The services are the pages' and the command line's
(``workflow/services/process_versions.py``): an upload is stored inactive, activation is its own audited call.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g
from marshmallow import Schema, fields

from web.access import roles
from web.api.base import ApiBlueprint
from web.api.schemas import File
from web.database import db
from web.downloads import attachment
from workflow.roles import ADMINS
from workflow.schemas.base import InputSchema, List, Text
from workflow.schemas.validators import at_most
from workflow.services import process_versions as service

blp = ApiBlueprint("api_processes", __name__, description="Process definitions and their versions (admins)")
XML = "application/xml"


class InstanceCountsSchema(Schema):
    running = fields.Integer(required=True)
    complete = fields.Integer(required=True)
    error = fields.Integer(required=True)


class VersionSchema(Schema):
    process_id = fields.String(required=True)
    version = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    active = fields.Boolean(required=True, metadata={"description": "new instances start on this version"})
    deployed_at = fields.DateTime(required=True)
    deployed_by = fields.String(allow_none=True, metadata={"description": "username; null: the operator"})
    activated_at = fields.DateTime(allow_none=True, metadata={"description": "last activation; null: never"})
    activated_by = fields.String(allow_none=True)
    instances = fields.Nested(InstanceCountsSchema, required=True,
                              metadata={"description": "number of process instances on this version, by status"})


class ProcessSchema(Schema):
    process_id = fields.String(required=True)
    active_version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Nested(VersionSchema), required=True, metadata={"description": "newest first"})


class NodeSchema(Schema):
    process_id = fields.String(required=True, metadata={"description": "the process (or called process) of the node"})
    node_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"example": "userTask"})
    name = fields.String(allow_none=True)
    form = fields.String(allow_none=True, metadata={"description": "a user task's form schema"})


class NodeChangeSchema(Schema):
    old = fields.Nested(NodeSchema, required=True)
    new = fields.Nested(NodeSchema, required=True)


class ChangeSummarySchema(Schema):
    added = fields.List(fields.Nested(NodeSchema), required=True)
    removed = fields.List(fields.Nested(NodeSchema), required=True)
    renamed = fields.List(fields.Nested(NodeChangeSchema), required=True, metadata={"description": "same id"})
    reidentified = fields.List(fields.Nested(NodeChangeSchema), required=True,
                               metadata={"description": "same name and type, another id"})
    task_forms = fields.List(fields.Nested(NodeChangeSchema), required=True,
                             metadata={"description": "user tasks whose form schema changed"})
    forms_changed = fields.List(fields.String(), required=True)
    forms_added = fields.List(fields.String(), required=True)
    forms_removed = fields.List(fields.String(), required=True)


class ChangesSchema(Schema):
    """What a version changed: against the version before it, and against the active one."""

    changes = fields.Nested(ChangeSummarySchema, required=True,
                            metadata={"description": "against the version before it"})
    changes_from_active = fields.Nested(ChangeSummarySchema, allow_none=True,
                                        metadata={"description": "against the active version, when that is "
                                                                 "neither this one nor the one before it"})


class VersionDetailSchema(VersionSchema, ChangesSchema):
    files = fields.List(fields.String(), required=True, metadata={"description": "source file names"})


class UploadedSchema(ChangesSchema):
    version = fields.Nested(VersionSchema, required=True, attribute="info")
    new = fields.Boolean(required=True, metadata={"description": "false: the files are this stored version already"})


class UploadArgsSchema(InputSchema):
    """multipart/form-data: the files of the new version."""

    files = List(File(), required=True, metadata={"description": ".bpmn files and form schemas (.json); the files "
                                                                 "not given come from the active versions"})


class SourceArgsSchema(InputSchema):
    file = Text(validate=at_most(120), metadata={"description": "another source file of the version, e.g. "
                                                                "filing.bpmn or forms/legal_review.json"})


@blp.route("/processes", methods=["GET"])
@roles(*ADMINS)
@blp.response(200, ProcessSchema(many=True))
@blp.errors(401, 403)
def list_processes() -> list[service.ProcessInfo]:
    """Every process with its versions, the active one marked, and its instances counted per version."""
    return service.list_processes(db(), g.actor)


@blp.route("/processes/<string:process_id>/versions", methods=["GET"])
@roles(*ADMINS)
@blp.response(200, VersionSchema(many=True))
@blp.errors(401, 403, 404)
def list_versions(process_id: str) -> list[service.VersionInfo]:
    """The versions of one process, newest first."""
    return service.process_versions(db(), g.actor, process_id).versions


@blp.route("/processes/<string:process_id>/versions/<int:version>", methods=["GET"])
@roles(*ADMINS)
@blp.response(200, VersionDetailSchema)
@blp.errors(401, 403, 404)
def get_version(process_id: str, version: int) -> dict[str, Any]:
    """One version: its source files and what changed against the version before it (and the active one)."""
    info = service.get_version(db(), g.actor, process_id, version)
    changes, from_active = service.changes_of(db(), info.definition)
    return {**{name: getattr(info, name) for name in VersionSchema().fields},
            "files": sorted(info.definition.sources), "changes": changes, "changes_from_active": from_active}


@blp.route("/processes/<string:process_id>/versions/<int:version>/bpmn", methods=["GET"])
@roles(*ADMINS)
@blp.arguments(SourceArgsSchema, location="query")
@blp.response(200, {"type": "string"}, content_type=XML, description="The BPMN XML that defines the process")
@blp.alt_response(200, schema={"type": "object"}, content_type="application/json",
                  description="A form schema of the version (`file=forms/NAME.json`)")
@blp.errors(401, 403, 404)
def get_bpmn(args: dict[str, Any], process_id: str, version: int) -> Response:
    """The version's BPMN XML (a download), or another of its source files named by ``file``."""
    info = service.get_version(db(), g.actor, process_id, version)
    source = service.source_file(info, args.get("file"))
    return attachment(source.text.encode("utf-8"), source.media_type, source.download_name)


@blp.route("/processes", methods=["POST"])
@roles(*ADMINS)
@blp.arguments(UploadArgsSchema, location="files")
@blp.response(200, UploadedSchema(many=True))
@blp.errors(401, 403, 413)
def upload(args: dict[str, Any]) -> list[service.Uploaded]:
    """Check the files like ``petitio init`` and store each process they change as a new, inactive version.

    A refusal is 422 ``bpmn_refused`` with one line in ``message``, and nothing is stored."""
    return service.upload(db(), g.actor, [(f.filename or "", f.read()) for f in args["files"]])


@blp.route("/processes/<string:process_id>/versions/<int:version>/activate", methods=["POST"])
@roles(*ADMINS)
@blp.response(200, VersionSchema)
@blp.errors(401, 403, 404, 409)
def activate(process_id: str, version: int) -> service.VersionInfo:
    """Make the version the active one (new instances start on it; an earlier one: a rollback). Audited."""
    service.activate_version(db(), g.actor, process_id, version)
    return service.get_version(db(), g.actor, process_id, version)
