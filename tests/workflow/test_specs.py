"""Process definitions: the shipped BPMN, hostile BPMN, the MIWG corpus, and versioned deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from tests.helpers import case_instance, open_sample_case
from tools.layout_bpmn import with_diagram
from workflow.errors import BpmnRefused
from workflow.models import ProcessDefinition
from workflow.runtime.scripting import make_script_engine
from workflow.runtime.specs import (
    FORM_PROPERTY,
    MAX_BPMN_BYTES,
    UI_PROPERTY,
    activate,
    current_definition,
    deploy,
    deploy_directory,
    parse_bundle,
    read_directory,
)
from workflow.services.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
MIWG_DIR = Path("/work/shared/corpora/bpmn-miwg")
MIWG_FILES = sorted(MIWG_DIR.glob("*.bpmn"))
SOURCES, FORMS = read_directory(BPMN_DIR)
ROLES = {"intake", "legal", "manager"}
# INTERFACES.md §5: bpmn id -> lane.
INTERFACE_TASKS = {
    "complete_intake": "intake",
    "verify_consent": "intake",
    "request_documents": "intake",
    "legal_review": "legal",
    "approve_review": "manager",
    "check_filing": "legal",
    "submit_filing": "intake",
    "follow_up": "legal",
    "record_outcome": "legal",
}


def all_specs(bundle) -> list:
    return [bundle.spec, *bundle.subprocess_specs.values()]


def manual_tasks(bundle) -> dict[str, object]:
    return {ts.bpmn_id: ts for spec in all_specs(bundle) for ts in spec.task_specs.values()
            if getattr(ts, "manual", False)}


# -- the shipped definitions --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundles():
    return parse_bundle(SOURCES, FORMS, operations=OPERATIONS)


def test_every_bpmn_file_parses_alone_and_together(bundles) -> None:
    assert sorted(SOURCES) == ["case.bpmn", "collective_complaint.bpmn", "filing.bpmn"]
    assert {"case", "collective_complaint", "filing"} <= set(bundles)
    # filing.bpmn is executable on its own; case.bpmn and collective_complaint.bpmn need it for their
    # call activities.
    assert "filing" in parse_bundle({"filing.bpmn": SOURCES["filing.bpmn"]}, FORMS, operations=OPERATIONS)
    for caller in ("case.bpmn", "collective_complaint.bpmn"):
        with pytest.raises(BpmnRefused, match="filing"):
            parse_bundle({caller: SOURCES[caller]}, FORMS, operations=OPERATIONS)


@pytest.mark.parametrize("caller", ["case", "collective_complaint"])
def test_case_and_collective_complaint_call_filing(bundles, caller) -> None:
    assert "filing" in bundles[caller].subprocess_specs
    assert bundles[caller].subprocess_specs["filing"].name == "filing"


def test_manual_tasks_have_a_role_lane_and_an_existing_form(bundles) -> None:
    for bundle in bundles.values():
        tasks = manual_tasks(bundle)
        assert tasks, bundle.process_id
        for bpmn_id, task_spec in tasks.items():
            assert task_spec.lane in ROLES, (bpmn_id, task_spec.lane)
            form = task_spec.extensions.get("properties", {}).get(FORM_PROPERTY)
            assert form in FORMS, (bpmn_id, form)
            assert (BPMN_DIR / "forms" / form).is_file()
            # The bundle carries the schema it was built with.
            assert bundle.sources[f"forms/{form}"] == FORMS[form]
            # ... and its UI schema, named spiff-arena's way next to the form.
            ui = task_spec.extensions["properties"][UI_PROPERTY]
            assert ui == form.removesuffix(".json") + "-uischema.json", (bpmn_id, ui)
            assert bundle.sources[f"forms/{ui}"] == FORMS[ui]


@pytest.mark.parametrize("form", sorted(p.name for p in (BPMN_DIR / "forms").glob("*.json")
                                         if not p.name.endswith("-uischema.json")))
def test_every_form_is_a_valid_json_schema(form: str) -> None:
    schema = json.loads((BPMN_DIR / "forms" / form).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema.get("type") == "object"


def test_interface_task_ids_and_lanes(bundles) -> None:
    tasks = manual_tasks(bundles["case"])
    for bpmn_id, lane in INTERFACE_TASKS.items():
        assert bpmn_id in tasks, f"{bpmn_id} is not a user task of case or its subprocesses"
        assert tasks[bpmn_id].lane == lane, (bpmn_id, tasks[bpmn_id].lane)


# -- hostile definitions -------------------------------------------------------------------------------

# Laid out like bpmn/ (tools/layout_bpmn.py): the deploy check refuses a file without a complete diagram.
TINY = with_diagram("""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="definitions_tiny" targetNamespace="https://petitio.org/bpmn/test">
  <bpmn:process id="tiny" name="Tiny" isExecutable="true">
    <bpmn:laneSet id="tiny_lanes">
      <bpmn:lane id="tiny_lane" name="intake">
        <bpmn:flowNodeRef>ask</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="begin" name="Begin">
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="ask" />
    <bpmn:userTask id="ask" name="Ask">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="complete_intake.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="ask" targetRef="compute" />
    <bpmn:scriptTask id="compute" name="Compute" scriptFormat="python">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>total = 1 + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="finish" />
    <bpmn:endEvent id="finish" name="Finish">
      <bpmn:incoming>f3</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""")
SCRIPT = "<bpmn:script>total = 1 + 1</bpmn:script>"
TAIL = """    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="finish" />
    <bpmn:endEvent id="finish" name="Finish">
      <bpmn:incoming>f3</bpmn:incoming>
    </bpmn:endEvent>
