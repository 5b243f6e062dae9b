"""The form a legal officer opens a collective complaint with (``schemas/collective.py`` says what is valid).

Choices are not checked here: a case that stopped being eligible after the page was drawn must come back named by
the service, not as "not a valid choice".
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField

import filings
from web.forms import Required
from web.labels import LABELS, data_labels, label
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow import vocab
from workflow.bodies import active_codes
from workflow.schemas.collective import NARRATIVE_SECTIONS, OFFICIAL_FIELDS, SECTION_MAX, TITLE_MAX
from workflow.services.collective import EligibleCase

SECTION_LABELS: dict[str, Any] = {key: LABELS["collective_section"][key] for key in NARRATIVE_SECTIONS}
OFFICIALS_HELP = _l("One official per line, parts separated by “|”: position | agency | name | role. Only the "
                    "position is required; leave a part empty to skip it, e.g. “Head of the city police | Police "
                    "| | ordered the dispersal”.")


class CollectiveForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Required()], render_kw={"maxlength": TITLE_MAX})
    body = SelectField(_l("Body"), validate_choice=False, validators=[Required()])
    language = SelectField(_l("Language of the complaint"), validate_choice=False, validators=[Required()])
    all_cases = BooleanField(_l("Include every case listed below"))
    cases = SelectMultipleField(_l("Cases"), validate_choice=False)
    mandates = SelectMultipleField(_l("Special Procedures mandates"), validate_choice=False,
                                   description=_l("Only for the UN Special Procedures; leave empty for other bodies."))
    grounds = SelectMultipleField(_l("Legal grounds"), validate_choice=False)
    officials = TextAreaField(_l("Officials responsible"), description=OFFICIALS_HELP)
    appeals_received = StringField(
        _l("Appeals received"),
        description=_l("Leave empty to count every appeal about the same episodes, with or without consent."))


for _section in NARRATIVE_SECTIONS:
    setattr(CollectiveForm, f"narrative_{_section}", TextAreaField(SECTION_LABELS[_section],
                                                                   render_kw={"maxlength": SECTION_MAX}))


class NarrativeForm(FlaskForm):
    """The complaint's text rewritten by the legal officer (every section as it should now read)."""


for _section in NARRATIVE_SECTIONS:
    setattr(NarrativeForm, f"narrative_{_section}", TextAreaField(SECTION_LABELS[_section]))


def narrative_form(narrative: dict[str, str] | None = None) -> NarrativeForm:
    """The form as posted (no ``narrative``), or filled with the text on record and never with a request's
    fields (the page is also drawn after another form on it, a task's, was posted)."""
    if narrative is None:
        return NarrativeForm()
    return NarrativeForm(formdata=None, data={f"narrative_{s}": narrative.get(s, "") for s in NARRATIVE_SECTIONS})


def collective_form(session: Session, eligible: list[EligibleCase]) -> CollectiveForm:
    form = CollectiveForm()
    names = data_labels()
    form.body.choices = [SelectChoice(code, names["body"].get(code, code)) for code in active_codes(session)]
    root = current_app.config["PETITIO_SETTINGS"].templates_dir
    form.language.choices = [SelectChoice(code, label("locale", code))
                             for code in filings.available_collective(root=root)]
    form.cases.choices = [SelectChoice(c.ref, c.ref) for c in eligible]
    form.mandates.choices = [SelectChoice(k, names["mandate"].get(k, k)) for k in vocab.keys(session, "mandate")]
    form.grounds.choices = [SelectChoice(k, names["legal_ground"].get(k, k))
                            for k in vocab.keys(session, "legal_ground")]
    return form


def parse_officials(text: str) -> tuple[list[dict[str, str]], list[int], str | None]:
    """The officials typed one per line as "position | agency | name | role", the line each came from, and a
    message when a line has more parts than that (the page's own format; the service checks the rest)."""
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


def appeals_received(text: str) -> int | str | None:
    """Empty: counted by the service; a whole number as a number; anything else as typed, for the service to refuse."""
    text = text.strip()
    return None if not text else int(text) if text.isascii() and text.isdigit() and len(text) <= 40 else text
