"""Cutting people's names out of staff-written text: the complainants who may not be named in a document.

Separate from ``snapshots.py`` because both kinds of snapshot use it, and a collective complaint builds one
scrubber for hundreds of names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workflow.models import Case

_WORD = re.compile(r"\w[\w'’-]*")
_SHORTEST_PART = 3  # shorter parts ("Li", initials) would cut ordinary words
_ENDING = 3  # letters an inflection adds to a name (Russian and Kazakh case endings)


class NameScrubber:
    """Cuts the names of several complainants out of free text, each replaced by its own stand-in.

    A name is cut as a whole word, or as a word it starts with up to three more letters, so inflected forms go
    too ("Ивановым" for "Иванов"): the full name, the native name, and each of their parts of three letters or
    more, ignoring case. A word inside another word ("Ali" in "legality") is left alone. Adjacent cut words
    with the same stand-in make one stand-in. Built once for many complainants (a collective complaint's
    narrative): each word of the text is then a few set lookups, however many names there are.
    """

    def __init__(self, people: Iterable[tuple[Case, str]]) -> None:
        self._stand_in: dict[str, str] = {}
        for case, replacement in people:
            for name in (case.person.full_name, case.person.full_name_native):
                for part in _WORD.findall(name or ""):
                    for piece in {part, *part.split("-")}:
                        if len(piece) >= _SHORTEST_PART:
                            self._stand_in.setdefault(piece.casefold(), replacement)
        self._longest = max(map(len, self._stand_in), default=0)

    def _replacement(self, word: str) -> str | None:
        folded = word.casefold()
        for end in range(min(len(folded), self._longest), max(len(folded) - _ENDING, _SHORTEST_PART) - 1, -1):
            if (found := self._stand_in.get(folded[:end])) is not None:
                return found
        return None

    def scrub(self, text: str) -> tuple[str, bool]:
        """The text with the names cut out, and whether anything was cut."""
        if not self._stand_in or not text:
            return text, False
        out: list[str] = []
        last_end, last_stand_in = 0, None
        for match in _WORD.finditer(text):
            replacement = self._replacement(match.group())
            if replacement is None:
                continue
            between = text[last_end:match.start()]
            if last_stand_in == replacement and out and not between.strip():
                out.append("")  # the next word of the same name: one stand-in for the whole name
            else:
                out.extend((between, replacement))
            last_end, last_stand_in = match.end(), replacement
        if not out:
            return text, False
        out.append(text[last_end:])
        return "".join(out), True
