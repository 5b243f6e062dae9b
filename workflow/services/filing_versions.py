"""The lawyer's final word: a legal officer uploads an edited .docx or PDF as the next version of a filing, or
changes a draft filing's language (which generates a new version).

Both happen only while the filing waits for its legal check (``check_filing`` of ``bpmn/filing.bpmn`` is ready):
the officer who approves the check approves the current version, and a collective complaint's manager then
approves that same version (nothing can be added while the manager's approval waits). From ``checked`` on the
filing is frozen (``FilingFrozen``, 409): the current version is the one submitted and bundled.

A regeneration (the check's "revise") after an uploaded version is a new generated version, numbered after it and
listed as generated: the edited version stays in the list, and is no longer the current one.

An uploaded version keeps no trace of the file's own name (which can carry a complainant's name): it is stored
as ``<reference>-<body>-<language>-v<N>-edited.<docx|pdf>``, encrypted like every document; the audit records who,
which filing, the version, its size and SHA-256.
"""

from __future__ import annotations

import io

import docx
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.bodies import filing_languages, get_body
from workflow.config import Settings
from workflow.errors import Conflict, FilingFrozen, FilingNotInCheck, Forbidden, NotFound, ValidationFailed
from workflow.models import Document, Filing, HumanTask, User
from workflow.problems import Problem
from workflow.roles import FILING_EDITORS
from workflow.runtime.context import document_store
from workflow.runtime.pending_blobs import put_document
from workflow.services.filing_documents import next_version, render_case_filing, version_filename
from workflow.states import FROZEN_FILING_STATES, DocumentKind
from workflow.uploads import DOCX, PDF, DocumentRejected, check_document

# The bpmn id of the legal check in bpmn/filing.bpmn: the one step during which a version may be added.
CHECK_STEP = "check_filing"
_EXTENSIONS = {DOCX: "docx", PDF: "pdf"}


def editable_filing(session: Session, actor: User, filing_id: int) -> Filing:
    """The filing, locked, when ``actor`` may add a version to it now; else Forbidden, NotFound or a Conflict
    (``FilingFrozen`` once checked, ``FilingNotInCheck`` while it is not waiting for its legal check)."""
    if actor.role not in FILING_EDITORS:
        raise Forbidden("only legal officers add a version to a filing")
    # Locked: two officers adding a version at once must not both become version N+1 (PostgreSQL; SQLite has one
    # writer already).
    filing = session.scalar(select(Filing).where(Filing.id == filing_id).with_for_update())
    if filing is None:
        raise NotFound(f"no filing {filing_id}")
    if filing.state in FROZEN_FILING_STATES:
        raise FilingFrozen(f"filing {filing.id} is {filing.state}: its approved version goes out as it is",
                           errors={"filing": Problem("filing_frozen", {"state": filing.state})})
    if not in_check(session, filing):
        raise FilingNotInCheck(f"filing {filing.id} is not waiting for its legal check",
                               errors={"filing": Problem("filing_not_in_check")})
    return filing


def in_check(session: Session, filing: Filing) -> bool:
    """Whether the filing's legal check is waiting (the pages offer the upload form only then)."""
    if filing.state in FROZEN_FILING_STATES:
        return False
    return session.scalar(select(HumanTask.id).where(
        HumanTask.filing_id == filing.id, HumanTask.bpmn_id == CHECK_STEP, HumanTask.state == "ready").limit(1)) \
        is not None


def check_edited(content: bytes, filename: str | None, max_bytes: int) -> str:
    """The media type of an edited filing (a .docx that python-docx opens, or a PDF); ValidationFailed (``file``)
    for anything else: empty, over the limit, a disguised or unknown type, a zip bomb, a broken .docx."""
    try:
        if not content:
            raise DocumentRejected(Problem("required" if not filename else "file_empty"))
        media_type = check_document(content, filename, max_bytes)  # size, type by content, name, zip bombs
        if media_type not in _EXTENSIONS:
            raise DocumentRejected(Problem("filing_version_type"))
        if media_type == DOCX:
            _reopen(content)
    except DocumentRejected as err:
        raise ValidationFailed("the edited filing was refused", errors={"file": err.problem}) from None
    return media_type


def _reopen(content: bytes) -> None:
    # The zip's directory was checked (check_document): declared sizes are bounded and zipfile never reads past
    # them, so this read is bounded too. Whatever python-docx cannot open is not a Word document to file.
    try:
        docx.Document(io.BytesIO(content))
    except Exception:  # python-docx raises many kinds (KeyError, lxml, zipfile, its own)
        raise DocumentRejected(Problem("docx_malformed")) from None


def upload_version(session: Session, settings: Settings, actor: User, filing_id: int, content: bytes,
                   filename: str | None) -> Document:
    """Store an edited .docx or PDF as the next version of the filing (encrypted), audited without its name."""
    filing = editable_filing(session, actor, filing_id)
    media_type = check_edited(content, filename, settings.max_document_bytes)
    blob = put_document(session, settings, content, None)  # checked again by content; the name is not kept
    version = next_version(filing)
    document = Document(case_id=filing.case_id, filing_id=filing.id, kind=DocumentKind.FILING,
                        filename=version_filename(filing, version, _EXTENSIONS[media_type], edited=True),
                        media_type=media_type, size=blob.size, sha256=blob.sha256, storage_key=blob.key,
                        version=version, uploaded_by_id=actor.id)
    session.add(document)
    session.flush()
    session.expire(filing, ["documents"])
    audit(session, actor, "filing_version_uploaded", "filing", filing.id, filing.case_id,
          {"body": filing.body, "version": version, "document_id": document.id, "size": blob.size,
           "sha256": blob.sha256, "format": _EXTENSIONS[media_type]})
    return document


def change_language(session: Session, settings: Settings, actor: User, filing_id: int, language: str) -> Document:
    """Write a draft individual filing in another of its body's languages: a new generated version in it."""
    filing = editable_filing(session, actor, filing_id)
    if filing.case_id is None:
        raise Conflict(f"filing {filing.id} is a collective complaint's",
                       errors={"language": Problem("collective_language")})
    choices = filing_languages(get_body(session, filing.body))
    if language not in choices:
        raise ValidationFailed("the language was refused",
                               errors={"language": Problem("not_one_of", {"choices": list(choices)})})
    before = filing.language
    filing.language = language
    document = render_case_filing(session, settings, document_store(settings), filing, actor)
    audit(session, actor, "filing_language_changed", "filing", filing.id, filing.case_id,
          {"body": filing.body, "before": before, "after": language, "version": document.version})
    return document
