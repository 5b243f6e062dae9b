"""The facts for the filings: the person's facts, the case-level "not known" markers, and the rows of each kind
(perpetrators, incidents, arrests, ill-treatment, remedy steps) as lists with create, change and remove by id.

Intake and legal officers write (``roles.FILING_FACT_EDITORS``); every case worker reads the rows (the read is
audited as ``facts_read``, kinds only). The request schemas document the fields; ``services/facts.py`` checks
them again with the case's own keys (vocabulary terms, episodes, the case's perpetrators and incidents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request
from marshmallow import Schema, fields

from web.access import roles
from web.api.base import ApiBlueprint
from web.database import db
from workflow.audit import audit
from workflow.facts import PERSON_FACTS
from workflow.models import Case
from workflow.roles import FILING_FACT_EDITORS, FILING_FACT_READERS, IDENTITY_FIELDS
from workflow.schemas.fact_reads import ROW_READ_SCHEMAS, UnknownFactsReadSchema
from workflow.schemas.facts import ROW_SCHEMAS, PersonFactsSchema, UnknownFactsSchema
from workflow.services import fact_access, facts
from workflow.services.cases import get_case

blp = ApiBlueprint("api_facts", __name__, description="Facts for the filings: the person, perpetrators, incidents, "
                                                       "arrests and custody, ill-treatment, remedy steps")
CHANNEL = "api"
# Each kind's path segment and its name in the documentation.
KINDS = {"perpetrators": ("perpetrators", "perpetrator"), "incidents": ("incidents", "incident"),
         "arrests": ("arrests", "arrest"), "ill_treatments": ("ill-treatments", "ill-treatment record"),
         "remedy_steps": ("remedy-steps", "remedy step")}


def _request_keys() -> fact_access.CaseKeys:
    """The keys and ids the request's case allows (its path names it), read once a request."""
    if "fact_keys" not in g:
        g.fact_keys = fact_access.CaseKeys(db(), get_case(db(), str((request.view_args or {}).get("ref"))))
    return g.fact_keys


class PersonFactsReadSchema(Schema):
    nationality = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    birth_date = fields.Date(allow_none=True)
    age = fields.Integer(allow_none=True)
    occupation = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    activity = fields.String(allow_none=True)
    situation = fields.String(allow_none=True)
    unknown = fields.List(fields.String(), required=True, metadata={"description": "fields marked \"not known\""})


def _person(case: Case) -> dict[str, Any]:
    audit(db(), g.actor, "identity_read", "case", case.ref, case.id,
          {"fields": sorted(IDENTITY_FIELDS.intersection(PERSON_FACTS)), "channel": CHANNEL})
    return facts.person_values(case)


@blp.route("/cases/<string:ref>/person", methods=["PATCH"])
@roles(*FILING_FACT_EDITORS)
@blp.arguments(PersonFactsSchema(known=_request_keys, partial=True))
@blp.response(200, PersonFactsReadSchema)
@blp.errors(401, 403, 404, 409)
def patch_person(data: dict[str, Any], ref: str) -> Any:
    """Change the person's facts (intake and legal officers; fields left out keep their value).

    ``unknown`` replaces the person's "not known" markers (names without a prefix: nationality, gender,
    birth_date, age, occupation, organisation, activity, situation); a field given and marked is refused.
    Texts up to 200 characters (nationality), 10,000 (activity, situation) or 20,000 (occupation, organisation).
    Audited by field name; 409 when the case has ended.
    """
    case = get_case(db(), ref)
    facts.update_person_facts(db(), g.actor, case, data, channel=CHANNEL)
    return _person(case)


@blp.route("/cases/<string:ref>/unknown-facts", methods=["GET"])
@roles(*FILING_FACT_READERS)
@blp.response(200, UnknownFactsReadSchema)
@blp.errors(401, 403, 404)
def get_unknown(ref: str) -> Any:
    """The case-level facts a person marked "not known" (``person.*`` and the kinds of rows)."""
    return {"unknown_facts": list(get_case(db(), ref).unknown_facts or ())}


