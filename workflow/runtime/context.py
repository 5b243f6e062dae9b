"""What a service operation called from a BPMN service task may use: the unit of work it runs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from workflow.config import Settings
from workflow.keyring import KeyRing
from workflow.models import Case, ProcessInstance, User, utcnow
from workflow.storage import DocumentStore
from workflow.storage_db import blob_backend


@dataclass
class ServiceContext:
    session: Session
    settings: Settings
    instance: ProcessInstance
    actor: User | None
    now: datetime = field(default_factory=utcnow)

    @property
    def case(self) -> Case:
        if self.instance.case is None:
            raise LookupError("this process instance belongs to no case")
        return self.instance.case

    @cached_property
    def store(self) -> DocumentStore:
        return document_store(self.settings, self.session)


def document_store(settings: Settings, session: Session | None = None, keyring: KeyRing | None = None) -> DocumentStore:
    """The configured store; ``session``: a database backend's writes and reads join its transaction."""
    if keyring is None:
        keyring = KeyRing.load_or_create(settings.keys_dir, env_key=settings.document_key)
    return DocumentStore(settings.documents_dir, keyring, max_bytes=settings.max_document_bytes,
                         backend=blob_backend(settings, session))

