"""Render a snapshot as the filing a body expects: its template's wording, the case's facts, a .docx.

    render(case_snapshot)            one individual filing (body and language come from the snapshot)
    render_collective(snapshot)      one collective complaint over many cases
    wording_sha256(body, language)   the hash of the template file a rendering uses

Each takes ``root``, the wording folder (default: the project's ``templates/``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Final, TypeVar

from filings.blocks import Budget, Context, compose, individual_values
from filings.collective import COLLECTIVE_BUILDERS, collective_values
from filings.docx_writer import PAGE_MARK, PAGES_MARK, Page, write
from filings.elements import Element, count_words, words
from filings.formal_blocks import INDIVIDUAL_BUILDERS
from filings.formatting import Formats
from filings.schema import COLLECTIVE
from filings.snapshot import CaseSnapshot, CollectiveSnapshot
from filings.wording import Template, languages, load

# Below this many words per description, a shortened account stops being worth reading: drop the oldest
# incidents instead.
MIN_WORDS: Final = 12

T = TypeVar("T")


Root = Path | str | None


def available(body: str, *, root: Root = None) -> tuple[str, ...]:
    """Languages in which an individual filing to ``body`` can be rendered."""
    return () if body == COLLECTIVE else languages(body, root)


def available_collective(*, root: Root = None) -> tuple[str, ...]:
    """Languages in which a collective complaint can be rendered."""
    return languages(COLLECTIVE, root)


def wording_sha256(body: str, language: str, *, root: Root = None) -> str:
    """SHA-256 of the template file that renders ``body`` ("collective" too) in ``language``: the same
    cached template the render functions use, so the hash names the wording of the document they made."""
    return load(body, language, root).sha256


def render(snapshot: CaseSnapshot, *, letterhead: bytes | None = None, root: Root = None) -> bytes:
    """The individual filing for ``snapshot.body`` in ``snapshot.language`` as .docx bytes.

    ValueError when there is no template for that body and language, or the letterhead is not a .docx.
    """
    if snapshot.body == COLLECTIVE:
        raise ValueError("'collective' is not a body: use render_collective() for a collective complaint")
    template = load(snapshot.body, snapshot.language, root)
    formats = Formats(template.locale, template.raw("unknown"))
    ctx = Context(snapshot, template, individual_values(snapshot, formats), formats)
    page = _page(template, ctx.values, f"{snapshot.ref} · {snapshot.body_name}", snapshot)
    limit = template.word_limit
    elements = _fit(ctx, page, limit) if limit else compose(ctx, INDIVIDUAL_BUILDERS)
    return write(elements, page, letterhead)


def missing(snapshot: CaseSnapshot, *, root: Root = None) -> tuple[str, ...]:
    """What the filing for ``snapshot`` still lacks: the keys of the facts it prints as "[To be completed:
    ...]", in document order, each once ("person.nationality", "arrests[1].place", "perpetrators", ...).

    Facts a person marked "not known" are not listed: the filing states them as not known.
    """
    template = load(snapshot.body, snapshot.language, root)
    formats = Formats(template.locale, template.raw("unknown"))
    ctx = Context(snapshot, template, individual_values(snapshot, formats), formats)
    compose(ctx, INDIVIDUAL_BUILDERS)
    return tuple(dict.fromkeys(ctx.lacking))


def render_collective(snapshot: CollectiveSnapshot, *, letterhead: bytes | None = None, root: Root = None) -> bytes:
    """The collective complaint as .docx bytes; ValueError when its figures contradict each other."""
    _check_figures(snapshot)
    template = load(COLLECTIVE, snapshot.language, root)
    formats = Formats(template.locale, template.raw("unknown"))
    ctx = Context(snapshot, template, collective_values(snapshot, formats), formats)
    page = _page(template, ctx.values, f"{snapshot.reference} · {snapshot.body_name}", snapshot)
    return write(compose(ctx, COLLECTIVE_BUILDERS), page, letterhead)


def _page(template: Template, values: Mapping[str, str], title: str,
          snapshot: CaseSnapshot | CollectiveSnapshot) -> Page:
    header = " ".join(template.label("header", values).split())
    footer = " ".join(template.label("footer", values, page=PAGE_MARK, pages=PAGES_MARK).split())
    return Page(title=title, author=snapshot.organisation, header=header, footer=footer,
                generated_at=snapshot.generated_at, locale=template.locale)


def _check_figures(snapshot: CollectiveSnapshot) -> None:
    # The complaint states these figures to a UN body; a snapshot that contradicts itself is a bug upstream.
    if len(snapshot.named) + snapshot.unnamed != snapshot.complainants:
        raise ValueError(f"{len(snapshot.named)} named + {snapshot.unnamed} unnamed complainants "
                         f"do not make the {snapshot.complainants} complainants of the complaint")
    if snapshot.appeals_received < snapshot.complainants:
        raise ValueError(f"{snapshot.appeals_received} appeals received cannot yield "
                         f"{snapshot.complainants} complainants")
    if (left_out := sum(n for _reason, n in snapshot.excluded)) > snapshot.appeals_received - snapshot.complainants:
        raise ValueError(f"{left_out} appeals left out and {snapshot.complainants} complainants make more than the "
                         f"{snapshot.appeals_received} appeals received")


# -- the word limit (European Parliament summaries) ------------------------------------------------------

def _fit(ctx: Context[CaseSnapshot], page: Page, limit: int) -> list[Element]:
    """The fullest version of the filing that stays under the template's word limit.

    First every free text is shortened to the longest length that fits; if even MIN_WORDS per text is too
    long, the oldest incidents are left out as well. The facts block says which of the two happened.
    """
    frame = words(page.header) + words(page.footer.replace(PAGE_MARK, " 1 ").replace(PAGES_MARK, " 1 "))

    def attempt(budget: Budget) -> list[Element] | None:
        elements = compose(replace(ctx, budget=budget, lacking=[]), INDIVIDUAL_BUILDERS)
        return elements if frame + count_words(elements) < limit else None

    whole = attempt(Budget())
    if whole is not None:
        return whole
    longest = max((words(text) for text in _free_texts(ctx.snapshot)), default=0)
    shortened = _largest(lambda n: attempt(Budget(words=n)), MIN_WORDS, longest - 1)
    if shortened is not None:
        return shortened
    fewer = _largest(lambda n: attempt(Budget(words=MIN_WORDS, incidents=n)), 0, len(ctx.snapshot.incidents) - 1)
    if fewer is not None:
        return fewer
    raise ValueError(f"the {ctx.template.body}/{ctx.template.language} template does not fit in "
                     f"{limit} words even without the facts")


def _free_texts(snapshot: CaseSnapshot) -> Iterator[str]:
    yield from (incident.description for incident in snapshot.incidents)
    yield from (episode.description or "" for episode in snapshot.episodes)
    person = snapshot.person
    yield from (value for value in (person.activity, person.situation) if isinstance(value, str))
    yield from (p.actions for p in snapshot.perpetrators if isinstance(p.actions, str))
    for row in (*snapshot.arrests, *snapshot.ill_treatments):
        yield from (value for value in vars_of(row) if isinstance(value, str))
    yield snapshot.remedies.summary


def vars_of(row: object) -> Iterator[object]:
    return (getattr(row, f.name) for f in fields(row))  # type: ignore[arg-type]


def _largest(attempt: Callable[[int], T | None], low: int, high: int) -> T | None:
    """Binary search for the largest n in [low, high] whose attempt succeeds (longer texts fit less)."""
    best = None
    while low <= high:
        middle = (low + high) // 2
        result = attempt(middle)
        if result is None:
            high = middle - 1
        else:
            best, low = result, middle + 1
    return best
