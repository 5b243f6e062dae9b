"""Content blocks: the parts of a filing filled from the snapshot, in the template's wording.

``compose`` walks the template's sections and asks each section's blocks for elements. Here: the context
every block reads (with ``Context.fact``, the one way a fact is printed: value, "not known" or a
"[To be completed: ...]" placeholder) and the two blocks both kinds share (rights violated, mandates). The
individual filing's blocks are in ``filings/case_blocks.py`` and ``filings/formal_blocks.py``, the
collective complaint's in ``filings/collective.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Generic, Protocol, TypeVar

from filings.elements import Element, Heading, ItemList, Text, clip, paragraphs
from filings.formatting import Formats
from filings.snapshot import NOT_KNOWN, CaseSnapshot, GroundSnapshot, IncidentSnapshot
from filings.wording import Section, Template

_WGAD_CATEGORIES: Final = ("I", "II", "III", "IV", "V")
_OTHER_PROCEDURES: Final = ("none", "pending", "concluded")


class _Filed(Protocol):
    """What both snapshot kinds offer to the shared blocks."""

    @property
    def grounds(self) -> tuple[GroundSnapshot, ...]: ...

    @property
    def mandates(self) -> tuple[str, ...]: ...


S = TypeVar("S", bound=_Filed)


@dataclass(frozen=True, slots=True)
class Budget:
    """How much free text to print (the 500-word summaries); the default prints all of it."""

    words: int | None = None  # per free-text field: descriptions, summaries
    incidents: int | None = None  # the most recent incidents kept


@dataclass(frozen=True, slots=True)
class Context(Generic[S]):
    snapshot: S
    template: Template
    values: Mapping[str, str]
    formats: Formats
    budget: Budget = Budget()
    # Keys of the facts printed as "[To be completed: ...]", in document order (``filings.missing``).
    lacking: list[str] = field(default_factory=list)

    def label(self, key: str, *, plural: int | None = None, **extra: str) -> str:
        """A label for use inside a sentence or a table cell: the template's line wrapping removed."""
        return " ".join(self.template.label(key, self.values, plural=plural, **extra).split())

    def said(self, key: str, *, plural: int | None = None, **extra: str) -> list[Element]:
        """A label as paragraphs; a label left empty in the template prints nothing."""
        return paragraphs(self.template.label(key, self.values, plural=plural, **extra))

    def note(self, key: str, *, plural: int | None = None, **extra: str) -> list[Element]:
        """A label as the organisation's own remark (italics), set apart from the account of the facts."""
        return [Text(element.body, note=True) if isinstance(element, Text) else element
                for element in self.said(key, plural=plural, **extra)]

    def clip(self, text: str) -> str:
        return clip(text, self.budget.words)

    def fact(self, value: object, key: str, what: str, *, free_text: bool = False) -> str:
        """A fact as printed: its value, the template's "not known" when a person marked it so, or a
        visible placeholder naming ``what`` (a label key) that ``filings.missing`` reports under ``key``."""
        if value is NOT_KNOWN:
            return self.formats.unknown
        if value is None or value == "":
            self.lacking.append(key)
            return self.label("missing", what=self.label(what))
        if isinstance(value, bool):
            return self.template.raw("yes" if value else "no")
        if isinstance(value, date):
            return self.formats.date(value)
        return self.clip(str(value)) if free_text else str(value)


Builder = Callable[[Context[S], Section, int], list[Element]]


def compose(ctx: Context[S], builders: Mapping[str, Builder[S]]) -> list[Element]:
    """Title, introduction, the numbered sections with their blocks, and the closing."""
    template, values = ctx.template, ctx.values
    out: list[Element] = [Heading(template.fill(template.title, values), 0)]
    out.extend(paragraphs(template.fill(template.intro, values)))
    for number, section in enumerate(template.sections, 1):
        out.append(Heading(f"{number}. {template.fill(section.heading, values)}", 1))
        out.extend(paragraphs(template.fill(section.text, values)))
        for block in section.blocks:
            out.extend(builders[block](ctx, section, number))
    out.extend(paragraphs(template.fill(template.closing, values)))
    return out


def individual_values(snapshot: CaseSnapshot, formats: Formats) -> dict[str, str]:
    """The template-wide placeholders of an individual filing, formatted for its language."""
    return {
        "organisation": snapshot.organisation,
        "body_name": snapshot.body_name,
        "ref": snapshot.ref,
        "person": snapshot.person.display_name,
        "state": snapshot.state or formats.unknown,
        "received_on": formats.date(snapshot.received_on),
        "generated_on": formats.date(snapshot.generated_at.date()),
        "version": formats.number(snapshot.version),
        "mandates": ", ".join(snapshot.mandates) or formats.unknown,
    }


def chronological(incidents: tuple[IncidentSnapshot, ...]) -> list[IncidentSnapshot]:
    # Undated incidents go last, in the order they were recorded.
    return sorted(incidents, key=lambda i: (not isinstance(i.occurred_on, date), i.occurred_on or date.min))


def yes_no(ctx: Context[S], value: bool) -> str:
    return ctx.template.raw("yes" if value else "no")


# -- shared blocks ---------------------------------------------------------------------------------------

def rights_violated(ctx: Context[S], section: Section, _number: int) -> list[Element]:
    grounds = ctx.snapshot.grounds
    if not grounds:
        return ctx.said("grounds_none")
    items = []
    for ground in grounds:
        udhr = ctx.label("udhr", articles=ground.udhr) if section.cite_udhr and ground.udhr else ""
        items.append(Text(f"{ground.label} {udhr}".strip()))
    return [ItemList(tuple(items))]


def mandates(ctx: Context[S], _section: Section, _number: int) -> list[Element]:
    if not ctx.snapshot.mandates:
        return ctx.said("mandates_none")
    return [*ctx.said("mandates_intro"), ItemList(tuple(Text(mandate) for mandate in ctx.snapshot.mandates))]


