"""Both document stores (``document_storage``: the filesystem, the ``document_blobs`` table) on SQLite and
PostgreSQL: the same encrypted blob format, a document's blob committed or rolled back with its row, reads from
another process's store, `petitio storage check`, key rotation and deletion alike."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.conftest import Env
from tests.helpers import PDF, open_sample_case
from workflow.keyring import DocumentCorrupted, KeyRing
from workflow.models import Case, Document
from workflow.runtime.context import document_store
from workflow.services.documents import attach_document
from workflow.services.keys import rotate_keys
from workflow.services.storage_check import check_storage
from workflow.storage import DocumentStore

REF = "APL-STORE"
STORAGES = ("filesystem", "database")


@pytest.fixture(params=STORAGES)
def store_env(request: pytest.FixtureRequest, env: Env) -> Env:
    return dataclasses.replace(env, settings=dataclasses.replace(env.settings, document_storage=request.param))


def _table_keys(env: Env) -> set[str]:
    with env.engine.connect() as conn:
        return set(conn.execute(text("SELECT key FROM document_blobs")).scalars())


def _disk_files(env: Env) -> list[Any]:
    root = env.settings.documents_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _attach(env: Env, content: bytes = PDF) -> str:
    with env.uow() as session:
        case = session.scalars(select(Case).where(Case.ref == REF)).one()
        return attach_document(session, env.settings, None, case, "evidence", content, "scan.pdf").storage_key


def test_a_document_lands_in_the_configured_store_encrypted_and_bound_to_its_key(store_env: Env) -> None:
    env = store_env
    open_sample_case(env, REF, documents=())
    key = _attach(env)
    in_db = env.settings.document_storage == "database"
    assert (key in _table_keys(env)) is in_db
    assert bool(_disk_files(env)) is not in_db
    store = document_store(env.settings)
    assert store.get(key) == PDF and store.blob_keys() == [key]
    stored = store.backend.read(key)
    assert b"%PDF" not in stored  # ciphertext, as on disk
    ring = KeyRing.load_or_create(env.settings.keys_dir)
    assert ring.decrypt(stored, aad=key.encode("ascii")) == PDF
    other = _attach(env)  # a blob under another key's name does not decrypt (the key is associated data)
    with pytest.raises(DocumentCorrupted):
        ring.decrypt(store.backend.read(other), aad=key.encode("ascii"))
    with pytest.raises(FileNotFoundError):
        store.get("0" * 32)
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")
    store.delete(key)
    store.delete(key)  # twice: no error
    with pytest.raises(FileNotFoundError):
        store.get(key)
    assert store.blob_keys() == [other]


def test_a_rolled_back_transaction_leaves_no_blob(store_env: Env) -> None:
    env = store_env
    open_sample_case(env, REF, documents=())
    with pytest.raises(RuntimeError), env.uow() as session:
        case = session.scalars(select(Case).where(Case.ref == REF)).one()
        key = attach_document(session, env.settings, None, case, "evidence", PDF, "scan.pdf").storage_key
        assert document_store(env.settings).get(key) == PDF  # the transaction reads what it wrote
        raise RuntimeError("the request failed after storing the document")
    assert document_store(env.settings).blob_keys() == []
    assert _table_keys(env) == set()
    with env.uow() as session:
        assert session.scalars(select(Document)).all() == []


def test_another_process_reads_what_one_wrote(store_env: Env) -> None:
    """Two stores made apart (as in two processes on two machines) share the blobs of the database store."""
    env = store_env
    open_sample_case(env, REF, documents=())
    key = _attach(env)
    elsewhere = dataclasses.replace(env.settings, home=env.settings.home.parent / "elsewhere")
    ring = KeyRing.load_or_create(env.settings.keys_dir)  # the key ring is copied to every machine
    if env.settings.document_storage == "database":
        assert document_store(elsewhere, keyring=ring).get(key) == PDF
    else:  # a filesystem store of another machine holds nothing of this one's
        with pytest.raises(FileNotFoundError):
            document_store(elsewhere, keyring=ring).get(key)


def test_storage_check_finds_orphans_and_missing_blobs_in_either_store(store_env: Env) -> None:
    env = store_env
    open_sample_case(env, REF, documents=())
    kept, gone = _attach(env), _attach(env)
    store = document_store(env.settings)
    orphan = store.stage(b"a blob no row names").key
    store.delete(gone)
    with env.uow() as session:
        young = check_storage(session, env.settings)
        assert (young.documents, young.recent, young.orphans, young.ok) == (2, 1, [], False)
        assert len(young.missing) == 1
    with env.uow() as session:
        later = check_storage(session, env.settings, remove=True, grace=timedelta(0))
        assert later.orphans and later.removed == 1
    assert store.blob_keys() == [kept] and orphan not in store.blob_keys()


def test_a_key_rotation_reencrypts_the_blobs_of_either_store(store_env: Env) -> None:
    env = store_env
    open_sample_case(env, REF, documents=())
    key = _attach(env)
    before = document_store(env.settings).backend.read(key)
    report = rotate_keys(env.engine, env.settings)
    assert report["documents_reencrypted"] == 1
    after = document_store(env.settings).backend.read(key)
    assert after != before
    fresh = DocumentStore(env.settings.documents_dir, KeyRing.load_or_create(env.settings.keys_dir),
                          backend=document_store(env.settings).backend)
    assert fresh.get(key) == PDF and fresh.keyring.is_current(after)
