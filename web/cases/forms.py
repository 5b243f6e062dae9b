"""The filters of the case list: a read, so no CSRF token (and bookmarkable URLs)."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session
from wtforms import BooleanField, Form, SearchField, SelectChoice, SelectField
from wtforms.validators import Length

from web.labels import label, options
from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow import vocab
from workflow.bodies import all_bodies
from workflow.services.cases import CaseFilters, cities
from workflow.services.episodes import episode_titles
from workflow.states import Stage


class CaseFilterForm(Form):
    q = SearchField(_l("Reference"), validators=[Length(max=40)])
    stage = SelectField(_l("Stage"), default="")
    episode = SelectField(_l("Episode"), default="")
    city = SelectField(_l("City"), default="")
    incident_type = SelectField(_l("Incident type"), default="")
    body = SelectField(_l("Body"), default="")
    urgent = SelectField(_l("Urgent"), default="")
    overdue = BooleanField(_l("Overdue only"))

    def filters(self) -> CaseFilters:
        """What the valid filters ask for; a filter with an unknown value (reported next to it) is ignored."""
        return CaseFilters(stage=_chosen(self.stage), episode=_chosen(self.episode), city=_chosen(self.city),
                           incident_type=_chosen(self.incident_type), overdue=bool(self.overdue.data),
                           q=(_chosen(self.q) or "").strip() or None, body=_chosen(self.body),
                           urgent={"true": True, "false": False}.get(_chosen(self.urgent) or ""))


def _chosen(field: Any) -> Any:
    return None if field.errors else (field.data or None)


def filter_form(session: Session) -> CaseFilterForm:
    form = CaseFilterForm(request.args)
    anything = SelectChoice("", _("any"))
    form.stage.choices = [anything, *options("stage", Stage.codes())]
    form.episode.choices = [anything, *(SelectChoice(k, t) for k, t in episode_titles(session))]
    form.city.choices = [anything, *(SelectChoice(c, c) for c in cities(session))]
    form.incident_type.choices = [anything, *(SelectChoice(t, label("incident_type", t))
                                              for t in vocab.keys(session, "incident_type"))]
    form.body.choices = [anything, *(SelectChoice(b.code, label("body", b.code)) for b in all_bodies(session))]
    form.urgent.choices = [anything, SelectChoice("true", _("urgent only")), SelectChoice("false", _("not urgent"))]
    form.validate()  # an unknown value is reported next to its filter and then ignored
    return form
