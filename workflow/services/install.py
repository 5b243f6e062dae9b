"""``petitio init``: create or upgrade the schema, then deploy the process definitions in ``bpmn/``."""

from __future__ import annotations

from sqlalchemy import Engine

from workflow import bodies, crypto, schema, vocab
from workflow.config import Settings
from workflow.db import unit_of_work
from workflow.models import ProcessDefinition
from workflow.runtime.specs import deploy_directory
from workflow.services.operations import OPERATIONS


def initialise(engine: Engine, settings: Settings) -> list[ProcessDefinition]:
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.home.chmod(0o700)  # database, documents and keys: nobody else on the machine may read them
    crypto.configure(settings)  # identity fields (and the migration that encrypts old rows) use these keys
    schema.upgrade(engine)
    with unit_of_work(engine) as session:
        # Catalogue and vocabularies first: forms name them, and nothing an admin edited is overwritten.
        bodies.seed(session)
        vocab.seed(session)
        return deploy_directory(session, settings.bpmn_dir, operations=OPERATIONS)
