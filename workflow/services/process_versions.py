"""Processes and their versions for admins: list, read, upload a new version, activate one (audited).

An upload is checked exactly like ``petitio init`` (``parse_bundle`` with the service operations) and stored
**inactive**: new instances start on a version only once an admin activates it (``activate_version``), a separate
audited step; rolling back is activating an earlier version. Instances already running stay on their version.

The uploaded files complete the active source set: a file uploaded replaces the file of the same name, and the
BPMN files and forms not uploaded come from the active versions' sources (the latest activated first, and the
file that defines an active process from that process's active version), so uploading only ``case.bpmn`` still
finds ``filing.bpmn`` for its call activity. Only the processes the upload touches get a version: those whose own
or called BPMN file, or a form they use, was uploaded.

Every refusal is one line (``BpmnRefused``) and stores nothing.

``actor`` None is the operator at the command line (``petitio processes``), as elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from workflow.audit import audit, is_code
from workflow.errors import BpmnRefused, Conflict, Forbidden, NotFound
from workflow.models import ProcessDefinition, ProcessInstance, User
from workflow.roles import ADMINS
from workflow.runtime.changes import FORM_PREFIX, ChangeSummary, defining_file, summarise
from workflow.runtime.specs import MAX_BPMN_BYTES, activate, current_definition, deploy, parse_bundle
from workflow.services.operations import OPERATIONS

MAX_UPLOAD_FILES = 40
# Names are audited (codes of at most 80 characters) and become part of a download's name.
FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,74}\.(bpmn|json)")
INSTANCE_STATUSES = ("running", "complete", "error")


@dataclass(frozen=True)
class VersionInfo:
    """One stored version as the lists show it."""

    definition: ProcessDefinition
    active: bool
    deployed_by: str | None  # usernames; None: the operator (petitio init, the command line)
    activated_by: str | None
    instances: dict[str, int]  # status -> number of instances on this version

    @property
    def process_id(self) -> str:
        return self.definition.process_id

    @property
    def version(self) -> int:
        return self.definition.version

    @property
    def sha256(self) -> str:
        return self.definition.sha256

    @property
    def short_sha(self) -> str:
        return self.definition.sha256[:12]

    @property
    def deployed_at(self) -> datetime:
        return self.definition.deployed_at

    @property
    def activated_at(self) -> datetime | None:
        return self.definition.activated_at


@dataclass(frozen=True)
class ProcessInfo:
    process_id: str
    active_version: int | None
    versions: list[VersionInfo]  # newest first


@dataclass(frozen=True)
class Uploaded:
    """What an upload did for one process: a new inactive version, or an existing version with the same sources."""

    info: VersionInfo
    new: bool
    changes: ChangeSummary  # against the version before it
    changes_from_active: ChangeSummary | None  # None when the version before it is the active one (or none is)


def require_admin(actor: User | None) -> None:
    if actor is not None and actor.role not in ADMINS:
        raise Forbidden("only admins manage processes")


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {row.id: row.username for row in session.execute(select(User.id, User.username).where(User.id.in_(ids)))}


def _counts(session: Session, definition_ids: list[int]) -> dict[int, dict[str, int]]:
    """definition id -> status -> number of instances, in one grouped query."""
    counts: dict[int, dict[str, int]] = {i: dict.fromkeys(INSTANCE_STATUSES, 0) for i in definition_ids}
    if definition_ids:
        rows = session.execute(
            select(ProcessInstance.definition_id, ProcessInstance.status, func.count())
            .where(ProcessInstance.definition_id.in_(definition_ids))
            .group_by(ProcessInstance.definition_id, ProcessInstance.status)
        )
        for definition_id, status, number in rows:
            counts[definition_id][status] = number
    return counts


def _infos(session: Session, definitions: list[ProcessDefinition]) -> list[VersionInfo]:
    active_ids = {d.id for d in (current_definition(session, p) for p in {d.process_id for d in definitions}) if d}
    names = _usernames(session, {i for d in definitions for i in (d.deployed_by_id, d.activated_by_id) if i})
    counts = _counts(session, [d.id for d in definitions])
    return [VersionInfo(d, d.id in active_ids, names.get(d.deployed_by_id or 0), names.get(d.activated_by_id or 0),
                        counts[d.id]) for d in definitions]


def list_processes(session: Session, actor: User | None) -> list[ProcessInfo]:
    """Every process with its versions (newest first), the active one marked, instances counted per version."""
    require_admin(actor)
    definitions = list(session.scalars(select(ProcessDefinition)
                                       .order_by(ProcessDefinition.process_id, ProcessDefinition.version.desc())))
    infos = _infos(session, definitions)
    processes: dict[str, list[VersionInfo]] = {}
    for info in infos:
        processes.setdefault(info.process_id, []).append(info)
    return [ProcessInfo(pid, next((v.version for v in versions if v.active), None), versions)
            for pid, versions in processes.items()]


def process_versions(session: Session, actor: User | None, process_id: str) -> ProcessInfo:
    found = next((p for p in list_processes(session, actor) if p.process_id == process_id), None)
    if found is None:
        raise NotFound(f"no process {process_id!r}")
    return found


def get_version(session: Session, actor: User | None, process_id: str, version: int) -> VersionInfo:
    require_admin(actor)
    definition = session.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.sources))
                                .filter_by(process_id=process_id, version=version))
    if definition is None:
        raise NotFound(f"no version {version} of process {process_id!r}")
    return _infos(session, [definition])[0]


@dataclass(frozen=True)
class SourceFile:
    name: str  # as stored: "case.bpmn", "forms/legal_review.json"
    text: str
    media_type: str
    download_name: str  # "case-v2-case.bpmn": which process and version it came from


def source_file(info: VersionInfo, name: str | None = None) -> SourceFile:
    """A version's source file: ``name``, or the BPMN file that defines the process."""
    sources = info.definition.sources
    name = name or defining_file(sources, info.process_id)
    if name is None or name not in sources:
        raise NotFound(f"version {info.version} of {info.process_id!r} has no file {name!r}")
    media_type = "application/json" if name.endswith(".json") else "application/xml"
    return SourceFile(name, sources[name], media_type,
                      f"{info.process_id}-v{info.version}-{name.removeprefix(FORM_PREFIX)}")


