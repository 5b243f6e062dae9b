"""Episodes: the named, dated events that appeals belong to, listed with their number of cases, and added or
updated from a spreadsheet (the same file and rules as ``petitio episodes import``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from werkzeug import Response
from werkzeug.exceptions import RequestEntityTooLarge

from web.access import roles
from web.database import db
from web.episodes.forms import EpisodesUploadForm, episode_form
from web.errors import too_large
from web.labels import label
from web.messages import message, put_on_form
from web.translate import gettext as _
from workflow.errors import NotFound, ValidationFailed
from workflow.place_names import document_languages
from workflow.roles import CASEWORK, EPISODE_EDITORS
from workflow.services.episodes import edit_episode, episode_rows, get_episode, import_episodes

bp = Blueprint("episodes", __name__, template_folder="templates")
bp.register_error_handler(RequestEntityTooLarge, too_large)
SUFFIXES = (".csv", ".xlsx")


def _page(form: EpisodesUploadForm, errors: list[str] | None = None) -> str:
    return render_template("episodes/index.html", rows=episode_rows(db()), form=form, errors=errors or [],
                           can_edit=g.actor.role in EPISODE_EDITORS)


@bp.route("/episodes")
@roles(*CASEWORK)
def index() -> str:
    return _page(EpisodesUploadForm())


@bp.route("/episodes/import", methods=["POST"])
@roles(*EPISODE_EDITORS)
def upload() -> Response | tuple[str, int]:
    form = EpisodesUploadForm()
    if not form.validate_on_submit() or not form.file.data:
        return _page(form, [_("Choose a CSV or XLSX file of episodes.")]), 422
    upload = form.file.data
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        return _page(form, [_("Only .csv and .xlsx files can be imported.")]), 422
    settings = current_app.config["PETITIO_SETTINGS"]
    # The reader wants a path; episodes carry no identity, and the copy lives only for this request.
    handle, name = tempfile.mkstemp(suffix=suffix, dir=settings.home)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(upload.read(settings.max_document_bytes + 1))
        counts = import_episodes(db(), g.actor, Path(name))
    except ValidationFailed as err:
        db().rollback()
        # Row problems carry codes (translated); a file that cannot be read at all says why in one line.
        lines = [f"{where}: {message(problem)}" for where, problem in err.errors.items()] or [err.message]
        return _page(form, lines), 422
    finally:
        os.unlink(name)
    flash(_("Episodes: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.", **counts), "success")
    return redirect(url_for("episodes.index"), 303)


@bp.route("/episodes/<key>", methods=["GET", "POST"])
@roles(*EPISODE_EDITORS)
def edit(key: str) -> Response | str | tuple[str, int]:
    """An episode's title in each document language and its known totals (intake and managers)."""
    session = db()
    try:
        episode = get_episode(session, key)
    except NotFound:
        abort(404, description=_("There is no such episode."))
    languages = document_languages(session)
    form = episode_form(languages, {code: label("locale", code) for code in languages})
    if not form.is_submitted():
        form.title.data, form.known_totals.data = episode.title, episode.known_totals or ""
        for language in languages:
            form[f"title_{language}"].data = (episode.titles or {}).get(language, "")
    elif form.validate():
        data = {"title": form.title.data or "", "known_totals": form.known_totals.data or "",
                "titles": {language: form[f"title_{language}"].data or "" for language in languages}}
        try:
            edit_episode(session, g.actor, key, data)
        except ValidationFailed as err:
            session.rollback()
            put_on_form(form, {name.replace("titles.", "title_"): problem for name, problem in err.errors.items()},
                        default="title")
        else:
            flash(_("Episode saved."), "success")
            return redirect(url_for("episodes.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("episodes/edit.html", episode=episode, form=form,
                           title_fields=[f"title_{language}" for language in languages]), status
