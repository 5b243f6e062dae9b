"""Episode titles and city names in a document's language: the one lookup every filing uses.

An episode carries its title as staff see it (``Episode.title``) and, optionally, per document language
(``Episode.titles``, entered on the episodes page or in the episodes file as ``title_<language>``). A city is
free text typed at intake (``Person.city``, ``Incident.city``); the ``city`` vocabulary (admins add a term per
city with its name per language) says how to write it in each language. A city typed as any of a term's
labels or as its key is printed with the term's label in the document's language; a city that is in no term
prints as typed, so nothing is ever lost or guessed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

import filings
from workflow import vocab
from workflow.bodies import all_bodies
from workflow.models import Episode
from workflow.schemas.catalogue import FILING_LANGUAGES

CITY_VOCABULARY = "city"


def document_languages(session: Session) -> tuple[str, ...]:
    """The languages documents are written in here: those the active bodies accept and the collective
    complaint's; an episode's title may be given in each."""
    used = {language for body in all_bodies(session) for language in body.languages}
    used.update(filings.available_collective())
    return tuple(code for code in FILING_LANGUAGES if code in used)


def episode_title(episode: Episode, language: str) -> str:
    """The episode's title in ``language``: its own translation, else the title staff entered."""
    return (episode.titles or {}).get(language) or episode.title


def _spelling(name: str) -> str:
    # "Almaty", " almaty " and "ALMATY" are one city; so are "Алматы" and "алматы".
    return " ".join(name.split()).casefold()


def city_names(session: Session, language: str) -> Callable[[str | None], str | None]:
    """A lookup ``typed city -> its name in language`` over the city vocabulary, read once.

    Build it once per document (a collective complaint names hundreds of cities): each call is then a dict
    lookup. Retired terms still translate (old records keep their city).
    """
    known: dict[str, str] = {}
    for term in vocab.terms(session, CITY_VOCABULARY, include_retired=True):
        label = vocab.label_of(term, language)
        for spelling in (term.key, *term.labels.values()):
            if spelling:
                known.setdefault(_spelling(spelling), label)

    def name(typed: str | None) -> str | None:
        if typed is None or not typed.strip():
            return typed
        return known.get(_spelling(typed), typed.strip())

    return name


def city_name(session: Session, city: str | None, language: str) -> str | None:
    """One city in ``language`` (see ``city_names`` to translate many)."""
    return city_names(session, language)(city)
