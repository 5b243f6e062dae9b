"""Filing templates: ``<root>/filings/<body>/<language>.toml``, loaded with tomllib, checked, cached.

A template holds every word of a filing that is not the case's own facts: the title, an introduction,
the sections in the body's questionnaire order (heading, wording, and the content blocks that fill them)
and the labels those blocks print. Lawyers review and translate these files as text; see
``templates/filings/README.md`` for the format.

``root`` is the wording folder (``templates/`` of the project unless the installation's setting names
another: ``workflow.config.Settings.templates_dir``, passed in by the caller since filings knows no settings).
Each loaded template carries the SHA-256 of its file (``Template.sha256``), which a generated version records.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from string import Formatter
from types import MappingProxyType
from typing import Any, Final

from babel import Locale, UnknownLocaleError
from babel.plural import PluralRule

from filings.schema import (
    BLOCKS,
    BUDGET_LABELS,
    COLLECTIVE,
    GLOBAL_LABELS,
    INDIVIDUAL,
    PLACEHOLDERS,
    LabelSpec,
)

# The wording lives with the project's other staff-edited text, in the top-level ``templates/`` folder.
DEFAULT_ROOT: Final = Path(__file__).resolve().parents[1] / "templates"
FILINGS: Final = "filings"  # the sub-folder of the root that holds the filing templates
_NAME: Final = re.compile(r"^[a-z][a-z_]{0,39}$")  # also keeps path separators out of body and language
_TOP_KEYS: Final = MappingProxyType({"title": str, "intro": str, "closing": str, "locale": str,
                                     "word_limit": int, "labels": dict, "sections": list})
_REQUIRED_TOP: Final = ("title", "intro", "labels", "sections")
_SECTION_KEYS: Final = MappingProxyType({"heading": str, "text": str, "blocks": list, "cite_udhr": bool})
_OTHER: Final = "other"
_PLACEHOLDER_THEN_STOP: Final = re.compile(r"\{(\w+)\}\.")
_TYPE_NAMES: Final = MappingProxyType({str: "a string", int: "a whole number", dict: "a table", list: "a list",
                                       bool: "true or false"})


class TemplateError(ValueError):
    """A template file that cannot be used: the message names the file and what is wrong."""


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        # Validation makes this unreachable for shipped templates; it stays as the last line of defence.
        raise TemplateError(f"no value for placeholder {{{key}}}")


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    text: str = ""
    blocks: tuple[str, ...] = ()
    cite_udhr: bool = False  # print the UDHR article next to each ICCPR ground


@dataclass(frozen=True, slots=True)
class Template:
    kind: str
    body: str
    language: str
    locale: str
    title: str
    intro: str
    closing: str
    sections: tuple[Section, ...]
    labels: Mapping[str, str | Mapping[str, str]]  # a mapping is wording per CLDR plural category
    word_limit: int | None = None  # the whole document, header and footer included, stays below this
    sha256: str = ""  # of the template file's bytes: which wording produced a document

    def fill(self, text: str, values: Mapping[str, str], **extra: str) -> str:
        merged = _Values({**values, **extra})
        # A value that ends in a full stop ("A. T.", "1 марта 2023 г.") already closes the sentence.
        text = _PLACEHOLDER_THEN_STOP.sub(
            lambda found: found[0][:-1] if merged.get(found[1], "").endswith(".") else found[0], text)
        return text.format_map(merged)

    def raw(self, key: str) -> str:
        label = self.labels[key]
        if not isinstance(label, str):
            raise TemplateError(f"label {key} has plural forms; read it with label(..., plural=)")
        return label

    def label(self, key: str, values: Mapping[str, str], *, plural: int | None = None, **extra: str) -> str:
        label = self.labels[key]
        if not isinstance(label, str):
            label = label.get(_plural_category(self.locale, plural or 0)) or label[_OTHER]
        return self.fill(label, values, **extra)


@cache
def _plural_rule(locale: str) -> PluralRule:
    return Locale.parse(locale).plural_form


def _plural_category(locale: str, count: int) -> str:
    return _plural_rule(locale)(count)


# -- loading ---------------------------------------------------------------------------------------------

def wording_root(root: Path | str | None) -> Path:
    """The wording folder: ``root`` when given, else the project's ``templates/``; resolved, so that one
    folder is one cache entry whatever way it was named."""
    return DEFAULT_ROOT if root is None else Path(root).resolve()


def is_name(name: str) -> bool:
    """A body, language or form name that may be part of a path (no separators, no dots)."""
    return bool(_NAME.match(name))


def languages(body: str, root: Path | str | None = None) -> tuple[str, ...]:
    """Languages with a template for ``body`` (a body code, or "collective")."""
    return _languages(body, wording_root(root))


@cache
def _languages(body: str, root: Path) -> tuple[str, ...]:
    if not _NAME.match(body):
        return ()
    folder = root.joinpath(FILINGS, body)
    if not folder.is_dir():
        return ()
    return tuple(sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir()
                        if entry.name.endswith(".toml") and _NAME.match(entry.name.removesuffix(".toml"))))


def load(body: str, language: str, root: Path | str | None = None) -> Template:
    """The checked template for ``body`` in ``language``; ValueError when there is none."""
    return _load(body, language, wording_root(root))


@cache  # per (body, language, root): a process reads each file once; restart to pick up an edit
def _load(body: str, language: str, root: Path) -> Template:
    have = _languages(body, root)
    if language not in have:
        raise ValueError(f"no filing template for body {body!r} in language {language!r} "
                         f"(templates exist for: {', '.join(have) or 'no language'})")
    return read(root.joinpath(FILINGS, body, f"{language}.toml"), body=body, language=language)


def read(path: Path, *, body: str, language: str) -> Template:
    """Read and check one template file; TemplateError names the file."""
    kind = COLLECTIVE if body == COLLECTIVE else INDIVIDUAL
    raw = path.read_bytes()
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TemplateError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    template = parse(source, kind=kind, body=body, language=language, origin=str(path))
    return replace(template, sha256=hashlib.sha256(raw).hexdigest())


def check_language_files(folder: Path, read: Callable[[Path, str], object]) -> list[TemplateError]:
    """Each ``<language>.toml`` in ``folder`` read with ``read(path, language)``: a problem per misnamed or
    broken file (the consent forms' and the digest's folders share this check)."""
    problems = []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        if not is_name(path.stem):
            problems.append(TemplateError(f"{path}: a language file is named like en.toml"))
            continue
        try:
            read(path, path.stem)
        except TemplateError as error:
            problems.append(error)
    return problems


def check_folder(root: Path | str | None = None) -> list[TemplateError]:
    """Every problem of the filing templates under ``root`` (one per broken file), for
    ``petitio templates check``; nothing is cached."""
    base = wording_root(root).joinpath(FILINGS)
    if not base.is_dir():
        return [TemplateError(f"{base}: no such folder (the filing templates go here)")]
    problems = []
    for folder in sorted(entry for entry in base.iterdir() if entry.is_dir()):
        if not _NAME.match(folder.name):
            problems.append(TemplateError(f"{folder}: a body folder is named in lower case letters and _"))
            continue
        for path in sorted(folder.glob("*.toml")):
            if not _NAME.match(path.stem):
                problems.append(TemplateError(f"{path}: a language file is named like en.toml"))
                continue
            try:
                read(path, body=folder.name, language=path.stem)
            except TemplateError as error:
                problems.append(error)
    return problems


def parse(source: str, *, kind: str, body: str, language: str, origin: str = "<template>") -> Template:
    """Parse and check one template's TOML text; TemplateError says which file and what is wrong."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{origin}: not valid TOML: {error}") from None
    _check_keys(data, _TOP_KEYS, _REQUIRED_TOP, origin)
    sections = tuple(_section(raw, kind, f"{origin}, section {n}") for n, raw in enumerate(data["sections"], 1))
    if not sections:
        raise TemplateError(f"{origin}: a template needs at least one section")
    locale = check_locale(data.get("locale", language), origin)
    word_limit = _word_limit(data.get("word_limit"), kind, sections, origin)
    placeholders = PLACEHOLDERS[kind]
    for key in ("title", "intro", "closing"):
        check_placeholders(data.get(key, ""), placeholders, f"{origin}, {key}")
    for n, section in enumerate(sections, 1):
        check_placeholders(section.heading, placeholders, f"{origin}, section {n} heading")
        check_placeholders(section.text, placeholders, f"{origin}, section {n} text")
    labels = _labels(data["labels"], kind, sections, locale, word_limit is not None, origin)
    return Template(kind=kind, body=body, language=language, locale=locale, title=data["title"],
                    intro=data["intro"], closing=data.get("closing", ""), sections=sections,
                    labels=MappingProxyType(labels), word_limit=word_limit)


