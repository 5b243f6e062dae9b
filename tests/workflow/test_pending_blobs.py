"""A new document's file takes its final name when its row commits, and is deleted when the transaction or the
savepoint that wrote it rolls back (workflow/runtime/pending_blobs.py). SQLite and PostgreSQL; with
TEST_DOCUMENT_STORAGE=database the blob's row commits and rolls back with the document's."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import PDF, open_sample_case
from workflow import storage_db
from workflow.models import Case, Document
from workflow.runtime.context import document_store
from workflow.services.documents import attach_document
from workflow.services.storage_check import check_storage
from workflow.storage import PENDING_SUFFIX
from workflow.storage_db import blob_backend

REF = "APL-PEND"


def _files(env) -> tuple[set[str], set[str]]:
    """The blobs stored for good, and those waiting for their transaction's end."""
    if env.settings.document_storage == "database":  # seen from another connection; in this process only
        return set(blob_backend(env.settings).stored_keys()), set(storage_db._IN_FLIGHT)
    root = env.settings.documents_dir
    names = {p.name for p in root.glob("??/??/*") if p.is_file()} if root.exists() else set()
    return ({n for n in names if re.fullmatch(r"[0-9a-f]{32}", n)},
            {n.removesuffix(PENDING_SUFFIX) for n in names if n.endswith(PENDING_SUFFIX)})


def _attach(env, session) -> str:
    case = session.scalars(select(Case).where(Case.ref == REF)).one()
    return attach_document(session, env.settings, None, case, "evidence", PDF, "scan.pdf").storage_key


def test_pending_until_commit_then_final(env) -> None:
    open_sample_case(env, REF, documents=())
    with env.uow() as session:
        key = _attach(env, session)
        assert _files(env) == (set(), {key})  # written, not visible as a document's file yet
        assert document_store(env.settings).get(key) == PDF  # the transaction itself reads it
    assert _files(env) == ({key}, set())
    assert document_store(env.settings).get(key) == PDF


def test_a_rollback_deletes_the_file(env) -> None:
    open_sample_case(env, REF, documents=())
    with pytest.raises(RuntimeError), env.uow() as session:
        _attach(env, session)
        raise RuntimeError("the request failed after storing the file")
    assert _files(env) == (set(), set())


def test_a_savepoint_rolled_back_deletes_only_its_files(env) -> None:
    open_sample_case(env, REF, documents=())
    with env.uow() as session:
        kept = _attach(env, session)
        savepoint = session.begin_nested()
        dropped = _attach(env, session)
        savepoint.rollback()
        assert _files(env) == (set(), {kept})
        assert dropped not in _files(env)[1]
    assert _files(env) == ({kept}, set())
    with env.uow() as session:
        assert set(session.scalars(select(Document.storage_key))) == {kept}


def test_killed_between_commit_and_rename_the_file_is_read_and_the_check_renames_it(env) -> None:
    if env.settings.document_storage == "database":
        pytest.skip("a blob in the database commits with its row: there is no rename to miss")
    open_sample_case(env, REF, documents=())
    store = document_store(env.settings)
    blob = store.put(PDF, "scan.pdf", pending=True)  # as a process that died right after its commit leaves it
    with env.uow() as session:
        case = session.scalars(select(Case).where(Case.ref == REF)).one()
        session.add(Document(case_id=case.id, kind="evidence", filename="scan.pdf", media_type=blob.media_type,
                             size=blob.size, sha256=blob.sha256, storage_key=blob.key, version=1))
    assert store.get(blob.key) == PDF
    with env.uow() as session:
        report = check_storage(session, env.settings)
        assert (report.unpublished, report.orphans, report.ok) == ([blob.key], [], False)
        report = check_storage(session, env.settings, remove=True)
        assert (report.published, report.ok) == (1, True)
    assert _files(env) == ({blob.key}, set())
