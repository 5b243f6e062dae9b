"""A version deployed before UI schemas existed names none: its running cases' forms are drawn as the active version
draws the very same form (services/tasks.task_ui_schema), never from a UI schema written for another form."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.helpers import open_sample_case, ready_ids, task
from workflow.models import ProcessDefinition
from workflow.runtime.specs import activate, current_definition, deploy_directory
from workflow.services.operations import OPERATIONS
from workflow.services.tasks import task_ui_schema

FORMS = Path(__file__).resolve().parents[2] / "bpmn" / "forms"


def _without_ui_schemas(env, tmp_path: Path, *, changed_form: str | None = None) -> Path:  # type: ignore[no-untyped-def]
    """The shipped processes as they were before UI schemas: no formUiSchemaFilename, no *-uischema.json."""
    earlier = tmp_path / "bpmn"
    shutil.copytree(env.settings.bpmn_dir, earlier)
    for path in earlier.glob("*.bpmn"):
        text = re.sub(r'\s*<spiffworkflow:property name="formUiSchemaFilename" value="[^"]+" />', "",
                      path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
    for path in (earlier / "forms").glob("*-uischema.json"):
        path.unlink()
    if changed_form:
        form = earlier / "forms" / changed_form
        schema = json.loads(form.read_text(encoding="utf-8"))
        schema["description"] = "An earlier wording of this form."
        form.write_text(json.dumps(schema), encoding="utf-8")
    return earlier


def _on_the_earlier_version(env, tmp_path: Path, ref: str, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        shipped = current_definition(session, "case").id
        [earlier] = [d for d in deploy_directory(session, _without_ui_schemas(env, tmp_path, **kwargs),
                                                 operations=OPERATIONS) if d.process_id == "case"]
        assert earlier.id != shipped and current_definition(session, "case").id == earlier.id
    open_sample_case(env, ref)
    with env.uow() as session:  # the shipped version becomes the active one again
        activate(session.get(ProcessDefinition, shipped), None)
    return shipped


def test_a_step_of_an_earlier_version_is_drawn_as_the_active_version_draws_the_same_form(env, tmp_path) -> None:
    _on_the_earlier_version(env, tmp_path, "UIS-1")
    [step] = ready_ids(env, "UIS-1")
    row = task(env, "UIS-1", step)
    shipped_ui = json.loads((FORMS / row.form.replace(".json", "-uischema.json")).read_text(encoding="utf-8"))
    with env.uow() as session:
        assert task_ui_schema(session, row) == shipped_ui != {}


def test_a_step_whose_form_changed_since_gets_the_type_defaults(env, tmp_path) -> None:
    open_sample_case(env, "UIS-0")
    [step] = ready_ids(env, "UIS-0")
    form = task(env, "UIS-0", step).form
    _on_the_earlier_version(env, tmp_path, "UIS-2", changed_form=form)
    with env.uow() as session:
        assert task_ui_schema(session, task(env, "UIS-2", step)) == {}