def _previous(session: Session, definition: ProcessDefinition) -> ProcessDefinition | None:
    return session.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.sources))
                          .where(ProcessDefinition.process_id == definition.process_id,
                                 ProcessDefinition.version < definition.version)
                          .order_by(ProcessDefinition.version.desc()).limit(1))


def changes_of(session: Session, definition: ProcessDefinition) -> tuple[ChangeSummary, ChangeSummary | None]:
    """The changes against the version before it, and against the active version when that is another one."""
    previous = _previous(session, definition)
    before = summarise(previous.sources if previous else {}, definition.sources, definition.process_id)
    active = current_definition(session, definition.process_id)
    if active is None or active.id in (definition.id, previous.id if previous else None):
        return before, None
    return before, summarise(active.sources, definition.sources, definition.process_id)


# -- upload --------------------------------------------------------------------------------------------------

def _checked_files(uploaded: Sequence[tuple[str, bytes]]) -> tuple[dict[str, str], dict[str, str]]:
    """(BPMN sources, form schemas) of an upload, each file checked; one line for the first problem."""
    files = dict(uploaded)
    if len(files) != len(uploaded):
        raise BpmnRefused("two uploaded files have the same name")
    if not files:
        raise BpmnRefused("no file uploaded: choose one or more .bpmn files and their form .json files")
    if len(files) > MAX_UPLOAD_FILES:
        raise BpmnRefused(f"{len(files)} files uploaded: at most {MAX_UPLOAD_FILES} at once")
    bpmn: dict[str, str] = {}
    forms: dict[str, str] = {}
    for name, content in sorted(files.items()):
        if FILE_NAME.fullmatch(name) is None:
            raise BpmnRefused(f"{name[:100]!r}: a file name of up to 74 letters, digits, '_', '.' and '-' ending "
                              "in .bpmn or .json is expected")
        if len(content) > MAX_BPMN_BYTES:
            raise BpmnRefused(f"{name}: larger than {MAX_BPMN_BYTES // 1024} KB")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise BpmnRefused(f"{name}: not UTF-8 text") from None
        if name.endswith(".json"):
            try:
                parsed = json.loads(text)
            except ValueError as err:
                raise BpmnRefused(f"{FORM_PREFIX}{name}: not valid JSON ({err})") from None
            if not isinstance(parsed, dict):
                raise BpmnRefused(f"{FORM_PREFIX}{name}: a JSON object is expected")
            forms[name] = text
        else:
            bpmn[name] = text
    return bpmn, forms


