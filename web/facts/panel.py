"""The "Facts for the filings" panel of the case page: the person's facts, each kind of row as a short list whose
lines open on demand (the facts, or the edit form for those who record them), an "add" form per kind, and the
case-level "not known" markers.

The forms are drawn only when asked for (``?open=facts``, a link of the panel, where every save comes back) or
when one was refused (``web/panel.py`` OPEN_ARG): a dozen forms of many controls, drawn for every view.

Rows come from ``services/facts.read_facts`` through ``read_case`` (the read audited); the person's facts are the
fields of ``page.read.person`` the role may read. A refused form comes back only in its own place (``Refused``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from web.dates import day
from web.facts.forms import (
    FactsForm,
    RemoveForm,
    facts_form,
    incident_line,
    perpetrator_line,
    unknown_facts_form,
)
from web.labels import LABELS, label
from web.panel import CasePage
from web.translate import gettext as _
from workflow.facts import PERSON_FACTS
from workflow.schemas.facts import ROW_SCHEMAS
from workflow.services import fact_access, facts
from workflow.services.facts import FactsRead

# The kinds in the order a filing tells the story: what happened, who, the arrest, ill-treatment, remedies.
KINDS = ("incidents", "perpetrators", "arrests", "ill_treatments", "remedy_steps")
PANEL = "facts"  # the panel's name on the case page (web/cases/page.py) and in ``?open=``
SEGMENTS = {"incidents": "incidents", "perpetrators": "perpetrators", "arrests": "arrests",
            "ill_treatments": "ill-treatments", "remedy_steps": "remedy-steps"}


@dataclass(frozen=True)
class Refused:
    """A refused form of this panel: ``key`` says which ("person", "unknown", "<kind>:new", "<kind>:<id>")."""

    key: str
    form: Any


@dataclass
class Line:
    """One fact as shown: its label, its value as text ("" when none) and whether a person marked it not known."""

    label: str
    value: str
    unknown: bool = False
    long: bool = False


@dataclass
class RowView:
    id: int
    summary: str
    lines: list[Line]
    form: FactsForm | None = None
    remove: RemoveForm | None = None
    open: bool = False


@dataclass
class KindView:
    kind: str
    segment: str
    title: str
    rows: list[RowView]
    add: FactsForm | None
    add_open: bool
    marked_unknown: bool


def _titles() -> dict[str, str]:
    return {kind: label("fact_kind", kind) for kind in KINDS}


def facts_panel(page: CasePage, posted: Refused | None) -> dict[str, Any] | None:
    """None for a role that reads no rows (``read_facts`` said so)."""
    read = page.read.facts
    if read is None:
        return None
    case, session = page.read.case, page.session
    may_edit = fact_access.may_edit(page.actor, case)
    editable = may_edit and page.wants_forms(PANEL, posted)
    refused = posted.form if posted is not None else None
    key = posted.key if posted is not None else None
    kinds = []
    titles = _titles()
    for kind in KINDS:
        rows = []
        for row in getattr(read, kind):
            values = facts.row_values(session, kind, row)
            view = RowView(row.id, _summary(kind, row), _lines(kind, row, values, read))
            if editable:
                mine = key == f"{kind}:{row.id}"
                view.form = refused if mine else facts_form(session, case, kind, row.id, data=values)
                if not mine:
                    view.form.version.data = fact_access.version(session, case, kind, row.id)
                view.remove = RemoveForm(prefix=f"remove-{kind}-{row.id}", formdata=None,
                                         data={"version": view.form.version.data})
                view.open = mine
            rows.append(view)
        adding = key == f"{kind}:new"
        add = (refused if adding else facts_form(session, case, kind)) if editable else None
        kinds.append(KindView(kind, SEGMENTS[kind], titles[kind], rows, add, adding, kind in read.unknown_facts))
    person = {name: page.read.person[name] for name in PERSON_FACTS if name in page.read.person}
    person_form = None
    if editable and person:
        if key == "person":
            person_form = refused
        else:
            person_form = facts_form(session, case, "person", data=facts.person_values(case))
            person_form.version.data = fact_access.version(session, case, "person")
    marked = [name.removeprefix("person.") for name in read.unknown_facts if name.startswith("person.")]
    return {
        "editable": editable, "may_edit": may_edit, "kinds": kinds,
        "first_incident": case.incidents[0].id if case.incidents else None,
        "person": [Line(LABELS["person"].get(n, n), _text("person", n, v), n in marked, n in ("activity", "situation"))
                   for n, v in person.items()],
        "person_form": person_form, "person_open": key == "person",
        "unknown_form": (refused if key == "unknown" else unknown_facts_form(case)) if editable else None,
        "unknown_open": key == "unknown",
        "open": posted is not None,
    }


def _summary(kind: str, row: Any) -> str:
    if kind == "perpetrators":
        return perpetrator_line(row)
    if kind == "incidents":
        return incident_line(row)
    if kind == "arrests":
        transfers = len(row.custody)
        return " · ".join(p for p in (day(row.arrested_on) if row.arrested_on else _("date not recorded"),
                                      row.place, _("%(n)s place(s) of custody", n=transfers) if transfers else "")
                          if p)
    if kind == "ill_treatments":
        text = row.methods or _("methods not recorded")
        return text if len(text) <= 80 else text[:79] + "…"
    return " · ".join(p for p in (day(row.taken_on) if row.taken_on else "", row.authority,
                                  _("final") if row.final else "") if p)


def _lines(kind: str, row: Any, values: dict[str, Any], read: FactsRead) -> list[Line]:
    unknown = set(values.get("unknown") or ())
    lines = []
    for name in ROW_SCHEMAS[kind]._declared_fields:
        if name == "unknown":
            continue
        lines.append(Line(str(LABELS[kind].get(name, name)), _text(kind, name, values[name], row, read),
                          name in unknown,
                          name in ("description", "actions", "methods", "effects", "reasons_given")))
    return lines


def _text(kind: str, name: str, value: Any, row: Any = None, read: FactsRead | None = None) -> str:
    """A stored value as words (codes as labels, days in the reader's language)."""
    if value is None or value == "" or value == []:
        return ""
    if name == "agency":
        return label("perpetrator_agency", value)
    if name == "gender":
        return label("gender", value)
    if name == "types":
        return "; ".join(label("incident_type", t) for t in value)
    if name == "perpetrators" and read is not None:  # the perpetrators as the reader sees them
        return "; ".join(perpetrator_line(p) for p in read.perpetrators if p.id in value)
    if name == "incident_id" and row is not None:
        found = next((i for i in read.incidents if i.id == value), None) if read else None  # as the reader sees it
        return incident_line(found) if found is not None else ""
    if name == "custody":
        return " → ".join(" · ".join(p for p in (c["place"], c.get("authority"),
                                                  _period(c.get("from_on"), c.get("to_on"))) if p) for c in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, date):
        return day(value)
    return str(value)


def _period(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return ""
    return f"{day(start) if start else '…'} – {day(end) if end else '…'}"
