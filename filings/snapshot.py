"""Immutable snapshots of a case, the contract between the workflow engine and document generation.

The workflow package copies what a filing needs out of its live models into these objects, so the
renderer never touches the database and can only ever print what was deliberately handed to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PersonSnapshot:
    """The alleged victim, reduced to what a summary may show (no contact details, no identifiers)."""

    display_name: str
    city: str | None = None
    gender: str | None = None
    occupation: str | None = None
    detained_now: bool = False


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    types: tuple[str, ...]
    occurred_on: date | None
    place: str | None
    description: str
    # Keys of the EpisodeSnapshot(s) this incident belongs to.
    episodes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EpisodeSnapshot:
    key: str
    title: str
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    ref: str
    body: str
    language: str
    organisation: str
    person: PersonSnapshot
    received_on: date | None
    incidents: tuple[IncidentSnapshot, ...]
    episodes: tuple[EpisodeSnapshot, ...]
    grounds: tuple[str, ...] = ()
    mandates: tuple[str, ...] = ()
    urgent: bool = False
    generated_at: datetime = field(default_factory=_utc_now)

    def __post_init__(self) -> None:
        # A naive timestamp would be silently interpreted in the server's local zone; refuse it
        # and normalise aware ones to UTC so generated documents are comparable across hosts.
        if self.generated_at.utcoffset() is None:
            raise ValueError("generated_at must be timezone-aware")
        object.__setattr__(self, "generated_at", self.generated_at.astimezone(UTC))
