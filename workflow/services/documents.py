"""Attaching documents to cases (checked by content and size, stored encrypted, recorded with SHA-256) and
opening them again (every download audited)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.models import Case, Document, User
from workflow.problems import Problem
from workflow.roles import DOCUMENT_READERS
from workflow.runtime.context import document_store
from workflow.runtime.pending_blobs import put_document
from workflow.states import UPLOAD_KINDS
from workflow.storage import DocumentStore
from workflow.uploads import DocumentRejected, check_document

log = logging.getLogger(__name__)


def attach_document(session: Session, settings: Settings, actor: User | None, case: Case, kind: str,
                    content: bytes, filename: str) -> Document:
    """A new version of the case's document of ``kind``. No file at all (``content`` and ``filename`` empty) and a
    file refused by its content are named under ``file``, an unknown kind under ``kind``, both at once."""
    _check(settings, kind, content, filename)
    previous = session.scalar(select(func.max(Document.version)).where(Document.case_id == case.id,
                                                                       Document.kind == kind))
    document = _stored(session, settings, actor, case, kind, content, filename, (previous or 0) + 1)
    session.flush()
    session.expire(case, ["documents"])
    audit_upload(session, actor, document)
    return document


def first_document(session: Session, settings: Settings, actor: User | None, case: Case, kind: str,
                   content: bytes, filename: str, store: DocumentStore) -> Document:
    """``attach_document`` for a case opened in this transaction (so the first version of its kind), many at
    once: the row is added but not flushed, and the caller audits it (``audit_upload``) once it has its id.
    ``store``: the session's (``document_store(settings, session)``), made once for them all."""
    _check(settings, kind, content, filename)
    return _stored(session, settings, actor, case, kind, content, filename, 1, store)


def audit_upload(session: Session, actor: User | None, document: Document) -> None:
    audit(session, actor, "document_uploaded", "document", document.id, document.case_id,
          {"kind": document.kind, "sha256": document.sha256, "size": document.size, "version": document.version})


def _check(settings: Settings, kind: str, content: bytes, filename: str) -> None:
    errors: dict[str, Problem] = {}
    if kind not in UPLOAD_KINDS:
        errors["kind"] = Problem("not_one_of", {"choices": list(UPLOAD_KINDS)})
    try:
        if not content and not filename:
            raise DocumentRejected(Problem("required"))
        check_document(content, filename, settings.max_document_bytes)
    except DocumentRejected as err:
        errors["file"] = err.problem
    if errors:
        raise ValidationFailed("the document was refused", errors=errors)


def _stored(session: Session, settings: Settings, actor: User | None, case: Case, kind: str, content: bytes,
            filename: str, version: int, store: DocumentStore | None = None) -> Document:
    blob = put_document(session, settings, content, filename, store=store)
    document = Document(case_id=case.id, kind=kind, filename=filename[-255:], media_type=blob.media_type,
                        size=blob.size, sha256=blob.sha256, storage_key=blob.key, version=version,
                        uploaded_by_id=actor.id if actor else None)
    session.add(document)
    return document


def get_document(session: Session, document_id: int, *, case: Case | None = None) -> Document:
    """A document by id; with ``case``, only when it belongs to that case (a wrong pairing is not found)."""
    document = session.get(Document, document_id)
    if document is None or (case is not None and document.case_id != case.id):
        raise NotFound(f"no document {document_id}")
    return document


def read_content(settings: Settings, document: Document) -> bytes:
    """A document's decrypted bytes. A blob lost from the store (a deleted file, a restore without the
    documents) is a 404 naming the document, logged for the administrators, never a 500."""
    try:
        return document_store(settings).get(document.storage_key)
    except FileNotFoundError:
        log.error("document %s: its stored blob is missing", document.id)
        raise NotFound(f"document {document.id}: the stored file is missing",
                       errors={"document": Problem("content_missing")}) from None


def download_document(session: Session, settings: Settings, actor: User, document: Document, *,
                      channel: str) -> bytes:
    """The decrypted bytes of a stored document; the read is audited (id and kind, never the content)."""
    if actor.role not in DOCUMENT_READERS:
        raise Forbidden("your role sees documents' details but may not open them")
    content = read_content(settings, document)
    audit(session, actor, "document_downloaded", "document", document.id, document.case_id,
          {"document_id": document.id, "kind": document.kind, "version": document.version, "channel": channel})
    return content
