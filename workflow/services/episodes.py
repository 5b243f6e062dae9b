"""Episodes: named, dated events shared by many cases; their import from CSV or XLSX (docs/INTERFACES.md §3.7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.models import Episode, User, case_episodes
from workflow.problems import Problem
from workflow.roles import EPISODE_EDITORS
from workflow.schemas.base import clean_text, is_slug, parse_day, problems_of
from workflow.schemas.catalogue import FILING_LANGUAGES
from workflow.schemas.episodes import (
    DESCRIPTION_MAX,
    KNOWN_TOTALS_MAX,
    TITLE_COLUMN,
    TITLE_MAX,
    EpisodeEditSchema,
)
from workflow.tabular import blank_row, cell_value, is_blank, read_table

EPISODE_REQUIRED = ("key", "title", "start_date", "end_date")
# Optional: a file without them leaves what the episodes page recorded alone (title_<language>: see TITLE_COLUMN).
EPISODE_OPTIONAL = ("description", "known_totals")
_EPISODE_LIMITS = {"title": TITLE_MAX, "description": DESCRIPTION_MAX, "known_totals": KNOWN_TOTALS_MAX}
_UNCHANGED: Any = object()  # a column the file does not have


def upsert_episode(session: Session, actor: User | None, key: str, title: str, start_date: date | None,
                   end_date: date | None, description: str | None = None, *, known_totals: Any = _UNCHANGED,
                   titles: Mapping[str, str | None] | None = None) -> tuple[Episode, str]:
    """Create or update by key; returns the episode and 'created', 'updated' or 'unchanged'.

    ``known_totals`` left out keeps what is recorded; ``titles`` (language -> title, None or "" to remove one)
    changes only the languages it names."""
    episode = session.scalar(select(Episode).where(Episode.key == key))
    values: dict[str, Any] = {"title": title, "start_date": start_date, "end_date": end_date,
                              "description": description}
    if known_totals is not _UNCHANGED:
        values["known_totals"] = known_totals or None
    if titles:
        merged = {**(episode.titles if episode is not None and episode.titles else {}), **titles}
        values["titles"] = {language: text for language, text in sorted(merged.items()) if text}
    if episode is None:
        episode = Episode(key=key, **values)
        session.add(episode)
        outcome = "created"
    elif any(getattr(episode, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(episode, k, v)
        outcome = "updated"
    else:
        return episode, "unchanged"
    session.flush()
    audit(session, actor, f"episode_{outcome}", "episode", episode.id, None, {"key": key})
    return episode, outcome


def edit_episode(session: Session, actor: User, key: str, data: Mapping[str, Any]) -> Episode:
    """The episodes page's edit: the title, the title per document language and the known totals (checked by
    ``schemas.episodes.EpisodeEditSchema``); audited by field name. Intake and managers only."""
    if actor.role not in EPISODE_EDITORS:
        raise Forbidden("only intake staff and managers edit episodes")
    episode = get_episode(session, key)
    values = EpisodeEditSchema().load_or_fail(dict(data), "the episode has errors")
    before = {"title": episode.title, "titles": dict(episode.titles or {}), "known_totals": episode.known_totals}
    changed = sorted(name for name, value in values.items() if before[name] != value)
    if changed:
        episode.title, episode.titles, episode.known_totals = (values["title"], values["titles"],
                                                               values["known_totals"])
        session.flush()
        audit(session, actor, "episode_updated", "episode", episode.id, None, {"key": key, "fields": changed})
    return episode


def get_episode(session: Session, key: str) -> Episode:
    episode = session.scalar(select(Episode).where(Episode.key == key))
    if episode is None:
        raise NotFound(f"no episode {key!r}")
    return episode


def episode_titles(session: Session) -> list[tuple[str, str]]:
    """(key, title) of every episode, by key."""
    return [(key, title) for key, title in session.execute(select(Episode.key, Episode.title).order_by(Episode.key))]


@dataclass(frozen=True)
class EpisodeRow:
    key: str
    title: str
    start_date: date | None
    end_date: date | None
    cases: int
    known_totals: str | None = None


def episode_rows(session: Session) -> list[EpisodeRow]:
    """Every episode with its number of cases, the earliest first."""
    counts = (select(case_episodes.c.episode_id, func.count().label("n")).group_by(case_episodes.c.episode_id)
              .subquery())
    rows = session.execute(select(Episode.key, Episode.title, Episode.start_date, Episode.end_date,
                                  func.coalesce(counts.c.n, 0), Episode.known_totals)
                           .outerjoin(counts, counts.c.episode_id == Episode.id)
                           .order_by(Episode.start_date.is_(None), Episode.start_date, Episode.key))
    return [EpisodeRow(*row) for row in rows]


# -- the episodes file ---------------------------------------------------------------------------------


def _optional_date(value: object) -> date | None:
    value = cell_value(value)
    if is_blank(value):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return parse_day(str(value))
    except ValueError:
        raise ValueError("not a date") from None


def read_episodes(path: Path) -> list[dict[str, Any]]:
    """Validated episodes: ``key``, ``title``, ``start_date``, ``end_date``, ``description``, ``titles`` (from the
    optional ``title_<language>`` columns) and, when the file has that column, ``known_totals``.

    Every row is checked first; any problem raises one ValidationFailed naming each row and column.
    """
    table = read_table(path)
    name = Path(path).name
    missing = [c for c in EPISODE_REQUIRED if c not in table.header]
    if missing:
        raise ValidationFailed(f"{name}: row 1: required column(s) missing: {', '.join(missing)}",
                               errors={f"row 1: {c}": Problem("missing_column") for c in missing})
    title_columns = [c for c in table.header if c.startswith(TITLE_COLUMN)]
    if unknown := [c for c in title_columns if c.removeprefix(TITLE_COLUMN) not in FILING_LANGUAGES]:
        raise ValidationFailed(f"{name}: row 1: unknown column(s): {', '.join(unknown)}",
                               errors={f"row 1: {c}": Problem("not_one_of", {
                                   "choices": [f"{TITLE_COLUMN}{lang}" for lang in FILING_LANGUAGES]})
                                   for c in unknown})
    problems: dict[str, Problem] = {}
    episodes: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(table.rows):
        number = index + 2
        if blank_row(table, index):
            continue
        errors: dict[str, Problem] = {}
        if number in table.extra_cells:
            errors["row"] = Problem("extra_cells", {"count": table.extra_cells[number]})
        text: dict[str, str] = {}
        for column in ("key", "title", "description", "known_totals", *title_columns):
            raw = "" if is_blank(row.get(column)) else str(row.get(column))
            try:  # the character rule of every text (schemas/base.py): only the descriptive texts have lines
                text[column] = clean_text(raw, multiline=column in ("description", "known_totals"))
            except ValidationError as err:
                errors[column] = problems_of(err.messages)["_body"]
                text[column] = ""
        key = text["key"]
        if "key" in errors:
            pass
        elif not is_slug(key):
            errors["key"] = Problem("bad_key")
        elif key in seen:
            errors["key"] = Problem("duplicate_episode_key", {"key": key, "row": seen[key]})
        else:
            seen[key] = number
        if not text["title"] and "title" not in errors:
            errors["title"] = Problem("required")
        for column, limit in [*_EPISODE_LIMITS.items(), *((c, TITLE_MAX) for c in title_columns)]:
            if len(text[column]) > limit:
                errors[column] = Problem("too_long", {"max": limit})
        dates: dict[str, date | None] = {}
        for column in ("start_date", "end_date"):
            try:
                dates[column] = _optional_date(row.get(column))
            except ValueError:
                errors[column] = Problem("not_date")
        start, end = dates.get("start_date"), dates.get("end_date")
        if start and end and end < start:
            errors["end_date"] = Problem("end_before_start")
        if errors:
            problems.update({f"row {number}: {c}": m for c, m in errors.items()})
            continue
        episode: dict[str, Any] = {"key": key, "title": text["title"], "start_date": start, "end_date": end,
                                   "description": text["description"] or None,
                                   "titles": {c.removeprefix(TITLE_COLUMN): text[c] for c in title_columns}}
        if "known_totals" in table.header:
            episode["known_totals"] = text["known_totals"] or None
        episodes.append(episode)
    if problems:
        listed = "; ".join(f"{k}: {m.text}" for k, m in list(problems.items())[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValidationFailed(f"{name}: {len(problems)} error(s), nothing imported: {listed}{more}",
                               errors=problems)
    return episodes


def import_episodes(session: Session, actor: User | None, path: Path) -> dict[str, int]:
    """Create or update episodes by key (idempotent); returns {"created", "updated", "unchanged"}."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for episode in read_episodes(path):
        more = {"known_totals": episode["known_totals"]} if "known_totals" in episode else {}
        _, outcome = upsert_episode(session, actor, episode["key"], episode["title"], episode["start_date"],
                                    episode["end_date"], episode["description"], titles=episode["titles"], **more)
        counts[outcome] += 1
    return counts
