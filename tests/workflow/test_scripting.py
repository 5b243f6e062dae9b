"""The restricted script environment, the service-task engine and re-attaching the engine after a load."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from tests.helpers import case_instance, open_sample_case
from workflow.runtime.scripting import (
    PetitioScriptEngine,
    RestrictedEnvironment,
    make_script_engine,
)
from workflow.services import processes
from workflow.services.operations import OPERATIONS

ENV = make_script_engine(None).environment


def run(script: str, **data: object) -> dict:
    context = dict(data)
    ENV.execute(script, context)
    return context


# -- what scripts may do -------------------------------------------------------------------------------

def test_environment_is_restricted() -> None:
    assert isinstance(make_script_engine(None), PetitioScriptEngine)
    assert isinstance(ENV, RestrictedEnvironment)


def test_loops_and_inplace_operators() -> None:
    data = run("total = 0\nfor i in range(5):\n    total += i\nwhile total < 100:\n    total *= 2\n"
               "label = 'n'\nlabel += '=' + str(total)")
    assert data["total"] == 160
    assert data["label"] == "n=160"
    assert "i" in data  # loop variables are plain data too


def test_dict_and_list_writes() -> None:
    data = run("counts['a'] = 1\ncounts['b'] = counts.get('b', 0) + 2\nitems.append(3)\nitems[0] = 9\n"
               "nested = {'x': {}}\nnested['x']['y'] = [1, 2]", counts={}, items=[1])
    assert data["counts"] == {"a": 1, "b": 2}
    assert data["items"] == [9, 3]
    assert data["nested"] == {"x": {"y": [1, 2]}}


def test_comprehensions_unpacking_and_extra_builtins() -> None:
    data = run("doubled = [x * 2 for x in values if x > 1]\nby_key = {k: v for k, v in pairs}\n"
               "unique = sorted({x % 2 for x in values})\nfor key, value in pairs:\n    last = key\n"
               "total = sum(values)\nlargest = max(values)\nnumbered = list(enumerate(['a', 'b']))\n"
               "ok = all(x > 0 for x in values) and any(x == 3 for x in values)",
               values=[1, 2, 3], pairs=[("a", 1), ("b", 2)])
    assert data["doubled"] == [4, 6]
    assert data["by_key"] == {"a": 1, "b": 2}
    assert data["unique"] == [0, 1]
    assert data["last"] == "b"
    assert (data["total"], data["largest"]) == (6, 3)
    assert data["numbered"] == [(0, "a"), (1, "b")]
    assert data["ok"] is True


def test_tuple_unpacking_assignment() -> None:
    """Compiles under RestrictedPython (so the deploy check passes) and must also run."""
    data = run("first, second = values[:2]\nhead, *rest = values", values=[1, 2, 3])
    assert (data["first"], data["second"], data["head"], data["rest"]) == (1, 2, 1, [2, 3])


def test_del_removes_task_data() -> None:
    data = run("del scratch\nkept = kept + 1", scratch="tmp", kept=1)
    assert "scratch" not in data
    assert data["kept"] == 2


def test_helpers_are_not_copied_into_task_data() -> None:
    data = run("due = deadline_in(days=1)\nstamp = now_iso()")
    assert set(data) == {"due", "stamp"}


def test_evaluate_expressions() -> None:
    assert ENV.evaluate("x + 1", {"x": 1}) == 2
    assert ENV.evaluate("imported == True and len(bodies) > 0", {"imported": True, "bodies": ["un_sp"]}) is True
    assert ENV.evaluate("[b for b in bodies if b.startswith('un')]", {"bodies": ["un_sp", "ep_peti"]}) == ["un_sp"]


@pytest.mark.parametrize(("call", "offset"), [
    ("deadline_in(days=3)", timedelta(days=3)),
    ("deadline_in(hours=5)", timedelta(hours=5)),
    ("deadline_in(days=1, hours=2)", timedelta(days=1, hours=2)),
    ("deadline_in()", timedelta(0)),
    ("now_iso()", timedelta(0)),
])
def test_deadline_helpers_give_aware_utc_iso_strings(call: str, offset: timedelta) -> None:
    data = run(f"due = {call}")
    text = data["due"]
    assert isinstance(text, str) and text.endswith("+00:00"), text
    due = datetime.fromisoformat(text)
    assert due.utcoffset() == timedelta(0)
    assert abs(due - (datetime.now(UTC) + offset)) < timedelta(minutes=1)


# -- what scripts may not do, at run time ----------------------------------------------------------------

HOSTILE_EXPRESSIONS = {
    "dunder_import": "__import__('os').getcwd()",
    "open": "open('/etc/passwd').read()",
    "subclasses": "().__class__.__base__.__subclasses__()",
    "getattr_dunder": "getattr(x, '__class__')",
    "eval": "eval('1')",
    "exec": "exec('x=1')",
    "compile": "compile('1', 'f', 'eval')",
    "globals": "globals()",
    "format_escape": "'{0.__class__.__base__.__subclasses__}'.format(x)",
    "str_format_on_type": "str.format('{0.__class__.__base__}', x)",
    "format_map": "'{0.__globals__}'.format_map({0: deadline_in})",
    "generator_frame": "(i for i in x).gi_frame",
    "type_escape": "type(x).mro()",
    "vars": "vars(x)",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_EXPRESSIONS))
def test_hostile_script_is_refused_at_run_time(name: str) -> None:
    context: dict = {"x": ()}
    with pytest.raises((SyntaxError, NameError, NotImplementedError, AttributeError)):
        ENV.execute(f"result = {HOSTILE_EXPRESSIONS[name]}", context)
    assert "result" not in context
    assert "root:" not in repr(context)


@pytest.mark.parametrize("name", sorted(HOSTILE_EXPRESSIONS))
def test_hostile_expression_is_refused_at_run_time(name: str) -> None:
    context: dict = {"x": ()}
    with pytest.raises((SyntaxError, NameError, NotImplementedError, AttributeError)):
        result = ENV.evaluate(HOSTILE_EXPRESSIONS[name], context)
        assert "root:" not in repr(result)
    assert "root:" not in repr(context)


@pytest.mark.parametrize("script", ["import os", "from os import path", "import os as o\nresult = o.getcwd()"])
def test_imports_are_refused_at_run_time(script: str) -> None:
    context: dict = {}
    with pytest.raises((SyntaxError, ImportError)):
        ENV.execute(script, context)
    assert context == {}


def test_restricted_syntax_error_has_a_location() -> None:
    """SpiffWorkflow reads err.lineno: a bare SyntaxError would become a TypeError inside the engine."""
    with pytest.raises(SyntaxError) as refused:
        ENV.execute("x = ().__class__", {})
    assert refused.value.lineno == 1


def test_task_data_cannot_shadow_helpers() -> None:
    with pytest.raises(ValueError, match="overwrites"):
        ENV.execute("x = 1", {"deadline_in": "not a function"})


# -- in-memory workflows ---------------------------------------------------------------------------------

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="definitions_probe" targetNamespace="https://petitio.org/bpmn/test">
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="step" />
"""
FOOTER = """    <bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="finish" />
    <bpmn:endEvent id="finish"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def service_bpmn(operation: str, value: str = "'hello'") -> str:
    return HEADER + f"""    <bpmn:serviceTask id="step" name="Call">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="value" type="str" value="{value}" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
