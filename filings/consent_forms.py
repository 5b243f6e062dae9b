"""Pre-filled forms for the complainant to sign: the form of appeal and the power of attorney.

Pure: a frozen ConsentFormData in, .docx bytes out (no database, no Flask). Unlike filings, these forms
carry the identity fields, because the person signs them; the caller streams them and never stores them.
The wording is data: ``<root>/consent/<language>.toml`` (format in ``templates/README.md``), checked when
loaded like the filing templates; a language is offered when its file exists. A file may carry
``review_status`` (the Kazakh one: "awaiting a lawyer's reading"), which staff see where they choose.
"""

from __future__ import annotations

import hashlib
import io
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from babel.dates import format_date as babel_format_date
from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from filings.docx_layout import a4, append_page_field, language_tag, lay_out_table, tag_language
from filings.text import xml_safe
from filings.wording import (
    TemplateError,
    check_language_files,
    check_locale,
    check_placeholders,
    is_name,
    wording_root,
)

CONSENT: Final = "consent"  # the sub-folder of the wording root
CHECKED: Final = "☒"
UNCHECKED: Final = "☐"
BLANK: Final = "________________________"


@dataclass(frozen=True, slots=True)
class ConsentFormData:
    """What the forms are pre-filled with; the consent flags tick the boxes of the power of attorney."""

    organisation: str
    ref: str
    full_name: str
    full_name_native: str | None
    birth_date: date | None
    city: str | None
    passport_number: str | None
    address: str | None
    phone: str | None
    email: str | None
    incident_summary: str
    date: date
    share_name_with_government: bool = False
    publish_name: bool = False
    initials_only: bool = False
    anonymous: bool = False


# -- wording ---------------------------------------------------------------------------------------------

FIELDS: Final = ("full_name", "full_name_native", "birth_date", "city", "passport_number", "address", "phone",
                 "email")
FLAGS: Final = ("share_name_with_government", "publish_name", "initials_only", "anonymous")
_NONE: Final = frozenset[str]()
# Every text key and the placeholders it may use.
_TEXTS: Final = MappingProxyType({
    "header": frozenset({"ref"}), "footer": frozenset({"page"}), "signature": _NONE,
    "signature_line": frozenset({"blank", "name"}), "date": _NONE,
    "appeal_title": _NONE, "to": frozenset({"organisation"}), "ref": frozenset({"ref"}), "about": _NONE,
    **{name: _NONE for name in FIELDS}, "what": _NONE, "request": _NONE,
    "request_text": frozenset({"organisation"}), "truth": _NONE, "data_heading": _NONE,
    "data_text": frozenset({"organisation"}),
    "poa_title": _NONE, "place_date": frozenset({"city", "date"}),
    "poa_grant": frozenset({"name", "other_name", "birth_date", "passport_number", "address", "organisation"}),
    "other_name": frozenset({"name"}), "power_publicise": frozenset({"ref"}), "power_represent": _NONE,
    "power_submit": _NONE, "name_heading": _NONE, "name_intro": frozenset({"checked"}), "risks": _NONE,
    "term": _NONE,
})
_SETTINGS: Final = MappingProxyType({"locale": str, "date_pattern": str, "native_first": bool,
                                     "review_status": str, "bodies": list, "consents": dict})
_OPTIONAL: Final = frozenset({"locale", "native_first", "review_status"})


@dataclass(frozen=True, slots=True)
class ConsentWording:
    """One language's wording of both forms, checked."""

    language: str
    locale: str
    date_pattern: str
    native_first: bool  # the name in its native script (Cyrillic) first, the Latin form after it
    review_status: str | None  # e.g. "awaiting a lawyer's reading": shown to staff, never printed
    text: Mapping[str, str]
    bodies: tuple[str, ...]
    consents: Mapping[str, str]
    sha256: str

    def __getitem__(self, key: str) -> str:
        return self.text[key]

    def format_date(self, value: date | None) -> str:
        return BLANK if value is None else babel_format_date(value, self.date_pattern, locale=self.locale)


def languages(root: Path | str | None = None) -> tuple[str, ...]:
    """The languages the forms can be written in: a ``consent/<language>.toml`` file each."""
    return _languages(wording_root(root))


@cache
def _languages(root: Path) -> tuple[str, ...]:
    folder = root / CONSENT
    if not folder.is_dir():
        return ()
    return tuple(sorted(path.stem for path in folder.glob("*.toml") if is_name(path.stem)))


def wording(language: str, root: Path | str | None = None) -> ConsentWording:
    """The checked wording of ``language``; ValueError when there is none."""
    return _wording(language, wording_root(root))


def review_statuses(root: Path | str | None = None) -> dict[str, str | None]:
    """language -> its review status (None: read and approved), for the page that offers the forms.

    A language whose file cannot be used is left out (the page must not fail for it; downloading it says why).
    """
    statuses = {}
    for language in languages(root):
        try:
            statuses[language] = wording(language, root).review_status
        except TemplateError:
            continue
    return statuses


