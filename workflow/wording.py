"""The wording folder as workflow sees it (``Settings.templates_dir``, default the project's ``templates/``).

Staff edit every word that is not UI text as files there (``templates/README.md``): the filing templates and
the consent forms (read by ``filings``), and the daily digest's mail texts, read here. ``check_folder`` is
what ``petitio templates check`` runs before an edited folder is deployed: every file of every kind, each
problem with its file and reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

import filings
from filings.wording import TemplateError, check_language_files, check_placeholders, is_name, wording_root

DIGEST: Final = "digest"  # the sub-folder of the digest's texts, one <language>.toml each
FALLBACK: Final = "en"  # a user whose language has no digest file reads this one
# Each text of the digest and the placeholders it may use ({count} etc. are numbers, {day} and {at} dates).
DIGEST_TEXTS: Final = MappingProxyType({
    "subject": frozenset({"overdue", "soon"}), "title": frozenset({"day"}), "overdue": frozenset({"count"}),
    "soon": frozenset({"count"}), "due": frozenset({"at"}), "missed": frozenset(), "footer": frozenset(),
})


@dataclass(frozen=True, slots=True)
class DigestWording:
    language: str
    texts: MappingProxyType[str, str]

    def say(self, key: str, **values: object) -> str:
        return self.texts[key].format(**values)


def digest_wording(language: str, root: Path | str | None = None) -> DigestWording:
    """The digest's texts in ``language``, else in English (a language may have UI text before mail text)."""
    base = wording_root(root)
    chosen = language if is_name(language) and (base / DIGEST / f"{language}.toml").is_file() else FALLBACK
    return _digest(chosen, base)


@cache  # per (language, root): the worker reads each file once; restart it to pick up an edit
def _digest(language: str, root: Path) -> DigestWording:
    return read_digest(root / DIGEST / f"{language}.toml", language)


def read_digest(path: Path, language: str) -> DigestWording:
    """Read and check one digest file; TemplateError names the file and what is wrong."""
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise TemplateError(f"{path}: not readable TOML: {error}") from None
    unknown = sorted(set(data) - set(DIGEST_TEXTS))
    if unknown:
        raise TemplateError(f"{path}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(set(DIGEST_TEXTS) - set(data))
    if missing:
        raise TemplateError(f"{path}: missing key(s) {', '.join(missing)}")
    for key, allowed in DIGEST_TEXTS.items():
        if not isinstance(data[key], str) or not data[key].strip():
            raise TemplateError(f"{path}, {key}: must be a non-empty string")
        check_placeholders(data[key], allowed, f"{path}, {key}")
    if "\n" in data["subject"] or "\r" in data["subject"]:
        raise TemplateError(f"{path}, subject: must be one line (it is a mail header)")
    return DigestWording(language, MappingProxyType({key: data[key].strip() for key in DIGEST_TEXTS}))


def check_digest(root: Path | str | None = None) -> list[TemplateError]:
    folder = wording_root(root) / DIGEST
    problems = []
    if not (folder / f"{FALLBACK}.toml").is_file():
        problems.append(TemplateError(f"{folder / f'{FALLBACK}.toml'}: missing (the digest of any language "
                                      "without its own file)"))
    return problems + check_language_files(folder, read_digest)


def check_folder(root: Path | str | None = None) -> list[TemplateError]:
    """Every problem of every template under ``root``: filings per body and language, consent, digest."""
    if not wording_root(root).is_dir():
        return [TemplateError(f"{wording_root(root)}: no such folder")]
    return [*filings.check_wording(root), *check_digest(root)]