def _active_sources(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    """The BPMN files and forms of the active versions: the latest activated wins a name, and the file that
    defines a process comes from that process's active version."""
    actives = [d for d in (current_definition(session, p) for p in
                           session.scalars(select(ProcessDefinition.process_id).distinct())) if d is not None]
    actives.sort(key=lambda d: (d.activated_at, d.id))
    merged: dict[str, str] = {}
    for definition in actives:
        merged.update(definition.sources)
    for definition in actives:
        own = defining_file(definition.sources, definition.process_id)
        if own is not None:
            merged[own] = definition.sources[own]
    bpmn = {n: t for n, t in merged.items() if not n.startswith(FORM_PREFIX)}
    forms = {n.removeprefix(FORM_PREFIX): t for n, t in merged.items() if n.startswith(FORM_PREFIX)}
    return bpmn, forms


def upload(session: Session, actor: User | None, files: Sequence[tuple[str, bytes]]) -> list[Uploaded]:
    """Check the uploaded files ((file name, bytes) pairs) with the active sources and store each touched process
    as a new inactive version (audited ``process_deployed``). Raises BpmnRefused (one line) and stores nothing."""
    require_admin(actor)
    bpmn, forms = _checked_files(files)
    active_bpmn, active_forms = _active_sources(session)
    bundles = parse_bundle(active_bpmn | bpmn, active_forms | forms, operations=OPERATIONS)
    touched = {}
    for process_id, bundle in bundles.items():
        if not is_code(process_id):  # it is audited, and named in URLs
            raise BpmnRefused(f"process id {process_id[:100]!r}: up to 80 letters, digits, '_', '.' and '-'")
        files_used = {spec.file for spec in (bundle.spec, *bundle.subprocess_specs.values())}
        forms_used = {n.removeprefix(FORM_PREFIX) for n in bundle.sources if n.startswith(FORM_PREFIX)}
        if files_used & bpmn.keys() or forms_used & forms.keys():
            touched[process_id] = bundle
    if not touched:
        raise BpmnRefused(f"{', '.join(sorted(bpmn.keys() | forms.keys()))}: no process uses the uploaded files")
    known = {(d.process_id, d.sha256) for d in session.scalars(
        select(ProcessDefinition).where(ProcessDefinition.process_id.in_(touched.keys())))}
    stored = deploy(session, touched, actor, activate_now=False)
    results = []
    for definition in stored:
        new = (definition.process_id, definition.sha256) not in known
        if new:
            audit(session, actor, "process_deployed", "process", definition.process_id, None,
                  {"process": definition.process_id, "version": definition.version,
                   "sha256": definition.sha256[:12], "files": sorted(bpmn.keys() | forms.keys())})
        changes, from_active = changes_of(session, definition)
        results.append(Uploaded(_infos(session, [definition])[0], new, changes, from_active))
    return results


# -- activation ----------------------------------------------------------------------------------------------

def activate_version(session: Session, actor: User | None, process_id: str, version: int) -> VersionInfo | None:
    """Make a stored version the active one: new instances start on it. Audited ``process_activated``; returns
    the version active before (None if none was). Raises Conflict when it is the active one already."""
    info = get_version(session, actor, process_id, version)
    previous = current_definition(session, process_id)
    if previous is not None and previous.id == info.definition.id:
        raise Conflict(f"version {version} of {process_id!r} is the active version already")
    before = _infos(session, [previous])[0] if previous is not None else None
    activate(info.definition, actor)
    session.flush()
    audit(session, actor, "process_activated", "process", process_id, None,
          {"process": process_id, "version": version, "previous_version": previous.version if previous else None})
    return before