@blp.route("/cases/<string:ref>/unknown-facts", methods=["PATCH"])
@roles(*FILING_FACT_EDITORS)
@blp.arguments(UnknownFactsSchema)
@blp.response(200, UnknownFactsReadSchema)
@blp.errors(401, 403, 404, 409)
def patch_unknown(data: dict[str, Any], ref: str) -> Any:
    """Mark (``mark``) or unmark (``unmark``) case-level facts "not known"; a recorded fact cannot be marked
    (e.g. ``perpetrators`` while the case has one). Adding a row of a kind removes that kind's marker."""
    case = get_case(db(), ref)
    return {"unknown_facts": facts.change_unknown_facts(db(), g.actor, case, data, channel=CHANNEL)}


def _rows(kind: str, ref: str) -> list[Any]:
    case = get_case(db(), ref)
    read = facts.read_facts(db(), g.actor, case, role=g.actor.role, channel=CHANNEL)
    return getattr(read, kind) if read is not None else []


def _input(schema_class: type[Any]) -> Any:
    return schema_class(known=_request_keys)


def _update_schema(schema_class: type[Any]) -> Any:
    """The input schema of a PATCH: the same fields, none required (a class of its own name for OpenAPI)."""
    name = schema_class.__name__.removesuffix("Schema") + "UpdateSchema"
    return type(name, (schema_class,), {})(known=_request_keys, partial=True)


def _register(kind: str) -> None:
    """The four routes of one kind of row."""
    segment, noun = KINDS[kind]
    read_schema, input_schema = ROW_READ_SCHEMAS[kind], ROW_SCHEMAS[kind]
    collection, item = f"/cases/<string:ref>/{segment}", f"/cases/<string:ref>/{segment}/<int:row_id>"

    def named(view: Callable[..., Any], verb: str, doc: str) -> Callable[..., Any]:
        view.__name__ = f"{verb}_{kind}"
        view.__doc__ = doc
        return view

    def list_rows(ref: str) -> Any:
        return _rows(kind, ref)

    def create(data: dict[str, Any], ref: str) -> Any:
        return facts.add_row(db(), g.actor, get_case(db(), ref), kind, data, channel=CHANNEL)

    def change(data: dict[str, Any], ref: str, row_id: int) -> Any:
        case = get_case(db(), ref)
        facts.update_row(db(), g.actor, case, kind, row_id, data, channel=CHANNEL)
        return facts.row_of(case, kind, row_id)

    def remove(ref: str, row_id: int) -> None:
        facts.remove_row(db(), g.actor, get_case(db(), ref), kind, row_id, channel=CHANNEL)

    def route(view: Callable[..., Any], path: str, method: str, *decorators: Callable[..., Any]) -> None:
        for decorate in reversed(decorators):
            view = decorate(view)
        blp.route(path, methods=[method])(view)

    route(named(list_rows, "list", f"The case's {segment.replace('-', ' ')} (the read is audited, kinds only)."),
          collection, "GET", roles(*FILING_FACT_READERS), blp.response(200, read_schema(many=True)),
          blp.errors(401, 403, 404))
    route(named(create, "create", f"Record a {noun} (intake and legal officers; 409 when the case has ended).\n\n"
                "Fields and their limits are in the request schema; `unknown` names fields marked \"not known\"."),
          collection, "POST", roles(*FILING_FACT_EDITORS), blp.arguments(_input(input_schema)),
          blp.response(201, read_schema), blp.errors(401, 403, 404, 409))
    route(named(change, "update", f"Change a {noun} of this case (fields left out keep their value; a list given "
                "replaces the stored list). A row of another case is 404."),
          item, "PATCH", roles(*FILING_FACT_EDITORS), blp.arguments(_update_schema(input_schema)),
          blp.response(200, read_schema), blp.errors(401, 403, 404, 409))
    route(named(remove, "delete", f"Remove a {noun} of this case (the incident recorded at intake stays: 422)."),
          item, "DELETE", roles(*FILING_FACT_EDITORS), blp.response(204), blp.errors(401, 403, 404, 409, 422))

for _kind in KINDS:
    _register(_kind)