@cache  # per (language, root): restart the server to pick up an edit
def _wording(language: str, root: Path) -> ConsentWording:
    have = _languages(root)
    if language not in have:
        raise ValueError(f"unsupported language {language!r}; expected one of {', '.join(have) or 'none'}")
    return read(root / CONSENT / f"{language}.toml", language)


def read(path: Path, language: str) -> ConsentWording:
    """Read and check one consent wording file; TemplateError names the file and what is wrong."""
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise TemplateError(f"{path}: not valid TOML: {error}") from None
    return parse(data, language, str(path), hashlib.sha256(raw).hexdigest())


def parse(data: Mapping[str, Any], language: str, origin: str, sha256: str = "") -> ConsentWording:
    unknown = sorted(set(data) - set(_TEXTS) - set(_SETTINGS))
    if unknown:
        raise TemplateError(f"{origin}: unknown key(s) {', '.join(unknown)}")
    missing = sorted((set(_TEXTS) | (set(_SETTINGS) - _OPTIONAL)) - set(data))
    if missing:
        raise TemplateError(f"{origin}: missing key(s) {', '.join(missing)}")
    for key, kind in _SETTINGS.items():
        if key in data and not isinstance(data[key], kind):
            raise TemplateError(f"{origin}: {key} must be {_KIND_NAMES[kind]}")
    text = {key: _clean(data[key], allowed, f"{origin}, {key}") for key, allowed in _TEXTS.items()}
    if "{page}" not in text["footer"]:
        raise TemplateError(f"{origin}, footer: must contain {{page}}, where the page number goes")
    bodies = tuple(_clean(body, _NONE, f"{origin}, bodies[{n}]") for n, body in enumerate(data["bodies"], 1))
    if not bodies:
        raise TemplateError(f"{origin}, bodies: list at least one body")
    consents = data["consents"]
    if set(consents) != set(FLAGS):
        raise TemplateError(f"{origin}, consents: needs exactly {', '.join(FLAGS)}")
    locale = check_locale(data.get("locale", language), origin)
    try:
        babel_format_date(date(2026, 3, 5), data["date_pattern"], locale=locale)
    except (ValueError, KeyError) as error:
        raise TemplateError(f"{origin}, date_pattern: not a CLDR date pattern ({error})") from None
    review = data.get("review_status", "").strip() or None
    return ConsentWording(
        language=language, locale=locale, date_pattern=data["date_pattern"],
        native_first=data.get("native_first", False), review_status=review, text=MappingProxyType(text),
        bodies=bodies, consents=MappingProxyType({flag: _clean(consents[flag], _NONE, f"{origin}, consents.{flag}")
                                                  for flag in FLAGS}), sha256=sha256)


_WRAP: Final = re.compile(r"[ \t]*\n\s*")
_KIND_NAMES: Final = MappingProxyType({str: "a string", bool: "true or false", list: "a list of strings",
                                       dict: "a table"})


def _clean(value: object, allowed: frozenset[str], where: str) -> str:
    if not isinstance(value, str):
        raise TemplateError(f"{where}: must be a string")
    check_placeholders(value, allowed, where)
    return _WRAP.sub(" ", value)  # line breaks in the file are only wrapping


def check_folder(root: Path | str | None = None) -> list[TemplateError]:
    """Every problem of the consent wording under ``root``, one per broken file; nothing is cached."""
    folder = wording_root(root) / CONSENT
    if not folder.is_dir() or not any(folder.glob("*.toml")):
        return [TemplateError(f"{folder}: no consent wording (a <language>.toml file per language)")]
    return check_language_files(folder, read)


def _value(data: ConsentFormData, name: str, text: ConsentWording) -> str:
    value = getattr(data, name)
    if isinstance(value, date):
        return text.format_date(value)
    return str(value).strip() if value not in (None, "") else BLANK


def _names(data: ConsentFormData, text: ConsentWording) -> tuple[str, str | None]:
    """(the name to lead with, the other form or None): Cyrillic first where the wording says so."""
    native = (data.full_name_native or "").strip() or None
    latin = data.full_name.strip()
    if text.native_first and native:
        return native, (latin if latin and latin != native else None)
    return latin or BLANK, (native if native != latin else None)


# -- building blocks -------------------------------------------------------------------------------------

def _new_document(data: ConsentFormData, text: ConsentWording, title: str) -> DocxDocument:
    doc = Document()
    a4(doc)
    tag_language(doc, language_tag(text.language))
    props = doc.core_properties
    # The file itself travels (e-mail, messengers): its metadata names nobody. Generic title, the
    # organisation as author, every template default overwritten, timestamps pinned to the form's date.
    props.title = title
    props.author = data.organisation
    props.last_modified_by = data.organisation
    for name in ("comments", "keywords", "subject", "category", "content_status", "identifier", "version"):
        setattr(props, name, "")
    props.revision = 1
    stamp = datetime(data.date.year, data.date.month, data.date.day, tzinfo=UTC)
    props.created = stamp
    props.modified = stamp
    section = doc.sections[0]
    # Narrower margins than the filings' A4 (``a4`` above): the power of attorney then fits one page, so its
    # signature never sits alone on a page of its own.
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(1.8)
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.styles["Normal"].paragraph_format.space_after = Pt(4)
    section.header.is_linked_to_previous = False
    section.header.paragraphs[0].text = f"{data.organisation} · {text['header'].format(ref=data.ref)}"
    section.footer.is_linked_to_previous = False
    footer = section.footer.paragraphs[0]
    before, _, after = text["footer"].partition("{page}")
    footer.text = before
    append_page_field(footer)
    if after:
        footer.add_run(after)
    doc.add_heading(title, level=0)
    return doc


