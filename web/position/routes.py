"""The diagram of a case's or a collective complaint's process and where it stands, for the page's script.

Reached like the page they belong to (``cases.case``, ``collective.show``). The BPMN is the version the instance
runs on (``ProcessDefinition.sources``), not the latest; the position loads the workflow, which only this route
does (the page itself reads the cheap projections, ``position/panel.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify

from web.access import roles
from web.database import db
from web.loaders import case_or_404, collective_or_404
from workflow.models import ProcessInstance
from workflow.roles import CASEWORK
from workflow.schemas.reads import PositionSchema
from workflow.services.process_position import (
    InstancePosition,
    Position,
    case_instance,
    collective_instance,
    diagram_source,
    instance_position,
)

bp = Blueprint("position", __name__, template_folder="templates")
# Fetched by the page's script, never shown as a document: nothing in it may run or load if opened.
XML_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox"


def position_json(position: Position, of: InstancePosition) -> dict[str, Any]:
    """The diagram widget's position (web/static/process-diagram.js): the API's shape of one process, with the
    version and status of the instance it was read from."""
    return {**PositionSchema().dump(position), "version": of.version, "status": of.status}


def _xml(instance: ProcessInstance, process_id: str) -> Response:
    response = Response(diagram_source(instance.definition, process_id), mimetype="application/xml")
    response.headers["Content-Security-Policy"] = XML_POLICY
    return response


def _read(instance: ProcessInstance) -> InstancePosition:
    return instance_position(db(), current_app.config["PETITIO_SETTINGS"], instance, g.actor)


def _case_instance(ref: str) -> ProcessInstance:
    return case_instance(db(), case_or_404(ref).id)


def _collective_instance(collective_id: int) -> ProcessInstance:
    return collective_instance(db(), collective_or_404(collective_id))


@bp.route("/cases/<ref>/diagram/<process_id>")
@roles(*CASEWORK)
def case_diagram(ref: str, process_id: str) -> Response:
    """The BPMN XML of the case's process (``case``) or of one it calls (``filing``), at the case's version."""
    return _xml(_case_instance(ref), process_id)


@bp.route("/cases/<ref>/position")
@roles(*CASEWORK)
def case_position(ref: str) -> Response:
    read = _read(_case_instance(ref))
    return jsonify(position_json(read.position, read))


@bp.route("/cases/<ref>/filings/<int:filing_id>/position")
@roles(*CASEWORK)
def case_filing_position(ref: str, filing_id: int) -> Response:
    """Where one of the case's filings stands in its own process (404 for a filing of another case)."""
    read = _read(_case_instance(ref))
    return jsonify(position_json(read.of_filing(filing_id), read))


@bp.route("/collective/<int:collective_id>/diagram/<process_id>")
@roles(*CASEWORK)
def collective_diagram(collective_id: int, process_id: str) -> Response:
    return _xml(_collective_instance(collective_id), process_id)


@bp.route("/collective/<int:collective_id>/position")
@roles(*CASEWORK)
def collective_position(collective_id: int) -> Response:
    read = _read(_collective_instance(collective_id))
    return jsonify(position_json(read.position, read))


@bp.route("/collective/<int:collective_id>/filings/<int:filing_id>/position")
@roles(*CASEWORK)
def collective_filing_position(collective_id: int, filing_id: int) -> Response:
    read = _read(_collective_instance(collective_id))
    return jsonify(position_json(read.of_filing(filing_id), read))
