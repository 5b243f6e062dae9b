"""An episode as staff edit it on the episodes page: its title (per document language too) and known totals.

The episodes file (``services/episodes.read_episodes``) applies the same limits, named here once.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from workflow.problems import Problem
from workflow.schemas.base import Dict, InputSchema, Text
from workflow.schemas.catalogue import FILING_LANGUAGES

TITLE_MAX = 300
DESCRIPTION_MAX = 20000
KNOWN_TOTALS_MAX = 2000
# The episodes file's optional column for a title in a document language: title_ru, title_en, ...
TITLE_COLUMN = "title_"


class Titles(Dict):
    """language -> the episode's title in that language; empty ones are dropped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        problems: dict[str, Any] = {}
        titles: dict[str, str] = {}
        for language, title in value.items():
            if language not in FILING_LANGUAGES:
                problems[language] = Problem("not_one_of", {"choices": list(FILING_LANGUAGES)})
                continue
            try:  # each title checked as any text is (trimmed, length, control characters)
                clean = _TITLE.deserialize(title)
            except ValidationError as err:
                problems[language] = err.messages[0] if isinstance(err.messages, list) else err.messages
                continue
            if clean:
                titles[language] = clean
        if problems:
            raise ValidationError(problems)
        return titles


_TITLE = Text(allow_none=True, max_length=TITLE_MAX)


class EpisodeEditSchema(InputSchema):
    title = Text(required=True, max_length=TITLE_MAX, metadata={"description": "the title staff see"})
    titles = Titles(load_default=dict, metadata={
        "description": "language -> the title documents in that language print (else the title)"})
    known_totals = Text(allow_none=True, load_default=None, max_length=KNOWN_TOTALS_MAX, metadata={
        "description": "figures from other sources, e.g. 'more than 150 detained' (printed instead of 'not known')"})
