"""Which characters a text may hold: the one rule, shared by the input schemas and the document writers.

Text arrives from browsers, the API, spreadsheets and word processors. Some characters in it are line breaks
by another name (a Shift+Enter in Word is a vertical tab, U+000B; a page break U+000C; Unicode's LINE and
PARAGRAPH SEPARATORs; NEL, U+0085; Windows' and old Macs' CR LF and CR): they become ``\\n``. What is left
that no person types on purpose is either a control character (the other C0 and C1 codes, DEL) or not a
character at all (a lone surrogate half from a broken JSON ``\\ud800`` escape, the noncharacters U+FFFE and
U+FFFF); XML, and so a .docx, cannot hold most of them (python-docx refuses them), and a database cannot store
a lone surrogate. The input schemas refuse those (``workflow/schemas/base.py`` ``Text``); the document writers
call ``xml_safe`` as the last line of defence for what was stored before the rule existed.

Pure: no import of anything of ours, so ``filings`` and ``workflow`` both use it.
"""

from __future__ import annotations

import re

# Line breaks by another name -> "\n" (CR LF first, so that it gives one break and not two).
LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Control characters left after the line breaks are normalised: C0 but tab and line feed, DEL, C1 but NEL.
# The ranges are written as \uXXXX so that the OpenAPI document can state them as a pattern (workflow/schemas).
CONTROL_RANGES = r"\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f"
CONTROL = re.compile(f"[{CONTROL_RANGES}]")
# Not characters: lone surrogate halves (a valid pair is one character in a Python str) and U+FFFE/U+FFFF.
NOT_CHARACTERS = re.compile(r"[\ud800-\udfff\ufffe\uffff]")
# Tabs and line breaks inside a one-line text (a name, a city) and the spaces around them.
_BREAKS_IN_LINE = re.compile(r"[ ]*[\t\n]+[\t\n ]*")


def normalise_breaks(text: str) -> str:
    """Every kind of line break as ``\\n``."""
    return LINE_BREAKS.sub("\n", text)


def one_line(text: str) -> str:
    """Tabs and line breaks (with the spaces around them) as one space: a name pasted across two lines."""
    return _BREAKS_IN_LINE.sub(" ", normalise_breaks(text))


def first_control(text: str) -> int | None:
    """The 1-based position of the first control character in ``text`` (line breaks normalised), or None."""
    found = CONTROL.search(text)
    return found.start() + 1 if found else None


def has_non_characters(text: str) -> bool:
    """A lone surrogate or U+FFFE/U+FFFF: text no encoder writes as UTF-8."""
    return NOT_CHARACTERS.search(text) is not None


def xml_safe(text: str) -> str:
    """``text`` as XML 1.0 (and so a .docx) can hold it: line breaks as ``\\n``, control characters and
    non-characters removed. Idempotent; clean text comes back unchanged."""
    return NOT_CHARACTERS.sub("", CONTROL.sub("", normalise_breaks(text)))
