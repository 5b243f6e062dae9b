"""What of a case each role reads, decided once: the pages and the API apply the same decision.

``roles.PERSON_FIELDS_BY_ROLE`` says which of the person's fields a role reads. The free texts people type about
the case (a document's file name, an incident's place and description, the perpetrators' names, what happened
during an arrest or ill-treatment) name people just as often: the complainant, relatives, witnesses. A role that
does not read the complainant's name (managers; admins see no case) reads none of them either: it sees the kinds,
counts, states, dates and codes, and each withheld text is replaced by a neutral value (a document is named by
its kind). ``as_seen`` wraps a row so that templates and schemas read the withheld attributes as that value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from workflow.roles import LEGAL_FACT_VIEWERS, sees_names


def _none(row: Any) -> Any:
    return None


def _custody_periods(arrest: Any) -> list[Any]:
    """The places of custody as a count and their periods: where a person was held names them."""
    return [Seen(place, {"place": lambda _: "", "authority": _none}) for place in arrest.custody or ()]


# Each kind of row -> its identity-bearing texts -> the value a role that may not read them sees instead.
IDENTITY_TEXT: Mapping[str, Mapping[str, Callable[[Any], Any]]] = {
    "documents": {"filename": lambda document: document.kind},
    "incidents": {"place": _none, "description": _none},
    "perpetrators": {name: _none for name in ("unit", "position", "name", "actions")},
    "arrests": {**{name: _none for name in ("place", "forces", "warrant_issued_by", "reasons_given",
                                            "legal_provision", "duration", "lawyer_access", "family_access",
                                            "release")},
                "custody": _custody_periods},
    "ill_treatments": {name: _none for name in ("methods", "duration", "effects", "medical_evidence", "complaints",
                                                "outcome")},
    "remedy_steps": {"authority": lambda step: "", "outcome": _none},
    # A body's answer about one person (the reference is the body's number, kept).
    "responses": {"summary": _none},
}


def reads_identity_text(role: str) -> bool:
    """Whether ``role`` reads the free texts of a case (the same roles that read the complainant's name)."""
    return sees_names(role)


def withheld(role: str, kind: str) -> frozenset[str]:
    """The attributes of a row of ``kind`` that ``role`` does not read."""
    return frozenset() if reads_identity_text(role) else frozenset(IDENTITY_TEXT[kind])


def text_fields_read(role: str, kinds: Iterable[str]) -> list[str]:
    """The identity-bearing texts ``role`` reads of the given kinds, as ``kind.field`` names for the audit log."""
    if not reads_identity_text(role):
        return []
    return [f"{kind}.{name}" for kind in kinds for name in IDENTITY_TEXT[kind]]


class Seen:
    """A row as a role sees it: the withheld attributes read as their neutral value, the others as stored."""

    __slots__ = ("_hidden", "_row")

    def __init__(self, row: Any, hidden: Mapping[str, Callable[[Any], Any]]) -> None:
        self._row, self._hidden = row, hidden

    @property
    def stored(self) -> Any:
        """The row itself (for the database's bookkeeping, e.g. its session; never to show)."""
        return self._row

    def __getattr__(self, name: str) -> Any:
        replace = self._hidden.get(name)
        return replace(self._row) if replace is not None else getattr(self._row, name)


def filing_as_seen(role: str, filing: Any) -> Any:
    """A filing with its responses as ``role`` may read them: an individual filing's answers are about one person;
    a collective complaint's are read in full by those who read the complaint."""
    if filing.case_id is None or reads_identity_text(role):
        return filing
    return Seen(filing, {"responses": lambda f: as_seen(role, "responses", f.responses)})


def review_as_seen(role: str, review: Any) -> Any:
    """A review as ``role`` may read it: the decision for every case worker; the admissibility findings recorded
    with it, which follow from the legal facts, only for the roles that read those (intake reads neither, in the
    pages as in the API)."""
    if review is None or role in LEGAL_FACT_VIEWERS:
        return review
    return Seen(review, {"checks": lambda r: []})


def as_seen(role: str, kind: str, rows: Iterable[Any]) -> list[Any]:
    """``rows`` of ``kind`` as ``role`` may read them (the rows themselves for a role that reads every text)."""
    if reads_identity_text(role):
        return list(rows)
    hidden = IDENTITY_TEXT[kind]
    return [Seen(row, hidden) for row in rows]
