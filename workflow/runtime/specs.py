"""Parsing, checking and versioning process definitions.

BPMN is parsed with a hardened lxml parser (no DTD, no entities, no network) before SpiffWorkflow sees
it, and every script, condition, timer and service parameter is compiled by RestrictedPython at deploy
time, so a hostile definition is refused before it can be stored, let alone run. Each file must also carry
a complete diagram (``workflow/runtime/diagram.py``), so every deployed version can be drawn.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import _BpmnCondition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import form_ui
from workflow.errors import BpmnRefused
from workflow.models import ProcessDefinition, User, utcnow
from workflow.roles import CASEWORK
from workflow.runtime.diagram import check_diagram
from workflow.runtime.scripting import UnsafeScript, check_source, timer_expressions_of
from workflow.runtime.serializer import SERIALIZER

MAX_BPMN_BYTES = 2 * 1024 * 1024
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)
FORM_PROPERTY = "formJsonSchemaFilename"
UI_PROPERTY = "formUiSchemaFilename"  # how the form is drawn (workflow/form_ui.py), as in spiff-arena
LANES = frozenset(CASEWORK)  # lanes are roles; admins do no casework


@dataclass(frozen=True)
class SpecBundle:
    """The parsed specs of one process and the sources (BPMN and form schemas) it was built from."""

    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    sources: dict[str, str]

    def spec_json(self) -> str:
        return json.dumps(
            {
                "spec": SERIALIZER.registry.convert(self.spec),
                "subprocess_specs": {k: SERIALIZER.registry.convert(v) for k, v in self.subprocess_specs.items()},
            },
            sort_keys=True,
        )

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.sources):
            digest.update(name.encode() + b"\0" + self.sources[name].encode() + b"\0")
        return digest.hexdigest()


def parse_xml(text: str | bytes, filename: str) -> etree._ElementTree:
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_BPMN_BYTES:
        raise BpmnRefused(f"{filename}: larger than {MAX_BPMN_BYTES // 1024} KB")
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        # No legitimate BPMN needs a DTD; refusing it outright closes XXE and entity expansion.
        raise BpmnRefused(f"{filename}: DOCTYPE and ENTITY declarations are not allowed")
    try:
        return etree.ElementTree(etree.fromstring(raw, parser=_XML_PARSER))
    except etree.XMLSyntaxError as err:
        raise BpmnRefused(f"{filename}: not well-formed XML ({err})") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _describe(err: Exception, fallback_file: str) -> str:
    if isinstance(err, ValidationException):
        where = " ".join(filter(None, [err.tag, f"id={err.id!r}" if err.id else "", err.name and repr(err.name)]))
        line = f" line {err.line_number}" if err.line_number else ""
        return _one_line(f"{err.file_name or fallback_file}{line}: {where}: {err}".replace(": : ", ": "))
    return _one_line(f"{fallback_file}: {err}")


def _check_call_activities(trees: dict[str, etree._ElementTree], process_ids: set[str]) -> None:
    """Name the call activity whose target is missing (SpiffWorkflow only names the missing process)."""
    for filename, tree in trees.items():
        for node in tree.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}callActivity"):
            target = node.get("calledElement")
            if target not in process_ids:
                raise BpmnRefused(f"{filename}: bpmn:callActivity id={node.get('id')!r} calls process "
                                  f"{target!r}, which none of the deployed files defines")


def parse_bundle(sources: dict[str, str], forms: dict[str, str] | None = None, *,
                 operations: Collection[str]) -> dict[str, SpecBundle]:
    """Parse BPMN sources (file name -> XML) into one bundle per executable process, all checked.

    ``operations``: the names of the service operations a service task may call (any other is refused).
    """
    parser = SpiffBpmnParser(validator=VALIDATOR)
    trees = {}
    for filename, text in sorted(sources.items()):
        tree = trees[filename] = parse_xml(text, filename)
        try:
            parser.add_bpmn_xml(tree, filename)
        except (ValidationException, SpiffWorkflowException) as err:
            raise BpmnRefused(_describe(err, filename)) from None
    process_ids = parser.get_process_ids()
    _check_call_activities(trees, set(parser.process_parsers))
    if not process_ids:
        raise BpmnRefused(f"{', '.join(sorted(sources))}: no executable process (isExecutable=\"true\")")
    forms = forms or {}
    bundles = {}
    for process_id in process_ids:
        try:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except (ValidationException, SpiffWorkflowException, KeyError) as err:
            raise BpmnRefused(_describe(err, process_id)) from None
        try:
            used_forms = check_specs([spec, *subprocess_specs.values()], forms, operations)
        except BpmnRefused as err:
            source = parser.process_parsers[process_id].filename or process_id
            raise BpmnRefused(_one_line(f"{source}: {err.message}")) from None
        used = dict(sources) | {f"forms/{name}": forms[name] for name in sorted(used_forms)}
        bundles[process_id] = SpecBundle(process_id, spec, subprocess_specs, used)
    for filename, tree in trees.items():  # last, so a hostile or broken file is refused for what it is
        check_diagram(tree, filename)
    return bundles


def _expressions(task_spec: Any) -> list[tuple[str, str]]:
    """(mode, source) of everything the engine will run for this task spec."""
    found: list[tuple[str, str]] = []
    for attr in ("script", "prescript", "postscript"):
        source = getattr(task_spec, attr, None)
        if isinstance(source, str) and source.strip():
            found.append(("exec", source))
    for condition, _target in getattr(task_spec, "cond_task_specs", ()):
        if isinstance(condition, _BpmnCondition):
            found.append(("eval", condition.args[0]))
    for attr in ("cardinality", "condition"):
        source = getattr(task_spec, attr, None)
        if isinstance(source, str) and source.strip():
            found.append(("eval", source))
    for expression in timer_expressions_of(getattr(task_spec, "event_definition", None)):
        found.append(("eval", expression))
    for param in (getattr(task_spec, "operation_params", None) or {}).values():
        found.append(("eval", param["value"]))
    return found


def _label(task_spec: Any) -> str:
    name = getattr(task_spec, "bpmn_name", None)
    return f"{task_spec.bpmn_id or task_spec.name}" + (f" ({name!r})" if name else "")


def check_specs(specs: list[Any], forms: dict[str, str], operations: Collection[str]) -> set[str]:
    """Refuse unsafe scripts, unknown service operations, unknown lanes, missing forms and UI schemas that are
    missing or do not fit their form (``form_ui.problem_of``).

    Returns the names of the form files (schemas and UI schemas) the specs use.
    """
    used_forms: set[str] = set()
    for spec in specs:
        for task_spec in spec.task_specs.values():
            for mode, source in _expressions(task_spec):
                if source is None or (mode == "eval" and source.strip() in ("", "None")):
                    raise BpmnRefused(f"{spec.name}: {_label(task_spec)}: empty or None expression")
                try:
                    check_source(source, mode=mode)
                except UnsafeScript as err:
                    raise BpmnRefused(f"{spec.name}: {_label(task_spec)}: {err}") from None
            operation = getattr(task_spec, "operation_name", None)
            if operation is not None and operation not in operations:
                raise BpmnRefused(f"{spec.name}: {_label(task_spec)}: unknown service operation {operation!r}")
            if getattr(task_spec, "manual", False):
                lane = getattr(task_spec, "lane", None)
                if lane not in LANES:
                    raise BpmnRefused(f"{spec.name}: {_label(task_spec)}: lane {lane!r} is not a role")
                properties = task_spec.extensions.get("properties", {})
                form = properties.get(FORM_PROPERTY)
                if form is None or form not in forms:
                    raise BpmnRefused(f"{spec.name}: {_label(task_spec)}: form schema {form!r} not found")
                used_forms.add(form)
                ui = properties.get(UI_PROPERTY)
                if ui is not None:
                    _check_ui_schema(f"{spec.name}: {_label(task_spec)}", ui, form, forms)
                    used_forms.add(ui)
    return used_forms


def _check_ui_schema(where: str, ui: str, form: str, forms: dict[str, str]) -> None:
    if ui not in forms:
        raise BpmnRefused(f"{where}: UI schema {ui!r} not found")
    try:
        schema = json.loads(forms[form])
    except ValueError:
        raise BpmnRefused(f"{where}: form schema {form!r} is not valid JSON") from None
    problem = form_ui.problem_of(forms[ui], schema if isinstance(schema, dict) else {})
    if problem is not None:
        raise BpmnRefused(f"{where}: UI schema {ui!r}: {problem}")


def read_directory(bpmn_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(bpmn_dir.glob("*.bpmn"))}
    forms = {p.name: p.read_text(encoding="utf-8") for p in sorted((bpmn_dir / "forms").glob("*.json"))}
    for name, text in forms.items():
        try:
            json.loads(text)
        except ValueError as err:
            raise BpmnRefused(f"forms/{name}: not valid JSON ({err})") from None
    return sources, forms


def current_definition(session: Session, process_id: str) -> ProcessDefinition | None:
    """The active version of a process (the one activated last): new instances start on it."""
    return session.scalar(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id, ProcessDefinition.activated_at.is_not(None))
        .order_by(ProcessDefinition.activated_at.desc(), ProcessDefinition.id.desc())
        .limit(1)
    )


def activate(definition: ProcessDefinition, actor: User | None) -> None:
    definition.activated_at = utcnow()
    definition.activated_by_id = actor.id if actor else None


def deploy(session: Session, bundles: dict[str, SpecBundle], actor: User | None, *,
           activate_now: bool = True) -> list[ProcessDefinition]:
    """Store each bundle as a new version unless a version with the same hash exists.

    ``activate_now`` (``petitio init``): each *newly stored* version becomes the active one at once; without it (an
    admin's upload) the versions wait for their own activation. Files that match a version already stored never
    change which version is active: ``petitio init`` runs at every start (``make run``) and must not undo an
    admin's activation of an uploaded version; rolling back is ``petitio processes activate``.
    """
    stored = []
    for process_id, bundle in sorted(bundles.items()):
        digest = bundle.sha256()
        current = current_definition(session, process_id)
        if current is not None and current.sha256 == digest:
            stored.append(current)
            continue
        existing = session.scalar(select(ProcessDefinition).filter_by(process_id=process_id, sha256=digest))
        if existing is not None:
            stored.append(existing)
            continue
        latest = session.scalar(
            select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == process_id)
        )
        definition = ProcessDefinition(
            process_id=process_id,
            version=(latest or 0) + 1,
            sha256=digest,
            sources=bundle.sources,
            spec_json=bundle.spec_json(),
            deployed_by_id=actor.id if actor else None,
        )
        if activate_now:
            activate(definition, actor)
        session.add(definition)
        stored.append(definition)
    session.flush()
    return stored


# Checked bundles by the digest of what they were parsed from: `petitio init` runs at every start (and every
# test's fresh instance runs it), and parsing and checking the shipped files costs far more than the lookup.
_PARSED: dict[str, dict[str, SpecBundle]] = {}
_PARSED_MAX = 8


def _parsed(sources: dict[str, str], forms: dict[str, str], operations: Collection[str]) -> dict[str, SpecBundle]:
    digest = hashlib.sha256(json.dumps([sources, forms, sorted(operations)], sort_keys=True).encode()).hexdigest()
    bundles = _PARSED.get(digest)
    if bundles is None:
        bundles = parse_bundle(sources, forms, operations=operations)  # a refusal raises: nothing is kept
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[digest] = bundles
    return bundles


def deploy_directory(session: Session, bpmn_dir: Path, *, operations: Collection[str],
                     actor: User | None = None) -> list[ProcessDefinition]:
    sources, forms = read_directory(bpmn_dir)
    return deploy(session, _parsed(sources, forms, operations), actor)


# Keyed by content hash: equal hashes mean equal specs, whichever database the row came from.
_SPEC_CACHE: dict[str, tuple[Any, dict[str, Any]]] = {}


def specs_for(definition: ProcessDefinition) -> tuple[Any, dict[str, Any]]:
    """Spec objects of a stored definition, restored once per process (definitions are immutable)."""
    cached = _SPEC_CACHE.get(definition.sha256)
    if cached is None:
        blob = json.loads(definition.spec_json)
        spec = SERIALIZER.registry.restore(blob["spec"])
        subprocess_specs = {k: SERIALIZER.registry.restore(v) for k, v in blob["subprocess_specs"].items()}
        cached = _SPEC_CACHE[definition.sha256] = (spec, subprocess_specs)
    return cached


_FORM_CACHE: dict[tuple[str, str], dict[str, Any]] = {}


def form_schema(definition: ProcessDefinition, form_name: str) -> dict[str, Any]:
    """A form file a task names (its JSON Schema or its UI schema), as deployed with the instance's definition
    version."""
    key = (definition.sha256, form_name)
    schema = _FORM_CACHE.get(key)
    if schema is None:
        schema = _FORM_CACHE[key] = json.loads(definition.sources[f"forms/{form_name}"])
    return schema