"""
ESCAPE = "().__class__.__base__.__subclasses__()"


def replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def with_script(source: str) -> str:
    return replace(TINY, SCRIPT, f"<bpmn:script>{source}</bpmn:script>")


def with_gateway(condition: str) -> str:
    """compute -> exclusive gateway -> finish (default) or finish_other (``condition``)."""
    return with_diagram(replace(TINY, TAIL, f"""    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="choose" />
    <bpmn:exclusiveGateway id="choose" name="Choose" default="f4">
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f4" sourceRef="choose" targetRef="finish" />
    <bpmn:sequenceFlow id="f5" sourceRef="choose" targetRef="finish_other">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="finish" name="Finish">
      <bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:endEvent id="finish_other" name="Finish otherwise">
      <bpmn:incoming>f5</bpmn:incoming>
    </bpmn:endEvent>
"""))


def with_timer(expression: str, script: str = "total = 1 + 1") -> str:
    """compute -> intermediate timer ``wait`` (timeDate ``expression``) -> finish."""
    text = replace(TINY, SCRIPT, f"<bpmn:script>{script}</bpmn:script>")
    return with_diagram(replace(text, TAIL, f"""    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait" name="Wait">
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer">
        <bpmn:timeDate>{expression}</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="finish" />
    <bpmn:endEvent id="finish" name="Finish">
      <bpmn:incoming>f4</bpmn:incoming>
    </bpmn:endEvent>
"""))


def with_service(operation: str, param: str = "'x'") -> str:
    old = """    <bpmn:scriptTask id="compute" name="Compute" scriptFormat="python">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>total = 1 + 1</bpmn:script>
    </bpmn:scriptTask>
"""
    return replace(TINY, old, f"""    <bpmn:serviceTask id="compute" name="Call out">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="value" type="str" value="{param}" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:serviceTask>
