"""The catalogue of filing bodies (codes of INTERFACES.md §5) and their default clocks.

These are defaults from shared/research/filing-bodies.md: unconfirmed figures are editable defaults,
never hard rules. The legal-review issue turns this into data an admin edits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Body:
    code: str
    name: str
    languages: tuple[str, ...]
    response_days: int  # how long the body (or the state it forwards to) is given to answer
    follow_up_days: int  # how long to wait again after a follow-up


BODIES: dict[str, Body] = {
    b.code: b
    for b in (
        Body("un_sp", "UN Special Procedures", ("en", "fr", "es"), 60, 60),
        Body("un_wgad", "UN Working Group on Arbitrary Detention", ("en", "fr", "es"), 60, 60),
        Body("un_hrc", "UN Human Rights Committee", ("en", "fr", "ru", "es"), 183, 180),
        Body("osce_odihr", "OSCE/ODIHR", ("en", "ru"), 60, 60),
        Body("ep_droi", "European Parliament, Subcommittee on Human Rights", ("en",), 60, 60),
        Body("ep_peti", "European Parliament, Committee on Petitions", ("en",), 60, 60),
    )
}
MANDATES = ("assembly", "expression", "torture", "defenders")

# Internal service levels (DESIGN.md §5), handed to each new case process as data.
SERVICE_LEVELS = {
    "consent_days": 7,
    "documents_days": 30,
    "review_days": 14,
    "urgent_review_hours": 48,
    "check_days": 3,
}


def body(code: str) -> Body:
    try:
        return BODIES[code]
    except KeyError:
        raise KeyError(f"unknown body {code!r}") from None
