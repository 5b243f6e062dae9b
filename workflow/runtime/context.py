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
        return document_store(self.settings)


def document_store(settings: Settings) -> DocumentStore:
    keyring = KeyRing.load_or_create(settings.keys_dir, env_key=settings.document_key)
    return DocumentStore(settings.documents_dir, keyring, max_bytes=settings.max_document_bytes)