""")


def with_prescript(source: str) -> str:
    return replace(TINY, '<spiffworkflow:properties>',
                   f'<spiffworkflow:preScript>{source}</spiffworkflow:preScript>\n        <spiffworkflow:properties>')


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol "lol">\n'
    + "".join(f'  <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
              for i in range(1, 10))
    + "]>\n"
)
XXE = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'

# name -> (BPMN text, text the message must contain, element id the message must name or None)
HOSTILE: dict[str, tuple[str, str, str | None]] = {
    "xxe": (XXE + replace(TINY.split("\n", 1)[1], 'name="Ask"', 'name="&e;"'), "DOCTYPE", None),
    "billion_laughs": (
        BILLION_LAUGHS + replace(TINY.split("\n", 1)[1], 'name="Ask"', 'name="&lol9;"'), "ENTITY", None),
    "import_os": (with_script("import os\nos.getcwd()"), "import", "compute"),
    "from_import": (with_script("from os import path"), "import", "compute"),
    "subclasses_in_script": (with_script(f"classes = {ESCAPE}"), "__class__", "compute"),
    "subclasses_in_condition": (with_gateway(f"len({ESCAPE}) &gt; 0"), "__class__", "choose"),
    "subclasses_in_timer": (with_timer(ESCAPE), "__class__", "wait"),
    "subclasses_in_prescript": (with_prescript(f"classes = {ESCAPE}"), "__class__", "ask"),
    "subclasses_in_service_param": (with_service("escalate", ESCAPE), "__class__", "compute"),
    "timer_none": (with_timer("None"), "None", "wait"),
    "timer_empty": (with_timer(" "), "empty", "wait"),
    "unknown_operation": (with_service("no_such_operation"), "no_such_operation", "compute"),
    "lane_not_a_role": (replace(TINY, 'name="intake"', 'name="paralegal"'), "paralegal", "ask"),
    "no_lane": (replace(TINY, "<bpmn:flowNodeRef>ask</bpmn:flowNodeRef>", ""), "lane None", "ask"),
    "missing_form": (replace(TINY, "complete_intake.json", "no_such_form.json"), "no_such_form.json", "ask"),
    "no_form": (replace(TINY, 'value="complete_intake.json"', 'value=""').replace(
        'name="formJsonSchemaFilename"', 'name="somethingElse"'), "form", "ask"),
    "missing_called_process": (
        replace(replace(replace(TINY, '<bpmn:scriptTask id="compute" name="Compute" scriptFormat="python">',
                                '<bpmn:callActivity id="compute" name="Call" calledElement="ghost">'),
                        "</bpmn:scriptTask>", "</bpmn:callActivity>"), f"      {SCRIPT}\n", ""),
        "ghost", "compute"),
    "script_syntax_error": (with_script("total = = 1"), "syntax", "compute"),
    "not_well_formed": (TINY.replace("</bpmn:definitions>", ""), "well-formed", None),
    "mismatched_tag": (replace(TINY, "</bpmn:userTask>", "</bpmn:task>"), "well-formed", None),
    "not_executable": (replace(TINY, 'isExecutable="true"', 'isExecutable="false"'), "no executable process", None),
    "too_large": (replace(TINY, "</bpmn:definitions>", f"<!-- {'x' * MAX_BPMN_BYTES} -->\n</bpmn:definitions>"),
                  "larger than", None),
}


def test_tiny_process_is_valid() -> None:
    """The base every hostile case mutates deploys, and so do its harmless variants."""
    for text in (TINY, with_gateway("total == 2"), with_timer("deadline_in(days=1)"), with_service("escalate"),
                 with_prescript("greeting = 'hello'")):
        assert set(parse_bundle({"tiny.bpmn": text}, FORMS, operations=OPERATIONS)) == {"tiny"}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bpmn_is_refused(case: str) -> None:
    text, needle, element = HOSTILE[case]
    with pytest.raises(BpmnRefused) as refused:
        parse_bundle({"tiny.bpmn": text}, FORMS, operations=OPERATIONS)
    message = str(refused.value)
    assert "\n" not in message and "\r" not in message, message
    assert needle.lower() in message.lower(), message
    if element is not None:
        assert element in message, message
    else:
        assert "tiny.bpmn" in message, message
    assert "root:" not in message


def with_ui(name: str = "ask-uischema.json") -> str:
    return replace(TINY, '<spiffworkflow:property name="formJsonSchemaFilename" value="complete_intake.json" />',
                   '<spiffworkflow:property name="formJsonSchemaFilename" value="complete_intake.json" />\n'
                   f'          <spiffworkflow:property name="formUiSchemaFilename" value="{name}" />')


# name -> (the UI schema's text, or None for no file; what the one line must say)
BAD_UI: dict[str, tuple[str | None, str]] = {
    "missing": (None, "UI schema 'ask-uischema.json' not found"),
    "not_json": ('{"notes": {"ui:widget": "textarea",}', "not valid JSON"),
    "not_an_object": ('["notes"]', "not a JSON object"),
    "unknown_field": ('{"comment": {"ui:widget": "textarea"}}', "names field 'comment', which the form does not have"),
    "unknown_field_in_order": ('{"ui:order": ["notes", "comment"]}', "names field 'comment'"),
    "unknown_widget": ('{"notes": {"ui:widget": "slider"}}', "unknown widget 'slider'"),
    "widget_that_does_not_fit": ('{"notes": {"ui:widget": "checkbox"}}', "widget 'checkbox' does not fit"),
    "unknown_key": ('{"notes": {"ui:script": "alert(1)"}}', "unknown key 'ui:script'"),
    "rows_not_a_number": ('{"notes": {"ui:rows": "many"}}', "ui:rows"),
    "help_not_a_text": ('{"notes": {"ui:help": ["a"]}}', "must be texts"),
}


def test_a_ui_schema_that_fits_its_form_is_stored_with_the_version() -> None:
    ui = '{"ui:order": ["notes"], "notes": {"ui:widget": "textarea", "ui:rows": 5, "ui:help": "Anything else?"}}'
    bundle = parse_bundle({"tiny.bpmn": with_ui()}, {**FORMS, "ask-uischema.json": ui}, operations=OPERATIONS)["tiny"]
    assert bundle.sources["forms/ask-uischema.json"] == ui
    assert bundle.sources["forms/complete_intake.json"] == FORMS["complete_intake.json"]


@pytest.mark.parametrize("case", sorted(BAD_UI))
def test_a_ui_schema_that_does_not_fit_is_refused_in_one_line(case: str) -> None:
    text, needle = BAD_UI[case]
    forms = FORMS if text is None else {**FORMS, "ask-uischema.json": text}
    with pytest.raises(BpmnRefused) as refused:
        parse_bundle({"tiny.bpmn": with_ui()}, forms, operations=OPERATIONS)
    message = str(refused.value)
    assert "\n" not in message and needle in message, message
    assert message.startswith("tiny.bpmn: tiny: ask ('Ask'): UI schema 'ask-uischema.json'"), message


def test_hostile_bytes_are_refused_too() -> None:
    """The XML guards hold whether the source arrives as text or as bytes."""
    from workflow.runtime.specs import parse_xml

    with pytest.raises(BpmnRefused, match="DOCTYPE"):
        parse_xml(HOSTILE["xxe"][0].encode(), "tiny.bpmn")
    with pytest.raises(BpmnRefused, match="larger than"):
        parse_xml(b" " * (MAX_BPMN_BYTES + 1), "tiny.bpmn")
    # UTF-16 slips past the byte-level DOCTYPE check; the hardened lxml parser must still refuse.
    for case in ("xxe", "billion_laughs"):
        text = HOSTILE[case][0].replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
        with pytest.raises(BpmnRefused) as refused:
            parse_xml(text.encode("utf-16"), "tiny.bpmn")
        assert "\n" not in str(refused.value) and "root:" not in str(refused.value)


def test_timer_that_gives_none_at_run_time_is_a_clear_task_error() -> None:
    text = with_timer("missing_due", script="missing_due = None")
    # Valid Python: the deploy check passes.
    bundle = parse_bundle({"tiny.bpmn": text}, FORMS, operations=OPERATIONS)["tiny"]
    workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=make_script_engine(None))
    workflow.do_engine_steps()
    [ask] = workflow.get_tasks(state=TaskState.READY, manual=True)
    ask.run()
    with pytest.raises(WorkflowTaskException) as failed:
        workflow.do_engine_steps()
    assert not isinstance(failed.value, AttributeError)
    assert "timer expression 'missing_due' gave None" in str(failed.value)
    assert failed.value.task.task_spec.bpmn_id == "wait"


def test_timer_that_gives_a_date_at_run_time_waits() -> None:
    text = with_timer("due", script="due = deadline_in(days=2)")
    bundle = parse_bundle({"tiny.bpmn": text}, FORMS, operations=OPERATIONS)["tiny"]
    workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=make_script_engine(None))
    workflow.do_engine_steps()
    workflow.get_tasks(state=TaskState.READY, manual=True)[0].run()
    workflow.do_engine_steps()
    [waiting] = workflow.get_tasks(state=TaskState.WAITING)
    assert waiting.task_spec.bpmn_id == "wait"


# -- the MIWG corpus -----------------------------------------------------------------------------------

def test_miwg_corpus_is_present() -> None:
    assert len(MIWG_FILES) == 21


@pytest.mark.parametrize("path", MIWG_FILES, ids=lambda p: p.name)
def test_miwg_model_deploys_or_is_refused_clearly(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        bundles = parse_bundle({path.name: text}, FORMS, operations=OPERATIONS)
    except BpmnRefused as refused:
        message = str(refused)
        assert "\n" not in message and "\r" not in message, repr(message)
        assert path.name in message, message
    else:
        assert bundles
        for bundle in bundles.values():
            assert bundle.sources[path.name] == text


# -- deployment and versions ---------------------------------------------------------------------------

def _versions(session, process_id: str) -> list[tuple[int, int]]:
    return list(session.execute(select(ProcessDefinition.id, ProcessDefinition.version)
                                .where(ProcessDefinition.process_id == process_id)
                                .order_by(ProcessDefinition.version)).all())


def _changed_forms() -> dict[str, str]:
    schema = json.loads(FORMS["complete_intake.json"])
    schema["description"] = "Changed by test_specs."
    return {**FORMS, "complete_intake.json": json.dumps(schema)}


def test_deploying_the_same_directory_twice_keeps_one_version(env) -> None:
    with env.uow() as session:  # the env fixture already deployed bpmn/ once
        before = {pid: _versions(session, pid) for pid in ("case", "filing")}
    with env.uow() as session:
        first = {d.process_id: d.id for d in deploy_directory(session, env.settings.bpmn_dir, operations=OPERATIONS)}
    with env.uow() as session:
        second = {d.process_id: d.id for d in deploy_directory(session, env.settings.bpmn_dir, operations=OPERATIONS)}
        after = {pid: _versions(session, pid) for pid in ("case", "filing")}
    assert first == second
    assert after == before
    for pid in ("case", "filing"):
        assert [v for _, v in after[pid]] == [1]
        assert after[pid][0][0] == first[pid]


def test_changed_form_makes_a_new_current_version(env) -> None:
    open_sample_case(env, "APL-1")
    with env.uow() as session:
        v1 = current_definition(session, "case")
        assert v1 is not None and v1.version == 1
        v1_id, filing_v1_id = v1.id, current_definition(session, "filing").id
        assert case_instance(session, "APL-1").definition_id == v1_id

    with env.uow() as session:
        changed = parse_bundle(SOURCES, _changed_forms(), operations=OPERATIONS)
        stored = {d.process_id: d for d in deploy(session, changed, None)}
        v2_id = stored["case"].id
        assert stored["case"].version == 2
        assert stored["filing"].id == filing_v1_id  # filing.bpmn does not use the changed form

    with env.uow() as session:
        current = current_definition(session, "case")
        assert (current.id, current.version) == (v2_id, 2)
        assert "Changed by test_specs." in current.sources["forms/complete_intake.json"]
        assert [v for _, v in _versions(session, "case")] == [1, 2]
        assert [v for _, v in _versions(session, "filing")] == [1]
        # The instance started before the change keeps its definition.
        assert case_instance(session, "APL-1").definition_id == v1_id

    open_sample_case(env, "APL-2")
    with env.uow() as session:
        assert case_instance(session, "APL-2").definition_id == v2_id
        assert case_instance(session, "APL-1").definition_id == v1_id


def test_redeploying_an_earlier_version_stores_no_row_and_keeps_the_active_one(env) -> None:
    """``petitio init`` runs at every start: finding the shipped files stored as version 1 must not undo the
    activation of version 2 (an admin's upload); rolling back is an activation of its own."""
    with env.uow() as session:
        v1_id = current_definition(session, "case").id
    with env.uow() as session:
        v2_id = {d.process_id: d for d in deploy(
            session, parse_bundle(SOURCES, _changed_forms(), operations=OPERATIONS), None)}["case"].id
    with env.uow() as session:
        [again] = [d for d in deploy_directory(session, env.settings.bpmn_dir, operations=OPERATIONS)
                   if d.process_id == "case"]
        assert again.id == v1_id
    with env.uow() as session:
        current = current_definition(session, "case")
        assert (current.id, current.version) == (v2_id, 2)
        assert [v for _, v in _versions(session, "case")] == [1, 2]
    with env.uow() as session:
        activate(session.get(ProcessDefinition, v1_id), None)
    with env.uow() as session:
        assert current_definition(session, "case").id == v1_id
