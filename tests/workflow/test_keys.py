"""Key rotation (`petitio keys rotate`): everything reads back afterwards, the old key is gone and useless,
an interrupted rotation is finished by the next run, and an environment key is never "rotated" by us."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.conftest import Env
from tests.helpers import PDF, appeal, docx_bytes, ensure_episode
from workflow import crypto
from workflow.crypto import FieldCrypto, FieldDecryptionError
from workflow.keyring import KeyRing, UnknownKey
from workflow.models import (
    Arrest,
    Base,
    Case,
    CollectiveComplaint,
    CustodyPlace,
    Document,
    IllTreatment,
    Job,
    OrganisationProfile,
    Perpetrator,
    Person,
    RemedyStep,
)
from workflow.runtime.context import document_store
from workflow.services.cases import find_by_name, open_case
from workflow.services.keys import (
    RotationRefused,
    RotationReport,
    encrypted_tables,
    reencrypt_documents,
    rotate_keys,
    start_rotation,
)

PETITIO = Path(sys.executable).with_name("petitio")
IDENTITY = ("full_name", "full_name_native", "birth_date", "phone", "email", "passport_number", "address")
SENTENCE = "Fictional affidavit: the complainant was held for nine hours without water."


@pytest.fixture
def fields(env: Env) -> Iterator[Env]:
    crypto.configure(env.settings)
    yield env


def seed(env: Env, n: int = 3) -> dict[str, bytes]:
    """``n`` cases with identities and two documents each; returns document contents by storage key."""
    with env.uow() as session:
        ensure_episode(session)
        for i in range(1, n + 1):
            ref = f"KEY-{i:03d}"
            files = {"form_of_appeal": (PDF, f"foa-{i}.pdf"),
                     "power_of_attorney": (docx_bytes(f"{SENTENCE} ({ref})"), f"poa-{i}.docx")}
            case = open_case(session, env.settings, None, appeal(
                ref, full_name=f"Yerlan Rotatov {i}", full_name_native=f"Ерлан Ротатов {i}",
                birth_date=date(1970, 1, i), phone=f"+7 702 555 01{i:02d}",
                email=f"yerlan{i}@example.org", passport_number=f"R{i:08d}"), files, imported=True)
            case.person.address = f"{i} Rotation Row"
    with env.uow() as session:
        return {d.storage_key: document_store(env.settings).get(d.storage_key)
                for d in session.scalars(select(Document))}


def identities(env: Env) -> dict[str, dict[str, Any]]:
    with env.uow() as session:
        rows = session.execute(select(Case.ref, Person).join(Person, Case.person_id == Person.id)).all()
        return {ref: {f: getattr(p, f) for f in IDENTITY} for ref, p in rows}


def raw_fields(env: Env) -> dict[int, bytes]:
    with env.engine.connect() as conn:
        return {row.id: bytes(row.full_name) for row in conn.execute(text("SELECT id, full_name FROM persons"))}


def raw_blobs(env: Env) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in env.settings.documents_dir.rglob("*") if p.is_file()}


def key_files(env: Env) -> list[str]:
    return sorted(p.stem for p in env.settings.keys_dir.glob("*.key"))


def assert_all_readable(env: Env, documents: dict[str, bytes], people: dict[str, dict[str, Any]]) -> None:
    got = identities(env)
    assert {ref: got[ref] for ref in people} == people
    store = document_store(env.settings)
    for key, content in documents.items():
        assert store.get(key) == content
    with env.uow() as session:
        assert [p.full_name for p in find_by_name(session, "yerlan ROTATOV 2")] == ["Yerlan Rotatov 2"]
        assert [p.full_name for p in find_by_name(session, "Ерлан Ротатов 1")] == ["Yerlan Rotatov 1"]


def assert_old_key_useless(env: Env, old_id: str, fields_before: dict[int, bytes],
                           blobs_before: dict[str, bytes]) -> None:
    assert old_id not in key_files(env)
    ring = KeyRing.load_or_create(env.settings.keys_dir)
    assert ring.key_ids == {ring.current_id} != {old_id}
    for blob in fields_before.values():
        with pytest.raises(FieldDecryptionError, match="not in the key ring"):
            FieldCrypto(ring).decrypt("persons.full_name", blob)
    for name, blob in blobs_before.items():
        with pytest.raises(UnknownKey):
            ring.decrypt(blob, aad=name.encode("ascii"))
        # Even relabelled with the new key's id, the old ciphertext does not authenticate.
        relabelled = blob[:4] + ring.current_id.encode("ascii") + blob[12:]
        with pytest.raises(Exception, match="failed authentication"):
            ring.decrypt(relabelled, aad=name.encode("ascii"))


def test_rotation_reencrypts_everything_and_retires_the_old_key(fields: Env) -> None:
    env = fields
    documents = seed(env)
    people = identities(env)
    (old_id,) = key_files(env)
    fields_before, blobs_before = raw_fields(env), raw_blobs(env)

    report = rotate_keys(env.engine, env.settings, batch_size=2)  # several batches

    assert report["resumed"] is False
    assert report["retired"] == [old_id]
    assert report["documents_reencrypted"] == 6 and report["documents_skipped"] == 0
    assert report["persons_reencrypted"] == 3 and report["persons_skipped"] == 0
    assert key_files(env) == [report["key"]]
    assert (env.settings.keys_dir / "current").read_text().strip() == report["key"]
    assert all(blob[4:12] == report["key"].encode() for blob in raw_blobs(env).values())
    assert all(blob[4:12] == report["key"].encode() for blob in raw_fields(env).values())
    assert_all_readable(env, documents, people)
    assert_old_key_useless(env, old_id, fields_before, blobs_before)

    # A second rotation is a new rotation, and works the same way.
    again = rotate_keys(env.engine, env.settings)
    assert again["retired"] == [report["key"]] and key_files(env) == [again["key"]]
    assert_all_readable(env, documents, people)


def test_reads_work_during_an_interrupted_rotation_and_the_next_run_finishes_it(fields: Env) -> None:
    env = fields
    documents = seed(env)
    people = identities(env)
    (old_id,) = key_files(env)
    fields_before, blobs_before = raw_fields(env), raw_blobs(env)

    # Interrupted: the new key exists, the documents are done, the identity fields are not.
    ring, resumed = start_rotation(env.settings)
    assert not resumed
    assert reencrypt_documents(env.settings, ring, RotationReport()) == 6
    assert sorted(key_files(env)) == sorted([old_id, ring.current_id])
    assert_all_readable(env, documents, people)  # fields under the old key, documents under the new
    open_case_after = "KEY-009"
    with env.uow() as session:  # and writing meanwhile uses the new key
        open_case(session, env.settings, None, appeal(open_case_after, full_name="Yerlan Rotatov 9"),
                  {"form_of_appeal": (PDF, "late.pdf")}, imported=True)

    report = rotate_keys(env.engine, env.settings)

    assert report["resumed"] is True and report["key"] == ring.current_id
    assert report["documents_reencrypted"] == 0 and report["documents_skipped"] == 7
    assert report["persons_reencrypted"] == 3 and report["persons_skipped"] == 1
    assert report["retired"] == [old_id]
    assert identities(env)[open_case_after]["full_name"] == "Yerlan Rotatov 9"
    assert_all_readable(env, documents, people)
    assert_old_key_useless(env, old_id, fields_before, blobs_before)


# -- every encrypted column of the model ------------------------------------------------------------------

# One value per encrypted column that is not a person's identity: every one must read back after a rotation.
FACTS: dict[type, dict[str, Any]] = {
    Person: {"nationality": "Kazakhstan", "age": "34", "activity": "Blogger on land rights",
             "situation": "Summoned again; risk of arrest"},
    Perpetrator: {"agency": "police", "unit": "Almaty city police, 2nd unit", "position": "Major",
                  "name": "Officer Fictional", "actions": "Ordered the detention"},
    Arrest: {"place": "Republic Square", "forces": "Riot police", "warrant_issued_by": "No one",
             "reasons_given": "None given", "legal_provision": "Art. 488 Administrative Code",
             "duration": "15 days", "lawyer_access": "Refused for two days", "family_access": "None",
             "release": "Released after 15 days"},
    CustodyPlace: {"place": "Temporary detention centre No. 1", "authority": "Interior ministry"},
    IllTreatment: {"methods": "Beaten with batons", "duration": "Two hours, once", "effects": "Broken rib",
                   "medical_evidence": "Hospital record", "complaints": "Prosecutor, 2022-01-20",
                   "outcome": "No investigation"},
    RemedyStep: {"authority": "City court", "outcome": "Appeal dismissed"},
    OrganisationProfile: {"name": "Fictional Rights Bureau", "address": "1 Test Street, Almaty",
                          "email": "office@example.org", "phone": "+7 727 000 0000",
                          "representative": "Dana Lawyerova", "representative_title": "lawyer"},
    Job: {"kind": "bulk_review", "params": {"notes": "Peaceful assembly", "files": ["a.pdf"]}},
    # Free texts encrypted since issue 14, JSON ones included.
    CollectiveComplaint: {"title": "Fictional persecution", "body": "un_sp", "language": "en",
                          "narrative": {"summary": "Fictional raids"},
                          "officials": [{"position": "Colonel", "agency": "Police", "name": "Fictional", "role": ""}]},
}


def seed_facts(env: Env) -> None:
    """A row in every table with encrypted columns, on the first sample case."""
    with env.uow() as session:
        case = session.scalar(select(Case).where(Case.ref == "KEY-001"))
        for name, value in FACTS[Person].items():
            setattr(case.person, name, value)
        arrest = Arrest(case_id=case.id, **FACTS[Arrest])
        arrest.custody.append(CustodyPlace(**FACTS[CustodyPlace]))
        session.add_all([Perpetrator(case_id=case.id, **FACTS[Perpetrator]), arrest,
                         IllTreatment(case_id=case.id, **FACTS[IllTreatment]),
                         RemedyStep(case_id=case.id, **FACTS[RemedyStep]),
                         OrganisationProfile(**FACTS[OrganisationProfile]), Job(**FACTS[Job]),
                         CollectiveComplaint(**FACTS[CollectiveComplaint])])


def read_facts(env: Env) -> dict[type, dict[str, Any]]:
    with env.uow() as session:
        person = session.scalar(select(Case).where(Case.ref == "KEY-001")).person
        got = {Person: {name: getattr(person, name) for name in FACTS[Person]}}
        for model in (Perpetrator, Arrest, CustodyPlace, IllTreatment, RemedyStep, OrganisationProfile, Job,
                      CollectiveComplaint):
            row = session.scalars(select(model)).one()
            got[model] = {name: getattr(row, name) for name in FACTS[model]}
        return got


def test_every_encrypted_column_of_the_model_is_found_and_rotated(fields: Env) -> None:
    env = fields
    # Found from the model's metadata: every EncryptedText column (dates and JSON too), none left out.
    found = {t.name: set(t.columns) for t in encrypted_tables()}
    declared = {(c.table.name, c.name) for table in Base.metadata.sorted_tables for c in table.columns
                if isinstance(c.type, crypto.EncryptedText)}
    assert {(t, c) for t, columns in found.items() for c in columns} == declared
    assert {"persons", "perpetrators", "arrests", "custody_places", "ill_treatments", "remedy_steps",
            "organisation_profile", "jobs", "incidents", "consent_records", "reviews", "legal_facts",
            "collective_complaints", "documents", "responses", "filings", "process_instances"} <= set(found)
    assert {t.name: t.indexes for t in encrypted_tables() if t.indexes} == {
        "persons": {"full_name": "full_name_index", "full_name_native": "full_name_native_index"}}

    documents = seed(env, 2)
    seed_facts(env)
    people = identities(env)
    facts = read_facts(env)
    (old_id,) = key_files(env)

    report = rotate_keys(env.engine, env.settings, batch_size=1)

    assert report["retired"] == [old_id]
    assert report["rows_reencrypted"] == {"persons": 2, "perpetrators": 1, "arrests": 1, "custody_places": 1,
                                          "ill_treatments": 1, "remedy_steps": 1, "organisation_profile": 1,
                                          "jobs": 1, "collective_complaints": 1, "documents": 4, "incidents": 2,
                                          "process_instances": 2}
    # Nothing anywhere is left under the retired key, and every row reads back with the new ring only.
    with env.engine.connect() as conn:
        for table in encrypted_tables():
            for column in table.columns:
                blobs = conn.execute(text(f"SELECT {column} FROM {table.name} WHERE {column} IS NOT NULL")).scalars()
                assert {bytes(b)[4:12] for b in blobs} <= {report["key"].encode()}, f"{table.name}.{column}"
    crypto.configure(env.settings)
    assert read_facts(env) == facts
    assert_all_readable(env, documents, people)


def test_rotation_is_refused_with_an_environment_key(fields: Env) -> None:
    env = fields
    settings = dataclasses.replace(env.settings, document_key=base64.urlsafe_b64encode(os.urandom(32)).decode())
    with pytest.raises(RotationRefused, match="PETITIO_DOCUMENT_KEY"):
        rotate_keys(env.engine, settings)


# -- through the command --------------------------------------------------------------------------------


def petitio(env: Env, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PETITIO_") and k != "DATABASE_URL"}
    environ.update(PETITIO_HOME=str(env.settings.home), DATABASE_URL=env.settings.database_url, TZ="UTC",
                   PETITIO_DOCUMENT_STORAGE=env.settings.document_storage, **(extra or {}))
    return subprocess.run([str(PETITIO), *args], capture_output=True, text=True, env=environ, timeout=120,
                          check=False)


def test_keys_rotate_command(fields: Env) -> None:
    env = fields
    documents = seed(env, 2)
    people = identities(env)
    (old_id,) = key_files(env)
    fields_before, blobs_before = raw_fields(env), raw_blobs(env)

    result = petitio(env, "keys", "rotate")

    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["retired"] == [old_id] and report["documents_reencrypted"] == 4
    assert report["persons_reencrypted"] == 2
    # This process still holds the old ring in memory: it notices the rotation by itself.
    assert_all_readable(env, documents, people)
    assert_old_key_useless(env, old_id, fields_before, blobs_before)
    for value in people["KEY-001"].values():
        assert str(value) not in result.stdout + result.stderr


def test_keys_rotate_command_refuses_an_environment_key(fields: Env) -> None:
    env = fields
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    result = petitio(env, "keys", "rotate", extra={"PETITIO_DOCUMENT_KEY": key})
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(lines) == 1 and "PETITIO_DOCUMENT_KEY" in lines[0], result.stderr
    assert key not in result.stderr
