"""Schemathesis against the API's own OpenAPI document, once per role (intake, legal, manager, admin).

Each role gets a fresh SQLite instance in pytest's temporary folder, seeded with cases in several stages,
their documents, a filing awaiting its legal check and a collective complaint; requests go to the Flask app
in-process (WSGI), never over the network, so nothing outside that instance can be touched, and destructive
operations are fine. For every operation the fuzzer sends schema-valid requests with generated path values,
schema-valid requests whose path values name objects that exist (so that the routes behind the 404 are
reached), and schema-violating requests. The seed is fixed (``derandomize``): a CI failure replays.

A run fails on any 5xx (ST101), on a response its documented schema rejects (ST108, ST109), on a status
code (ST103) or a content type (ST105) the operation does not document. Schema-valid requests the app
refuses with 422 (ST202) are counted but do not fail: many are rules a schema cannot express (an unknown
reference, a date after another).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from tests.fuzz.conftest import FUZZ_COUNTS
from tests.helpers import do, filing_in_check, open_sample_case
from tests.web.test_api_filings import approved, complaint
from web import create_app
from workflow.models import ApiToken, Case, CollectiveComplaint, Document, Filing, HumanTask, Job, ProcessInstance
from workflow.services.api_tokens import create_token
from workflow.services.users import get_user

ROLES = {"intake": "ina", "legal": "lena", "manager": "mara", "admin": "ada"}
# Examples per operation and kind (generated paths, known paths, negative): 66 operations x 4 roles x this.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
FAILING = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
REPORTED = [positive_data_acceptance]



@dataclass
class Report:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (operation, code, title) -> repro
    rejected_valid: Counter[str] = field(default_factory=Counter)  # ST202 per operation (not failing)
    rejected_example: dict[str, str] = field(default_factory=dict)  # operation -> one such request and answer


REVOKE = "DELETE /api/v1/account/tokens/{token_id}"


def seed(env: Any, app: Any) -> dict[str, list[Any]]:
    """Cases at intake, at the legal review, with a filing in its check, and two in a collective complaint."""
    open_sample_case(env, "APL-901")
    open_sample_case(env, "APL-902", documents=("form_of_appeal",))
    open_sample_case(env, "APL-903")
    do(env, "APL-903", "verify_consent", "ina", {"form_of_appeal_verified": True, "power_of_attorney_verified": True})
    filing_in_check(env, "APL-904")
    collective_only = {"decision": "approve", "bodies": [], "grounds": ["iccpr_21"]}
    for ref in ("APL-905", "APL-906"):
        approved(env, ref, collective_only)
    created = app.test_client().post("/api/v1/collective-complaints", json=complaint(["APL-905", "APL-906"]),
                                     headers=bearer(env, "lena"))
    assert created.status_code == 201, created.get_data(as_text=True)
    for username in ROLES.values():  # a spare token each, for the revocation route to find
        bearer(env, username)
    with env.uow() as session:
        def ids(column: Any) -> list[Any]:
            return sorted(session.scalars(select(column)))

        # Task ids are random UUIDs: ordered by what they are, so that the same draw names the same task each run.
        tasks = list(session.scalars(select(HumanTask.id).order_by(HumanTask.case_id, HumanTask.bpmn_id,
                                                                     HumanTask.state, HumanTask.created_at)))
        return {"ref": ids(Case.ref), "task_id": tasks, "filing_id": ids(Filing.id),
                "collective_id": ids(CollectiveComplaint.id), "document_id": ids(Document.id),
                "job_id": ids(Job.id) or [1], "token_id": ids(ApiToken.id), "row_id": [1, 2, 3],
                "instance_id": ids(ProcessInstance.id),
                "code": ["un_sp", "echr", "hrc"],
                "vocabulary": ["incident_type", "perpetrator_agency", "legal_ground", "mandate", "city"],
                "key": ["detention_at_rally", "police", "iccpr_21", "assembly", "Almaty"],
                "form": ["form_of_appeal", "power_of_attorney"],
                "process_id": ["case", "filing", "collective_complaint"], "version": [1, 2]}


def bearer(env: Any, username: str) -> dict[str, str]:
    with env.uow() as session:
        _, value = create_token(session, None, get_user(session, username), channel="cli")
        return {"Authorization": f"Bearer {value}"}


def known_paths(operation: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    names = [p.name for p in operation.path_parameters]
    return st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})


def fuzz_operation(operation: Any, known: dict[str, list[Any]], headers: dict[str, str], report: Report) -> None:
    strategies = [operation.as_strategy(), operation.as_strategy(schemathesis.GenerationMode.NEGATIVE)]
    if operation.path_parameters:
        strategies.append(known_paths(operation, known).flatmap(
            lambda values: operation.as_strategy(path_parameters=values)))

    @settings(max_examples=EXAMPLES * len(strategies), derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.one_of(strategies))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        report.requests += 1
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=FAILING + REPORTED, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, failure.code, failure.title)
                if failure.code == "ST202":
                    report.rejected_valid[operation.label] += 1
                    report.rejected_example.setdefault(operation.label, f"{case.as_curl_command(headers=headers)}"
                                                       f" -> {response.status_code} {response.text[:300]}")
                else:
                    report.failures.setdefault(key, f"{failure.message}\n{case.as_curl_command(headers=headers)}")

    run()


@pytest.fixture
def hypothesis_home(tmp_path) -> Iterator[None]:
    """Hypothesis keeps a cache of the constants it reads in the code: in the test's folder, not the checkout."""
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    yield
    set_hypothesis_home_dir(None)


@pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # the SQLite half only: the API layer is the same
@pytest.mark.parametrize("role", list(ROLES))
def test_the_api_answers_every_generated_request_as_documented(env, staff, role, tmp_path, monkeypatch,
                                                                hypothesis_home) -> None:
    # Without LibreOffice on PATH a PDF download is the documented 409 rather than seconds of conversion.
    monkeypatch.setenv("PATH", str(tmp_path))
    app = create_app(env.settings, TESTING=True)
    known = seed(env, app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(env, ROLES[role])
    report = Report()
    started, cpu = time.monotonic(), time.process_time()
    # Revoking a token last: a generated id may be the run's own token, and every request after it would be a 401.
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.label == REVOKE)
    for operation in operations:
        fuzz_operation(operation, known, headers, report)
    FUZZ_COUNTS[role] = {"requests": report.requests, "seconds": time.monotonic() - started,
                         "cpu": time.process_time() - cpu}
    print(f"\n{role}: {report.requests} requests, statuses {dict(sorted(report.statuses.items()))}")
    for label, count in sorted(report.rejected_valid.items()):
        print(f"  ST202 (valid data refused, not failing) x{count} on {label}")
        if os.environ.get("FUZZ_VERBOSE"):
            print(f"    e.g. {report.rejected_example[label]}")
    assert not report.failures, "\n\n".join(f"{code} {title} on {label}:\n{detail}" for (label, code, title), detail
                                          in sorted(report.failures.items()))
