"""The document as plain data, between the wording and python-docx.

Blocks produce these elements and the writer turns them into Word paragraphs and tables. Keeping them
plain lets the renderer count words before anything is written (the European Parliament's 500-word
limit) and keeps python-docx out of the wording logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BULLET = "- "
_SENTENCE_END = (".", "!", "?", "»", '"')
CLIPPED = "[…]"


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int  # 0 is the document title


@dataclass(frozen=True, slots=True)
class Text:
    body: str
    lead: str = ""  # printed in bold before the body, e.g. the date and place of an incident
    note: bool = False  # printed in italics: the organisation's own remark, not part of the account


@dataclass(frozen=True, slots=True)
class ItemList:
    items: tuple[Text, ...]
    numbered: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Picture:
    """An image (a chart) as PNG bytes, with the text a screen reader says instead (``alt``)."""

    png: bytes
    alt: str
    title: str = ""


Element = Heading | Text | ItemList | Table | Picture


def paragraphs(text: str) -> list[Element]:
    """Template wording to elements: blank lines separate paragraphs, a paragraph starting "- " is a list.

    Single line breaks are only the template's line wrapping, so they become spaces; in a list, a line
    that does not start with "- " continues the item above it.
    """
    out: list[Element] = []
    for chunk in _BLANK_LINE.split(text.strip()):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if not lines[0].startswith(_BULLET):
            out.append(Text(" ".join(lines)))
            continue
        items: list[list[str]] = []
        for line in lines:
            if line.startswith(_BULLET):
                items.append([line[len(_BULLET):].strip()])
            else:
                items[-1].append(line)
        out.append(ItemList(tuple(Text(" ".join(item)) for item in items)))
    return out


def narrative(text: str) -> list[Element]:
    """A legal officer's text as given: every line break they typed starts a new paragraph."""
    return [Text(line.strip()) for line in text.splitlines() if line.strip()]


def words(text: str) -> int:
    return len(text.split())


def count_words(elements: Iterable[Element]) -> int:
    total = 0
    for element in elements:
        if isinstance(element, Heading):
            total += words(element.text)
        elif isinstance(element, Text):
            total += words(element.lead) + words(element.body)
        elif isinstance(element, ItemList):
            total += sum(words(item.lead) + words(item.body) for item in element.items)
        elif isinstance(element, Picture):
            continue  # an image has no words on the page
        else:
            total += sum(words(cell) for row in (element.columns, *element.rows) for cell in row)
    return total


def clip(text: str, limit: int | None) -> str:
    """At most ``limit`` words of ``text`` (plus the clipping mark), ending on a sentence when one ends late
    enough to keep at least half of the allowance."""
    parts = text.split()
    if limit is None or len(parts) <= limit:
        return text
    kept = parts[:limit]
    for end in range(len(kept), max(limit // 2, 1) - 1, -1):
        if kept[end - 1].endswith(_SENTENCE_END):
            return " ".join([*kept[:end], CLIPPED])
    return " ".join([*kept, CLIPPED])
