"""Episodes: named, dated events shared by many cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.models import Episode, User, case_episodes


def upsert_episode(session: Session, actor: User | None, key: str, title: str, start_date: date | None,
                   end_date: date | None, description: str | None = None) -> tuple[Episode, str]:
    """Create or update by key; returns the episode and 'created', 'updated' or 'unchanged'."""
    episode = session.scalar(select(Episode).where(Episode.key == key))
    values = {"title": title, "start_date": start_date, "end_date": end_date, "description": description}
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


def episode_rows(session: Session) -> list[EpisodeRow]:
    """Every episode with its number of cases, the earliest first."""
    counts = (select(case_episodes.c.episode_id, func.count().label("n")).group_by(case_episodes.c.episode_id)
              .subquery())
    rows = session.execute(select(Episode.key, Episode.title, Episode.start_date, Episode.end_date,
                                  func.coalesce(counts.c.n, 0))
                           .outerjoin(counts, counts.c.episode_id == Episode.id)
                           .order_by(Episode.start_date.is_(None), Episode.start_date, Episode.key))
    return [EpisodeRow(*row) for row in rows]