# -- checks ----------------------------------------------------------------------------------------------

def _check_keys(data: Mapping[str, Any], types: Mapping[str, type], required: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(types))
    if unknown:
        raise TemplateError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = [key for key in required if key not in data]
    if missing:
        raise TemplateError(f"{where}: missing key(s) {', '.join(missing)}")
    for key, value in data.items():
        # bool is an int in Python; a "word_limit = true" must not pass as 1.
        if not isinstance(value, types[key]) or (types[key] is int and isinstance(value, bool)):
            raise TemplateError(f"{where}: {key} must be {_TYPE_NAMES[types[key]]}")


def _section(raw: object, kind: str, where: str) -> Section:
    if not isinstance(raw, dict):
        raise TemplateError(f"{where}: must be a table ([[sections]])")
    _check_keys(raw, _SECTION_KEYS, ("heading",), where)
    blocks = tuple(raw.get("blocks", ()))
    for block in blocks:
        if block not in BLOCKS[kind]:
            raise TemplateError(f"{where}: unknown block {block!r}; {kind} blocks are {', '.join(BLOCKS[kind])}")
    if raw.get("cite_udhr") and "rights_violated" not in blocks:
        raise TemplateError(f"{where}: cite_udhr only applies to a section with the rights_violated block")
    return Section(heading=raw["heading"], text=raw.get("text", ""), blocks=blocks,
                   cite_udhr=raw.get("cite_udhr", False))


