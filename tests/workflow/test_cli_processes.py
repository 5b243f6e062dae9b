"""``petitio processes list|deploy|activate`` through click's runner, on the ``env`` database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import func, select

from tests.workflow.process_files import REFUSED, changed_case
from workflow.cli import main
from workflow.models import AuditEvent, ProcessDefinition
from workflow.runtime.specs import current_definition


def petitio(env, *args: str) -> Result:
    return CliRunner().invoke(main, ["processes", *args], env={
        "PETITIO_HOME": str(env.settings.home), "DATABASE_URL": env.settings.database_url})


def _write(folder: Path, name: str, content: bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return str(folder / name)


def test_deploy_prints_the_changes_and_activate_switches_versions(env, tmp_path: Path) -> None:
    listed = petitio(env, "list")
    assert listed.exit_code == 0, listed.output
    assert "case (active: 1)" in listed.output and "* v1 " in listed.output and "running 0" in listed.output

    case = _write(tmp_path / "v2", "case.bpmn", changed_case().encode())
    deployed = petitio(env, "deploy", case)
    assert deployed.exit_code == 0, deployed.output
    lines = deployed.output.splitlines()
    assert lines[0].startswith("case: version 2 stored (") and lines[0].endswith("), not active")
    assert "  renamed case:verify_consent (userTask) 'Verify consent' -> 'Check the consent'" in lines
    assert "  id changed case:set_review_due (scriptTask) 'Set review due date' -> set_review_due_at" in lines
    assert "  added case:merge_before_triage (exclusiveGateway)" in lines
    assert "  removed case:merge_triage (exclusiveGateway)" in lines
    again = petitio(env, "deploy", case)
    assert again.exit_code == 0 and again.output.startswith("case: these files are version 2 already (not active)")

    activated = petitio(env, "activate", "case", "2")
    assert activated.exit_code == 0 and activated.output == "case: version 2 is now active (was version 1)\n"
    assert "* v2 " in petitio(env, "list").output
    with env.uow() as session:
        [event] = session.scalars(select(AuditEvent).filter_by(action="process_activated")).all()
        assert event.actor_id is None and event.data == {"process": "case", "version": 2, "previous_version": 1}

    third = _write(tmp_path / "v3", "case.bpmn",
                   changed_case().replace('name="Check the consent"', 'name="Consent check"').encode())
    deployed = petitio(env, "deploy", "--activate", third)
    assert deployed.exit_code == 0, deployed.output
    assert deployed.output.splitlines()[-1] == "case: version 3 is now active"
    rollback = petitio(env, "activate", "case", "1")
    assert rollback.output == "case: version 1 is now active (was version 3)\n"
    with env.uow() as session:
        assert current_definition(session, "case").version == 1


def test_refusals_are_one_line_exit_1_and_store_nothing(env, tmp_path: Path) -> None:
    with env.uow() as session:
        before = session.scalar(select(func.count()).select_from(ProcessDefinition))
    for kind in ("doctype_entity", "malformed", "unknown_operation", "lane_not_a_role", "missing_form",
                 "unsafe_script", "form_not_json"):
        [(name, content)] = REFUSED[kind][0].items()
        result = petitio(env, "deploy", _write(tmp_path / kind, name, content))
        assert result.exit_code == 1, (kind, result.output)
        assert result.output.count("\n") == 1 and REFUSED[kind][1] in result.output, (kind, result.output)
        assert "Traceback" not in result.output
    for args in (("activate", "case", "7"), ("activate", "nothing", "1"), ("activate", "case", "1")):
        result = petitio(env, *args)
        assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    with env.uow() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == before
