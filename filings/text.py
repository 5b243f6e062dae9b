"""Text as XML can carry it: the last line of defence before a string enters a document.

Entry points refuse or clean control characters (workflow/schemas); a value that still holds one (an old
record, a template, a letterhead's metadata) must not make the document fail to build: lxml refuses it.
"""

from __future__ import annotations

import re
from typing import Final

# Word's own line break (Shift+Enter) arrives as U+000B when pasted from Word, U+000C is a page break: both
# keep their meaning as a line break (python-docx writes "\n" as <w:br/>).
_BREAKS: Final = re.compile("[\x0b\x0c]")
# XML 1.0 forbids the other C0 controls (tab, line feed and carriage return are allowed), U+FFFE, U+FFFF;
# a lone surrogate cannot be encoded at all.
_ILLEGAL: Final = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters an XML document cannot hold; U+000B/U+000C become line breaks."""
    return _ILLEGAL.sub("", _BREAKS.sub("\n", text))