def _keep_with_signature(paragraphs: list[Paragraph]) -> None:
    """The closing paragraphs stay on one page with the signature and date that follow them: a signature
    alone on a page could be stapled under any text."""
    for paragraph in paragraphs:
        paragraph.paragraph_format.keep_together = True
        paragraph.paragraph_format.keep_with_next = True


def _signature(doc: DocxDocument, data: ConsentFormData, text: ConsentWording) -> list[Paragraph]:
    """Adds the signature and date; returns the paragraphs that lead to the last one (keep them with it)."""
    spacer = doc.add_paragraph()
    name, _ = _names(data, text)
    line = doc.add_paragraph(f"{text['signature']}: " + text["signature_line"].format(blank=BLANK, name=name))
    doc.add_paragraph(f"{text['date']}: {text.format_date(data.date)}").paragraph_format.keep_together = True
    return [spacer, line]


def _xml_safe(data: ConsentFormData) -> ConsentFormData:
    """The data without characters XML cannot hold (the last line of defence: entry points clean them)."""
    text = {f.name: xml_safe(value) for f in fields(data) if isinstance(value := getattr(data, f.name), str)}
    return replace(data, **text)


def _save(doc: DocxDocument) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _fields(text: ConsentWording) -> tuple[str, ...]:
    if not text.native_first:
        return FIELDS
    return ("full_name_native", "full_name", *(name for name in FIELDS if name not in ("full_name",
                                                                                         "full_name_native")))


# -- the two forms ---------------------------------------------------------------------------------------

def form_of_appeal(data: ConsentFormData, language: str, *, root: Path | str | None = None) -> bytes:
    """The request for legal assistance, with the person's details, what happened and data consent."""
    text = wording(language, root)
    data = _xml_safe(data)
    doc = _new_document(data, text, text["appeal_title"])
    doc.add_paragraph(text["to"].format(organisation=data.organisation))
    doc.add_paragraph(text["ref"].format(ref=data.ref))

    doc.add_heading(text["about"], level=1)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for name in _fields(text):
        cells = table.add_row().cells
        cells[0].text = text[name]
        cells[1].text = _value(data, name, text)
    lay_out_table(table)

    doc.add_heading(text["what"], level=1)
    for part in (data.incident_summary or BLANK).split("\n"):
        if part.strip():
            doc.add_paragraph(part.strip())

    doc.add_heading(text["request"], level=1)
    doc.add_paragraph(text["request_text"].format(organisation=data.organisation))
    doc.add_paragraph(text["truth"])

    doc.add_heading(text["data_heading"], level=1)
    closing = doc.add_paragraph(text["data_text"].format(organisation=data.organisation))
    _keep_with_signature([closing, *_signature(doc, data, text)])
    return _save(doc)


def power_of_attorney(data: ConsentFormData, language: str, *, root: Path | str | None = None) -> bytes:
    """Authority to make the case known and to act before international bodies, with the naming choices."""
    text = wording(language, root)
    data = _xml_safe(data)
    doc = _new_document(data, text, text["poa_title"])
    doc.add_paragraph(text["place_date"].format(city=_value(data, "city", text), date=text.format_date(data.date)))
    name, other = _names(data, text)
    doc.add_paragraph(text["poa_grant"].format(
        name=name, other_name=text["other_name"].format(name=other) if other else "",
        birth_date=_value(data, "birth_date", text), passport_number=_value(data, "passport_number", text),
        address=_value(data, "address", text), organisation=data.organisation))
    doc.add_paragraph(text["power_publicise"].format(ref=data.ref), style="List Number")
    doc.add_paragraph(text["power_represent"], style="List Number")
    for body in text.bodies:
        doc.add_paragraph(body, style="List Bullet 2")
    doc.add_paragraph(text["power_submit"], style="List Number")

    doc.add_heading(text["name_heading"], level=1)
    doc.add_paragraph(text["name_intro"].format(checked=CHECKED))
    for flag in FLAGS:
        mark = CHECKED if getattr(data, flag) else UNCHECKED
        doc.add_paragraph(f"{mark} {text.consents[flag]}", style="List Paragraph")

    closing = [doc.add_paragraph(text["risks"]), doc.add_paragraph(text["term"])]
    _keep_with_signature([*closing, *_signature(doc, data, text)])
    return _save(doc)


FORMS: Final[MappingProxyType[str, Callable[..., bytes]]] = MappingProxyType({
    "form_of_appeal": form_of_appeal,
    "power_of_attorney": power_of_attorney,
})