def check_locale(locale: str, where: str) -> str:
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        raise TemplateError(f"{where}: unknown locale {locale!r}") from None
    return locale


def _word_limit(value: int | None, kind: str, sections: tuple[Section, ...], where: str) -> int | None:
    if value is None:
        return None
    if kind != INDIVIDUAL:
        raise TemplateError(f"{where}: word_limit applies to individual filings only")
    if value < 50:
        raise TemplateError(f"{where}: word_limit must be at least 50")
    if not any("facts" in section.blocks for section in sections):
        raise TemplateError(f"{where}: word_limit needs a section with the facts block (it is what gets shortened)")
    return value


def _label_specs(kind: str, sections: tuple[Section, ...], budget: bool) -> tuple[dict[str, LabelSpec],
                                                                                  dict[str, LabelSpec]]:
    required: dict[str, LabelSpec] = dict(GLOBAL_LABELS)
    optional: dict[str, LabelSpec] = {}
    for block in {block for section in sections for block in section.blocks}:
        required.update(BLOCKS[kind][block].required)
        optional.update(BLOCKS[kind][block].optional)
    if budget:
        required.update(BUDGET_LABELS)
    return required, optional


def _labels(raw: Mapping[str, Any], kind: str, sections: tuple[Section, ...], locale: str, budget: bool,
            origin: str) -> dict[str, str | Mapping[str, str]]:
    required, optional = _label_specs(kind, sections, budget)
    missing = sorted(set(required) - set(raw))
    if missing:
        raise TemplateError(f"{origin}: missing label(s) {', '.join(missing)}")
    unused = sorted(set(raw) - set(required) - set(optional))
    if unused:
        raise TemplateError(f"{origin}: label(s) {', '.join(unused)} are not used by any block of this template")
    specs = {**optional, **required}
    return {key: _label(value, specs[key], kind, locale, f"{origin}, label {key}") for key, value in raw.items()}


def _label(value: object, spec: LabelSpec, kind: str, locale: str, where: str) -> str | Mapping[str, str]:
    allowed = frozenset() if spec.plain else PLACEHOLDERS[kind] | spec.extras
    if isinstance(value, str):
        check_placeholders(value, allowed, where)
        if "page" in spec.extras and "{page}" not in value:
            raise TemplateError(f"{where}: must contain {{page}}, where the page number goes")
        return value
    if not (spec.counted and isinstance(value, dict)):
        raise TemplateError(f"{where}: must be a string" + (" or a table of plural forms" if spec.counted else ""))
    categories = set(_plural_rule(locale).tags) | {_OTHER}
    if set(value) != categories:
        raise TemplateError(f"{where}: plural forms for {locale} are {', '.join(sorted(categories))}")
    for category, form in value.items():
        if not isinstance(form, str):
            raise TemplateError(f"{where}.{category}: must be a string")
        check_placeholders(form, allowed, f"{where}.{category}")
    return MappingProxyType(dict(value))


def check_placeholders(text: str, allowed: frozenset[str], where: str) -> None:
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as error:
        raise TemplateError(f"{where}: {error} (write a literal brace as {{{{ or }}}})") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"{where}: placeholder {{{name}}} must be a plain name such as {{organisation}}")
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none here"
            raise TemplateError(f"{where}: unknown placeholder {{{name}}} (allowed: {known})")
