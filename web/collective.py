"""Collective complaints (one filing over many cases): the list, the form a legal officer opens one with, and
the complaint's page with its figures, versions, ready tasks and history.

The tasks of a complaint's process are completed through ``pages.task`` (the same forms as on a case page),
which sends the user back here. Like web/pages.py, views read through ``workflow.services`` and never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

import filings
from web.access import roles
from web.database import db
from web.pages import CASEWORK, TOO_LONG, data_labels, filing_links, history_entries, label, task_panels
from workflow import vocab
from workflow.bodies import active_codes
from workflow.errors import NotFound, ValidationFailed
from workflow.models import CollectiveComplaint, utcnow
from workflow.services import page_support
from workflow.services.collective import (
    CREATOR_ROLES,
    FIELD_MAX,
    MAX_CASES,
    MAX_OFFICIALS,
    NARRATIVE_SECTIONS,
    OFFICIAL_FIELDS,
    SECTION_MAX,
    TITLE_MAX,
    create_collective,
    get_collective,
)

bp = Blueprint("collective", __name__, url_prefix="/collective")

SECTION_LABELS: dict[str, Any] = {
    "summary": _l("Summary"),
    "legal_basis": _l("The legal basis of the persecution"),
    "context": _l("The movement and why it was banned"),
    "methods": _l("Methods used by law enforcement"),
    "patterns": _l("Patterns"),
    "pressure_on_defenders": _l("Pressure on human rights defenders"),
    "requests": _l("Requests"),
}
OFFICIALS_HELP = _l("One official per line, parts separated by “|”: position | agency | name | role. Only the "
                    "position is required; leave a part empty to skip it, e.g. “Head of the city police | Police "
                    "| | ordered the dispersal”.")
WHOLE_NUMBER = _l("Enter a whole number (0 or more).")
# The service names refused cases under these English labels (workflow/services/collective.py).
CASE_PROBLEMS: dict[str, Any] = {
    "unknown": _l("No such case"),
    "no verified consent": _l("Consent not verified (or withdrawn)"),
    "no approved review": _l("No review approved by a manager"),
}


class CollectiveForm(FlaskForm):
    """Types and lengths; the service checks the rest (bodies, vocabularies, the cases) and names what is wrong.

    Choices are not checked here (``validate_choice=False``): a case that stopped being eligible after the page was
    drawn must come back named by the service, not as "not a valid choice".
    """

    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Give a title.")),
                                                 Length(max=TITLE_MAX, message=TOO_LONG)])
    body = SelectField(_l("Body"), validate_choice=False)
    language = SelectField(_l("Language of the complaint"), validate_choice=False)
    all_cases = BooleanField(_l("Include every case listed below"))
    cases = SelectMultipleField(_l("Cases"), validate_choice=False)
    mandates = SelectMultipleField(_l("Special Procedures mandates"), validate_choice=False,
                                   description=_l("Only for the UN Special Procedures; leave empty for other bodies."))
    grounds = SelectMultipleField(_l("Legal grounds"), validate_choice=False)
    officials = TextAreaField(_l("Officials responsible"), description=OFFICIALS_HELP)
    appeals_received = StringField(
        _l("Appeals received"), validators=[Regexp(r"^\s*\d*\s*$", message=WHOLE_NUMBER)],
        description=_l("Leave empty to count every appeal about the same episodes, with or without consent."))


for _section in NARRATIVE_SECTIONS:
    setattr(CollectiveForm, f"narrative_{_section}",
            TextAreaField(SECTION_LABELS[_section], validators=[Length(max=SECTION_MAX, message=TOO_LONG)]))


def _form(session: Any, eligible: list[page_support.EligibleCase]) -> CollectiveForm:
    form = CollectiveForm()
    names = data_labels()
    form.body.choices = [SelectChoice(code, names["body"].get(code, code))
                         for code in active_codes(session)]
    form.language.choices = [SelectChoice(code, label("locale", code)) for code in filings.available_collective()]
    form.cases.choices = [SelectChoice(c.ref, c.ref) for c in eligible]
    form.mandates.choices = [SelectChoice(k, names["mandate"].get(k, k))
                             for k in vocab.keys(session, "mandate")]
    form.grounds.choices = [SelectChoice(k, names["legal_ground"].get(k, k))
                            for k in vocab.keys(session, "legal_ground")]
    return form


# -- the list ------------------------------------------------------------------------------------------------

@bp.route("")
@roles(*CASEWORK)
def index() -> str:
    return render_template("collective/list.html", rows=page_support.collective_rows(db()),
                           may_create=g.actor.role in CREATOR_ROLES)


# -- opening one ---------------------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@roles(*CREATOR_ROLES)
def new() -> Response | str | tuple[str, int]:
    session = db()
    eligible = page_support.eligible_cases(session)
    form = _form(session, eligible)
    if not form.is_submitted():
        return _render_new(form, eligible)
    if form.validate():
        officials, lines, problem = parse_officials(form.officials.data or "")
        if problem:
            form.officials.errors = [problem]
        else:
            created = _create(session, form, eligible, officials, lines)
            if created is not None:
                flash(_("Collective complaint opened: version 1 is ready to check."), "success")
                return redirect(url_for("collective.show", collective_id=created.id), 303)
    return _render_new(form, eligible), 422


def _create(session: Any, form: CollectiveForm, eligible: list[page_support.EligibleCase],
            officials: list[dict[str, str]], lines: list[int]) -> CollectiveComplaint | None:
    """The complaint, or None with the service's reasons put next to their fields."""
    refs = [c.ref for c in eligible] if form.all_cases.data else list(form.cases.data or [])
    raw_appeals = (form.appeals_received.data or "").strip()
    narrative = {s: getattr(form, f"narrative_{s}").data or "" for s in NARRATIVE_SECTIONS}
    try:
        return create_collective(
            session, current_app.config["PETITIO_SETTINGS"], g.actor, body=form.body.data or "",
            language=form.language.data or "", title=form.title.data or "", cases=refs,
            mandates=list(form.mandates.data or []), grounds=list(form.grounds.data or []), narrative=narrative,
            officials=officials, appeals_received=int(raw_appeals) if raw_appeals else None)
    except ValidationFailed as err:
        session.rollback()
        for name, message in err.errors.items():
            field_name, text = _field_error(name, message, lines)
            target = getattr(form, field_name)
            target.errors = [*target.errors, text]
        return None


