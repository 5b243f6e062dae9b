"""The script environment every BPMN script, expression and service task runs in.

SpiffWorkflow's default engine runs ``exec`` with full builtins; restricting ``__builtins__`` alone still
lets ``().__class__.__base__.__subclasses__()`` escape (reproduced in shared/research). So every script
and expression is compiled with RestrictedPython and run with its guards. The engine is not serialized
by SpiffWorkflow: ``instances.load`` attaches a fresh one after every load.
"""

from __future__ import annotations

import ast
import builtins
import json
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_globals
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

if TYPE_CHECKING:
    from workflow.runtime.context import ServiceContext

_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
}
_EXTRA_BUILTINS = ("enumerate", "sum", "min", "max", "any", "all", "sorted", "dict", "list", "tuple", "set",
                   "zip", "map", "filter", "reversed")


def deadline_in(days: float = 0, hours: float = 0) -> str:
    """An aware UTC ISO timestamp ``days``/``hours`` from now, for ``timeDate`` timers.

    Computing absolute due dates in a script task (not a preScript: boundary timers are evaluated first)
    keeps deadlines timezone-aware and stable across reloads.
    """
    return (datetime.now(UTC) + timedelta(days=days, hours=hours)).isoformat()


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


SCRIPT_HELPERS: dict[str, Callable[..., Any]] = {"deadline_in": deadline_in, "now_iso": now_iso}

# Service operations: name -> fn(ctx, **params) returning JSON-able data. The runtime knows none of its own:
# whoever starts or loads an instance hands it the registry (``workflow/services/operations.py``).
ServiceOperation = Callable[..., Any]
Operations = Mapping[str, ServiceOperation]
NO_OPERATIONS: Operations = {}


class UnsafeScript(ValueError):
    """A script or expression that the restricted compiler (or our own checks) refuse."""


def check_source(source: str, *, mode: str) -> None:
    """Refuse what may not run: imports, dunder access, anything RestrictedPython rejects."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as err:
        raise UnsafeScript(f"syntax error: {err.msg} (line {err.lineno})") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise UnsafeScript(f"imports are not allowed (line {node.lineno})")
    compiled = compile_restricted_exec(source) if mode == "exec" else compile_restricted_eval(source)
    if compiled.errors:
        raise UnsafeScript("; ".join(compiled.errors))


def _restricted_globals(extra: dict[str, Any]) -> dict[str, Any]:
    env = dict(safe_globals)
    env["__builtins__"] = {**safe_globals["__builtins__"], **{n: getattr(builtins, n) for n in _EXTRA_BUILTINS}}
    env.update(
        _getattr_=safer_getattr,
        _getitem_=default_guarded_getitem,
        _getiter_=default_guarded_getiter,
        _iter_unpack_sequence_=guarded_iter_unpack_sequence,
        _unpack_sequence_=guarded_unpack_sequence,
        _write_=full_write_guard,
        _inplacevar_=lambda op, x, y: _INPLACE[op](x, y),
    )
    env.update(extra)
    return env


_CODE_CACHE: dict[tuple[str, str], Any] = {}


def _compile(source: str, mode: str) -> Any:
    # Scripts are few and immutable per definition version; compiling each once saves most of a run.
    key = (mode, source)
    code = _CODE_CACHE.get(key)
    if code is None:
        result = compile_restricted_exec(source) if mode == "exec" else compile_restricted_eval(source)
        if result.errors:
            # SpiffWorkflow reads err.lineno, so the SyntaxError needs a location.
            raise SyntaxError("; ".join(result.errors), ("<bpmn script>", 1, 0, source))
        code = _CODE_CACHE[key] = result.code
    return code


class RestrictedEnvironment(TaskDataEnvironment):
    """Task data as the namespace; RestrictedPython-compiled code; service operations with a context."""

    def __init__(self, context: ServiceContext | None, operations: Operations = NO_OPERATIONS) -> None:
        super().__init__(dict(SCRIPT_HELPERS))
        self.context = context
        self.operations = operations
        self._base = _restricted_globals(self.globals)
        self._reserved = frozenset(self._base)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict | None = None) -> Any:
        env = dict(self._base)
        env.update(external_context or {})
        env.update(context)
        return eval(_compile(expression, "eval"), env)

    def execute(self, script: str, context: dict[str, Any], external_context: dict | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        env = dict(self._base)
        env.update(external_context or {})
        env.update(context)
        exec(_compile(script, "exec"), env)
        for key in list(context):  # honour `del x` in the script
            if key not in env:
                del context[key]
        for key, value in env.items():  # copy back plain data only
            if key not in self._reserved and not callable(value) and not isinstance(value, ModuleType):
                context[key] = value
        return True

    def call_service(self, context: dict[str, Any], operation_name: str, operation_params: dict) -> str:
        operation = self.operations.get(operation_name)
        if operation is None:
            raise KeyError(f"unknown service operation {operation_name!r}")
        if self.context is None:
            raise RuntimeError(f"service operation {operation_name!r} needs a database context")
        kwargs = {name: param["value"] for name, param in operation_params.items()}
        return json.dumps(operation(self.context, **kwargs))


class PetitioScriptEngine(PythonScriptEngine):
    """Fixes two SpiffWorkflow 3.2 traps: service errors masked as NameError, and None timer values."""

    def call_service(self, task: Any, **kwargs: Any) -> str:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except WorkflowTaskException:
            raise
        except Exception as err:
            # 3.2.0's own handler references an undefined name and hides the real error.
            raise WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err) from err

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        value = super().evaluate(task, expression, external_context)
        timer_expressions = timer_expressions_of(getattr(task.task_spec, "event_definition", None))
        if expression in timer_expressions and (not isinstance(value, str) or not value.strip()):
            # Unchecked, SpiffWorkflow crashes later with a bare AttributeError.
            raise WorkflowTaskException(
                f"timer expression {expression!r} gave {value!r}, not an ISO date, duration or cycle", task=task
            )
        return value


def timer_expressions_of(event_definition: Any) -> set[str]:
    """Expressions of a timer definition, or of the timers inside an event-based gateway's definition."""
    if isinstance(event_definition, TimerEventDefinition):
        return {event_definition.expression}
    return {d.expression for d in getattr(event_definition, "event_definitions", ())
            if isinstance(d, TimerEventDefinition)}


def make_script_engine(context: ServiceContext | None = None,
                       operations: Operations = NO_OPERATIONS) -> PetitioScriptEngine:
    return PetitioScriptEngine(environment=RestrictedEnvironment(context, operations))