""" + FOOTER


def script_bpmn(script: str) -> str:
    return HEADER + f"""    <bpmn:scriptTask id="step" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
""" + FOOTER


def workflow_of(text: str, engine=None) -> BpmnWorkflow:
    """Parse without Petitio's deploy checks, so run-time behaviour is what is tested."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_xml(etree.parse(BytesIO(text.encode())), "probe.bpmn")
    spec = parser.get_spec("probe")
    return BpmnWorkflow(spec, parser.get_subprocess_specs("probe"), script_engine=engine)


def _echo(ctx: object, value: str) -> dict:
    assert ctx is not None
    return {"echo": value}


def _fails(ctx: object, value: str) -> dict:
    raise ValueError(f"cannot handle {value}")


# The runtime knows only the operations it is handed: these, in the tests below.
TEST_OPERATIONS = {"petitio_test_echo": _echo, "petitio_test_fails": _fails}


def test_registered_operation_result_lands_in_task_data() -> None:
    workflow = workflow_of(service_bpmn("petitio_test_echo"), make_script_engine(context=object(),
                                                                                 operations=TEST_OPERATIONS))
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data["result"] == {"echo": "hello"}


def test_failing_operation_surfaces_its_own_error() -> None:
    workflow = workflow_of(service_bpmn("petitio_test_fails"), make_script_engine(context=object(),
                                                                                  operations=TEST_OPERATIONS))
    with pytest.raises(WorkflowTaskException) as failed:
        workflow.do_engine_steps()
    message = str(failed.value)
    assert "ValueError" in message and "cannot handle hello" in message
    assert "script" not in message  # not SpiffWorkflow 3.2.0's NameError: name 'script' is not defined
    assert not isinstance(failed.value.__cause__, NameError)
    assert isinstance(failed.value.__cause__, ValueError)
    assert failed.value.task.task_spec.bpmn_id == "step"
    [errored] = workflow.get_tasks(state=TaskState.ERROR)
    assert errored.task_spec.bpmn_id == "step"