def parse_officials(text: str) -> tuple[list[dict[str, str]], list[int], str | None]:
    """The officials typed one per line as "position | agency | name | role", the line each came from, and a
    message when a line has more parts than that."""
    officials, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > len(OFFICIAL_FIELDS):
            return [], [], _("Line %(line)d has more than four parts: position | agency | name | role.", line=number)
        officials.append(dict(zip(OFFICIAL_FIELDS, parts + [""] * (len(OFFICIAL_FIELDS) - len(parts)), strict=True)))
        lines.append(number)
    return officials, lines, None


def _field_error(name: str, message: str, lines: list[int]) -> tuple[str, str]:
    """The form field a service error belongs to, and the reason in the user's language."""
    field_name, _dot, index = name.partition(".")
    if field_name == "narrative":
        return f"narrative_{index}", _("At most %(max)d characters.", max=SECTION_MAX)
    if field_name == "officials" and index.isdigit():
        line = lines[int(index)]  # the service numbers the officials it was given; the user sees lines
        if "position" in message:
            return "officials", _("Line %(line)d: give the official's position.", line=line)
        return "officials", _("Line %(line)d: each part may have at most %(max)d characters.", line=line,
                              max=FIELD_MAX)
    texts = {
        "body": _("Choose one of the bodies listed."),
        "language": _("Choose one of the languages listed."),
        "title": _("Give a title of at most %(max)d characters.", max=TITLE_MAX),
        "mandates": _("Mandates apply only to the UN Special Procedures.") if "only" in message
        else _("Choose mandates from the list."),
        "grounds": _("Choose legal grounds from the list."),
        "officials": _("At most %(max)d officials.", max=MAX_OFFICIALS),
        "appeals_received": str(WHOLE_NUMBER),
        "cases": _cases_error(message),
    }
    return field_name, texts.get(field_name, _("This value is not valid."))


def _cases_error(message: str) -> str:
    """"unknown: A; no approved review: B, C" -> the same, translated; the references stay as they are."""
    parts = []
    for part in message.split("; "):
        found = re.match(r"^(unknown|no verified consent|no approved review): (.+)$", part)
        if found:
            parts.append(f"{CASE_PROBLEMS[found.group(1)]}: {found.group(2)}")
        elif part.startswith("at most"):
            parts.append(_("At most %(max)d cases.", max=MAX_CASES))
        else:
            parts.append(_("Choose at least one case."))
    return "; ".join(parts)


def _render_new(form: CollectiveForm, eligible: list[page_support.EligibleCase]) -> str:
    chosen = set(form.cases.data or [])
    return render_template("collective/new.html", form=form, eligible=eligible, chosen=chosen,
                           sections=[getattr(form, f"narrative_{s}") for s in NARRATIVE_SECTIONS])


# -- one complaint ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    cases: int
    cities: int
    appeals_received: int


def render_collective(collective_id: int, *, submitted: dict[str, Any] | None = None) -> str:
    """The complaint's page; ``submitted``: a refused task form as typed, with its errors (from ``pages.task``)."""
    session = db()
    try:
        collective = get_collective(session, collective_id)
    except NotFound:
        abort(404, description=_("There is no such collective complaint."))
    filing = collective.filing
    bodies = {filing.id: filing.body} if filing is not None else {}
    rows = page_support.collective_tasks(session, collective)
    creator = page_support.user_names(session, {collective.created_by_id} if collective.created_by_id else set())
    return render_template(
        "collective/show.html", collective=collective, filing=filing,
        figures=Figures(len(collective.cases), page_support.city_count(session, collective),
                        collective.appeals_received),
        panels=task_panels(session, rows, submitted or {}, utcnow(), bodies),
        versions=page_support.filing_versions(session, list(bodies)).get(filing.id, []) if filing else [],
        history=history_entries(page_support.collective_history(session, collective)),
        created_by=creator.get(collective.created_by_id or 0), sections=SECTION_LABELS, **filing_links(collective=True))


@bp.route("/<int:collective_id>")
@roles(*CASEWORK)
def show(collective_id: int) -> str:
    return render_collective(collective_id)

