"""Attaching documents to cases: checked by content and size, stored encrypted, recorded with SHA-256."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.config import Settings
from workflow.errors import ValidationFailed
from workflow.models import Case, Document, DocumentKind, User
from workflow.runtime.context import document_store
from workflow.storage import DocumentRejected

UPLOAD_KINDS = tuple(k.value for k in DocumentKind if k not in (DocumentKind.FILING,))


def attach_document(session: Session, settings: Settings, actor: User | None, case: Case, kind: str,
                    content: bytes, filename: str) -> Document:
    if kind not in UPLOAD_KINDS:
        raise ValidationFailed("unknown document kind", errors={"kind": f"must be one of {', '.join(UPLOAD_KINDS)}"})
    try:
        blob = document_store(settings).put(content, filename)
    except DocumentRejected as err:
        raise ValidationFailed(f"{filename}: {err}", errors={"file": str(err)}) from None
    previous = session.scalar(select(func.max(Document.version)).where(Document.case_id == case.id,
                                                                       Document.kind == kind))
    document = Document(case_id=case.id, kind=kind, filename=filename[-255:], media_type=blob.media_type,
                        size=blob.size, sha256=blob.sha256, storage_key=blob.key, version=(previous or 0) + 1,
                        uploaded_by_id=actor.id if actor else None)
    session.add(document)
    session.flush()
    session.expire(case, ["documents"])
    audit(session, actor, "document_uploaded", "document", document.id, case.id,
          {"kind": kind, "sha256": blob.sha256, "size": blob.size, "version": document.version})
    return document
