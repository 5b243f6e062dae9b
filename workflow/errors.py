"""The errors services raise. Each carries a message that is safe to show a user (no personal data)."""

from __future__ import annotations


class PetitioError(Exception):
    """Base class: ``str(err)`` is one clear line for the CLI, the API and the pages."""

    code = "error"

    def __init__(self, message: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(PetitioError):
    code = "not_found"


class Forbidden(PetitioError):
    code = "forbidden"


class Conflict(PetitioError):
    """Someone else changed the object first (stale version, task no longer ready)."""

    code = "conflict"


class ValidationFailed(PetitioError):
    """Input that breaks a schema or a domain rule; ``errors`` maps field names to messages."""

    code = "invalid"


class BpmnRefused(PetitioError):
    """A process definition that may not be deployed (hostile, malformed or not executable)."""

    code = "bpmn_refused"


class WorkflowFailed(PetitioError):
    """The engine hit an error inside a script, expression or service task."""

    code = "workflow_error"
