"""The errors services raise. The message is one English line that is safe to show (no personal data); what is
wrong with each field is data (``errors``: field -> ``Problem``), translated where it is shown."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.problems import Problem


class PetitioError(Exception):
    """Base class: ``str(err)`` is one clear line for the CLI, the API and logs."""

    code = "error"

    def __init__(self, message: str, *, errors: Mapping[str, Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, Problem] = dict(errors or {})

    def texts(self) -> dict[str, str]:
        """field -> the English sentence, as the API and the command line give them."""
        return {name: problem.text for name, problem in self.errors.items()}


class NotFound(PetitioError):
    code = "not_found"


class Forbidden(PetitioError):
    code = "forbidden"


class Conflict(PetitioError):
    """Someone else changed the object first (stale version, task no longer ready)."""

    code = "conflict"


class FilingFrozen(Conflict):
    """A filing checked (or later) keeps its approved version: no upload, regeneration or language change."""

    code = "filing_frozen"


class FilingNotInCheck(Conflict):
    """A draft filing that is not waiting for its legal check (being approved, or its process stopped)."""

    code = "filing_not_in_check"


class Unfinished(Conflict):
    """A document that still holds text to be written (a collective complaint's empty sections); ``errors`` names
    each unfinished part (``narrative.<section>``)."""

    code = "sections_unfinished"


class ValidationFailed(PetitioError):
    """Input that breaks a schema or a domain rule; ``errors`` maps field names to problems."""

    code = "invalid"


class BpmnRefused(PetitioError):
    """A process definition that may not be deployed (hostile, malformed or not executable)."""

    code = "bpmn_refused"


class WorkflowFailed(PetitioError):
    """The engine hit an error inside a script, expression or service task; ``step``: that task's BPMN id."""

    code = "workflow_error"

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message)
        self.step = step


class ImportWriterFailed(PetitioError):
    """A process writing an import's batches died, or failed with an error that could not be brought back whole
    (``services/import_batches.py``); the batches committed stay, and running the import again finishes it."""

    code = "import_writer_failed"
