"""Render a snapshot as the filing a body expects: its template's wording, the case's facts, a .docx.

    render(case_snapshot)            one individual filing (body and language come from the snapshot)
    render_collective(snapshot)      one collective complaint over many cases
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Final, TypeVar

from filings.blocks import INDIVIDUAL_BUILDERS, Budget, Context, compose, individual_values
from filings.collective import COLLECTIVE_BUILDERS, collective_values
from filings.docx_writer import PAGE_MARK, Page, write
from filings.elements import Element, count_words, words
from filings.formatting import Formats
from filings.schema import COLLECTIVE
from filings.snapshot import CaseSnapshot, CollectiveSnapshot
from filings.wording import Template, languages, load

# Below this many words per description, a shortened account stops being worth reading: drop the oldest
# incidents instead.
MIN_WORDS: Final = 12

T = TypeVar("T")


def available(body: str) -> tuple[str, ...]:
    """Languages in which an individual filing to ``body`` can be rendered."""
    return () if body == COLLECTIVE else languages(body)


def available_collective() -> tuple[str, ...]:
    """Languages in which a collective complaint can be rendered."""
    return languages(COLLECTIVE)


def render(snapshot: CaseSnapshot, *, letterhead: bytes | None = None) -> bytes:
    """The individual filing for ``snapshot.body`` in ``snapshot.language`` as .docx bytes.

    ValueError when there is no template for that body and language, or the letterhead is not a .docx.
    """
    if snapshot.body == COLLECTIVE:
        raise ValueError("'collective' is not a body: use render_collective() for a collective complaint")
    template = load(snapshot.body, snapshot.language)
    formats = Formats(template.locale, template.raw("unknown"))
    ctx = Context(snapshot, template, individual_values(snapshot, formats), formats)
    page = _page(template, ctx.values, f"{snapshot.ref} · {snapshot.body_name}", snapshot)
    limit = template.word_limit
    elements = _fit(ctx, page, limit) if limit else compose(ctx, INDIVIDUAL_BUILDERS)
    return write(elements, page, letterhead)


def render_collective(snapshot: CollectiveSnapshot, *, letterhead: bytes | None = None) -> bytes:
    """The collective complaint as .docx bytes; ValueError when its figures contradict each other."""
    _check_figures(snapshot)
    template = load(COLLECTIVE, snapshot.language)
    formats = Formats(template.locale, template.raw("unknown"))
    ctx = Context(snapshot, template, collective_values(snapshot, formats), formats)
    page = _page(template, ctx.values, f"{snapshot.reference} · {snapshot.body_name}", snapshot)
    return write(compose(ctx, COLLECTIVE_BUILDERS), page, letterhead)


def _page(template: Template, values: Mapping[str, str], title: str,
          snapshot: CaseSnapshot | CollectiveSnapshot) -> Page:
    header = " ".join(template.label("header", values).split())
    footer = " ".join(template.label("footer", values, page=PAGE_MARK).split())
    return Page(title=title, author=snapshot.organisation, header=header, footer=footer,
                generated_at=snapshot.generated_at)


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
    frame = words(page.header) + words(page.footer.replace(PAGE_MARK, " 1 "))

    def attempt(budget: Budget) -> list[Element] | None:
        elements = compose(replace(ctx, budget=budget), INDIVIDUAL_BUILDERS)
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
    yield snapshot.remedies.summary


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