def test_unknown_operation_is_a_clear_key_error() -> None:
    assert "petitio_no_such_operation" not in OPERATIONS
    workflow = workflow_of(service_bpmn("petitio_no_such_operation"), make_script_engine(context=object(),
                                                                                         operations=OPERATIONS))
    with pytest.raises(WorkflowTaskException) as failed:
        workflow.do_engine_steps()
    message = str(failed.value)
    assert "KeyError" in message and "petitio_no_such_operation" in message
    assert isinstance(failed.value.__cause__, KeyError)


def test_operation_without_a_context_says_so() -> None:
    workflow = workflow_of(service_bpmn("petitio_test_echo"), make_script_engine(None, TEST_OPERATIONS))
    with pytest.raises(WorkflowTaskException, match="needs a database context"):
        workflow.do_engine_steps()


def test_hostile_script_in_a_workflow_fails_the_task() -> None:
    """A script that slipped past the deploy check still cannot run: the task errors."""
    workflow = workflow_of(script_bpmn("result = ().__class__.__base__.__subclasses__()"), make_script_engine(None))
    with pytest.raises(WorkflowTaskException) as failed:
        workflow.do_engine_steps()
    assert failed.value.error_type == "SyntaxError"
    assert "__class__" in str(failed.value)
    assert "result" not in workflow.data


# -- the engine after a load -----------------------------------------------------------------------------

def test_deserialized_workflow_has_the_unrestricted_default_engine() -> None:
    """Why instances.load must re-attach the engine: SpiffWorkflow does not serialize it."""
    workflow = workflow_of(script_bpmn("total = 1 + 1"), make_script_engine(None))
    assert type(workflow.script_engine.environment).__name__ == "RestrictedEnvironment"
    # SpiffWorkflow's own serializer, specs included
    plain = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    restored = plain.deserialize_json(plain.serialize_json(workflow))
    assert type(restored.script_engine.environment).__name__ != "RestrictedEnvironment"
    assert not isinstance(restored.script_engine, PetitioScriptEngine)


def test_load_reattaches_the_restricted_engine(env) -> None:
    open_sample_case(env, "APL-1")
    with env.uow() as session:
        instance = case_instance(session, "APL-1")
        state = json.loads(instance.state_json)
        assert "script_engine" not in state and "spec" not in state
        loaded = processes.load(session, env.settings, instance, None)
        engine = loaded.workflow.script_engine
        assert isinstance(engine, PetitioScriptEngine)
        assert type(engine.environment).__name__ == "RestrictedEnvironment"
        assert engine.environment.context is loaded.context
        assert loaded.context.session is session
        # Sub-workflows (the case_work subprocess) run with the same engine.
        assert loaded.workflow.subprocesses
        for sub in loaded.workflow.subprocesses.values():
            assert sub.script_engine is engine
        # A second load gets a fresh engine bound to its own context.
        again = processes.load(session, env.settings, instance, None)
        assert again.workflow.script_engine is not engine
        assert again.workflow.script_engine.environment.context is again.context
