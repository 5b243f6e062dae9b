"""Dates and numbers in the document's language, through Babel (CLDR), never strftime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal


@dataclass(frozen=True, slots=True)
class Formats:
    locale: str  # a CLDR locale, e.g. "en_GB" or "ru"
    unknown: str  # the template's word for a missing value

    def date(self, value: date | None) -> str:
        return format_date(value, format="long", locale=self.locale) if value is not None else self.unknown

    def period(self, start: date | None, end: date | None) -> str:
        if start is None and end is None:
            return self.unknown
        if start is None or end is None or start == end:
            return self.date(start or end)
        # Two full dates rather than Babel's intervals, which abbreviate month names ("28 Apr – 3 May").
        return f"{self.date(start)} – {self.date(end)}"

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)
