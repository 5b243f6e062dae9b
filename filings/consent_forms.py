"""Pre-filled forms for the complainant to sign: the form of appeal and the power of attorney.

Pure: a frozen ConsentFormData in, .docx bytes out (no database, no Flask). Unlike filings, these forms
carry the identity fields, because the person signs them; the caller streams them and never stores them.
Languages: Russian and English. Kazakh is left out until a native legal reviewer writes its wording.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Final

from docx import Document
from docx.document import Document as DocxDocument

from filings.docx_layout import a4, append_page_field, language_tag, lay_out_table, tag_language
from filings.text import xml_safe

LANGUAGES: Final = ("ru", "en")
CHECKED: Final = "☒"
UNCHECKED: Final = "☐"
BLANK: Final = "________________________"

_MONTHS_EN: Final = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                     "October", "November", "December")


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

_TEXT: Final = MappingProxyType({
    "ru": MappingProxyType({
        "appeal_title": "Обращение за правовой помощью",
        "poa_title": "Доверенность",
        "to": "Кому: {organisation}",
        "ref": "Номер дела: {ref}",
        "about": "Сведения о заявителе",
        "full_name": "Фамилия, имя, отчество",
        "full_name_native": "ФИО на родном языке",
        "birth_date": "Дата рождения",
        "city": "Город (населённый пункт)",
        "passport_number": "Номер паспорта или удостоверения личности",
        "address": "Адрес проживания",
        "phone": "Телефон",
        "email": "Электронная почта",
        "what": "Что произошло",
        "request": "Моя просьба",
        "request_text": ("Прошу {organisation} изучить мой случай, оказать мне правовую помощь и, с моего согласия, "
                         "обратиться от моего имени в международные правозащитные органы."),
        "truth": ("Подтверждаю, что сведения, изложенные в настоящем обращении, достоверны и сообщены мною "
                  "добровольно."),
        "data_heading": "Согласие на обработку персональных данных",
        "data_text": ("Даю согласие {organisation} на обработку моих персональных данных, указанных в настоящем "
                      "обращении, исключительно в целях защиты моих прав. Организация хранит их в защищённом "
                      "виде и не передаёт третьим лицам без моего согласия. Я вправе в любое время отозвать "
                      "это согласие, письменно уведомив Организацию."),
        "place_date": "{city}, {date}",
        "poa_grant": ("Я, {full_name}{native}, дата рождения: {birth_date}, паспорт (удостоверение личности) "
                      "№ {passport_number}, адрес проживания: {address}, настоящей доверенностью уполномочиваю "
                      "{organisation} (далее — Организация):"),
        "native": " ({name})",
        "powers": (
            "распространять информацию о моём деле (номер {ref}), в том числе в докладах, заявлениях и "
            "средствах массовой информации, — в пределах, которые я указал(а) ниже;",
            "представлять и защищать мои права и законные интересы в международных организациях и органах, в "
            "том числе:",
            "подавать от моего имени сообщения, жалобы, петиции и иные обращения, представлять дополнительные "
            "сведения и документы, получать ответы и корреспонденцию, а также совершать иные действия, "
            "необходимые для исполнения настоящего поручения.",
        ),
        "bodies": (
            "специальные процедуры Совета ООН по правам человека (специальные докладчики и рабочие группы);",
            "Комитет ООН по правам человека;",
            "Рабочая группа ООН по произвольным задержаниям;",
            "Бюро ОБСЕ по демократическим институтам и правам человека (БДИПЧ ОБСЕ);",
            "Европейский парламент (Подкомитет по правам человека, Комитет по петициям).",
        ),
        "name_heading": "Использование моего имени",
        "name_intro": "Отмеченным знаком {checked} я разрешаю:",
        "consents": (
            ("share_name_with_government", "сообщать моё имя правительству государства, о действиях которого "
                                           "идёт речь;"),
            ("publish_name", "указывать моё имя в публичных докладах и сообщениях;"),
            ("initials_only", "указывать вместо имени только мои инициалы;"),
            ("anonymous", "не указывать моё имя нигде (полная анонимность)."),
        ),
        "risks": ("Мне разъяснены возможные риски преследования в связи с обращением в международные органы. "
                  "Я вправе в любое время отозвать настоящую доверенность, письменно уведомив Организацию; "
                  "в этом случае Организация прекращает подготовку обращений и уведомляет органы, в которые "
                  "обращения уже поданы."),
        "term": "Доверенность выдана сроком на три года.",
        "signature": "Подпись",
        "signature_line": "{blank} / {full_name} /",
        "date": "Дата",
        "confidential": "Конфиденциально — стр. ",
        "header": "Дело {ref}",
    }),
    "en": MappingProxyType({
        "appeal_title": "Request for legal assistance",
        "poa_title": "Power of attorney",
        "to": "To: {organisation}",
        "ref": "Case reference: {ref}",
        "about": "About me",
        "full_name": "Full name",
        "full_name_native": "Name in native script",
        "birth_date": "Date of birth",
        "city": "City or town",
        "passport_number": "Passport or identity card number",
        "address": "Home address",
        "phone": "Phone",
        "email": "E-mail",
        "what": "What happened",
        "request": "My request",
        "request_text": ("I ask {organisation} to examine my case, to give me legal assistance and, with my "
                         "consent, to bring my case to international human rights bodies on my behalf."),
        "truth": "I confirm that the information in this request is true and that I give it of my own free will.",
        "data_heading": "Consent to the use of my personal data",
        "data_text": ("I allow {organisation} to use the personal data in this request only to defend my rights. "
                      "The organisation keeps it securely and does not pass it on to anyone without my consent. "
                      "I may withdraw this consent at any time by telling the organisation in writing."),
        "place_date": "{city}, {date}",
        "poa_grant": ("I, {full_name}{native}, born on {birth_date}, holder of passport or identity card "
                      "No. {passport_number}, residing at {address}, hereby authorise {organisation} "
                      "(the Organisation):"),
        "native": " ({name})",
        "powers": (
            "to make my case (reference {ref}) known, including in reports, statements and the media, within "
            "the limits I set out below;",
            "to represent me and defend my rights and legitimate interests before international organisations "
            "and bodies, including:",
            "to submit communications, complaints, petitions and other requests on my behalf, to provide further "
            "information and documents, to receive replies and correspondence, and to take any other step "
            "needed to carry out this authority.",
        ),
        "bodies": (
            "the Special Procedures of the UN Human Rights Council (Special Rapporteurs and Working Groups);",
            "the UN Human Rights Committee;",
            "the UN Working Group on Arbitrary Detention;",
            "the OSCE Office for Democratic Institutions and Human Rights (OSCE/ODIHR);",
            "the European Parliament (Subcommittee on Human Rights, Committee on Petitions).",
        ),
        "name_heading": "How my name may be used",
        "name_intro": "I allow what is marked {checked}:",
        "consents": (
            ("share_name_with_government", "my name may be given to the government of the State concerned;"),
            ("publish_name", "my name may appear in public reports and statements;"),
            ("initials_only", "only my initials may be used instead of my name;"),
            ("anonymous", "my name must not appear anywhere (full anonymity)."),
        ),
        "risks": ("The possible risks of reprisals for turning to international bodies have been explained to "
                  "me. I may revoke this power of attorney at any time by telling the Organisation in writing; "
                  "the Organisation then stops preparing submissions and informs the bodies it has already "
                  "written to."),
        "term": "This power of attorney is valid for three years.",
        "signature": "Signature",
        "signature_line": "{blank} / {full_name} /",
        "date": "Date",
        "confidential": "Confidential — page ",
        "header": "Case {ref}",
    }),
})

FIELDS: Final = ("full_name", "full_name_native", "birth_date", "city", "passport_number", "address", "phone",
                 "email")


def _text(language: str) -> MappingProxyType:  # type: ignore[type-arg]
    try:
        return _TEXT[language]
    except KeyError:
        raise ValueError(f"unsupported language {language!r}; expected one of {', '.join(LANGUAGES)}") from None


def format_date(value: date | None, language: str) -> str:
    if value is None:
        return BLANK
    if language == "ru":
        return value.strftime("%d.%m.%Y")
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


def _value(data: ConsentFormData, name: str, language: str) -> str:
    value = getattr(data, name)
    if isinstance(value, date):
        return format_date(value, language)
    return str(value).strip() if value not in (None, "") else BLANK


# -- building blocks -------------------------------------------------------------------------------------

def _new_document(data: ConsentFormData, language: str, title: str) -> DocxDocument:
    text = _text(language)
    doc = Document()
    a4(doc)
    tag_language(doc, language_tag(language))
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
    section.header.is_linked_to_previous = False
    section.header.paragraphs[0].text = f"{data.organisation} · {text['header'].format(ref=data.ref)}"
    section.footer.is_linked_to_previous = False
    footer = section.footer.paragraphs[0]
    footer.text = text["confidential"]
    append_page_field(footer)
    doc.add_heading(title, level=0)
    return doc


def _signature(doc: DocxDocument, data: ConsentFormData, language: str) -> None:
    text = _text(language)
    doc.add_paragraph()
    doc.add_paragraph(f"{text['signature']}: " + text["signature_line"].format(blank=BLANK, full_name=data.full_name))
    doc.add_paragraph(f"{text['date']}: {format_date(data.date, language)}")


def _xml_safe(data: ConsentFormData) -> ConsentFormData:
    """The data without characters XML cannot hold (the last line of defence: entry points clean them)."""
    text = {f.name: xml_safe(value) for f in fields(data) if isinstance(value := getattr(data, f.name), str)}
    return replace(data, **text)


def _save(doc: DocxDocument) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# -- the two forms ---------------------------------------------------------------------------------------

def form_of_appeal(data: ConsentFormData, language: str) -> bytes:
    """The request for legal assistance, with the person's details, what happened and data consent."""
    text = _text(language)
    data = _xml_safe(data)
    doc = _new_document(data, language, text["appeal_title"])
    doc.add_paragraph(text["to"].format(organisation=data.organisation))
    doc.add_paragraph(text["ref"].format(ref=data.ref))

    doc.add_heading(text["about"], level=1)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for name in FIELDS:
        cells = table.add_row().cells
        cells[0].text = text[name]
        cells[1].text = _value(data, name, language)
    lay_out_table(table)

    doc.add_heading(text["what"], level=1)
    for part in (data.incident_summary or BLANK).split("\n"):
        if part.strip():
            doc.add_paragraph(part.strip())

    doc.add_heading(text["request"], level=1)
    doc.add_paragraph(text["request_text"].format(organisation=data.organisation))
    doc.add_paragraph(text["truth"])

    doc.add_heading(text["data_heading"], level=1)
    doc.add_paragraph(text["data_text"].format(organisation=data.organisation))
    _signature(doc, data, language)
    return _save(doc)


def power_of_attorney(data: ConsentFormData, language: str) -> bytes:
    """Authority to make the case known and to act before international bodies, with the naming choices."""
    text = _text(language)
    data = _xml_safe(data)
    doc = _new_document(data, language, text["poa_title"])
    doc.add_paragraph(text["place_date"].format(city=_value(data, "city", language),
                                                date=format_date(data.date, language)))
    native = text["native"].format(name=data.full_name_native) if data.full_name_native else ""
    doc.add_paragraph(text["poa_grant"].format(
        full_name=data.full_name, native=native, birth_date=_value(data, "birth_date", language),
        passport_number=_value(data, "passport_number", language), address=_value(data, "address", language),
        organisation=data.organisation))
    spread, represent, submit = text["powers"]
    doc.add_paragraph(spread.format(ref=data.ref), style="List Number")
    doc.add_paragraph(represent, style="List Number")
    for body in text["bodies"]:
        doc.add_paragraph(body, style="List Bullet 2")
    doc.add_paragraph(submit, style="List Number")

    doc.add_heading(text["name_heading"], level=1)
    doc.add_paragraph(text["name_intro"].format(checked=CHECKED))
    for flag, wording in text["consents"]:
        mark = CHECKED if getattr(data, flag) else UNCHECKED
        doc.add_paragraph(f"{mark} {wording}", style="List Paragraph")

    doc.add_paragraph(text["risks"])
    doc.add_paragraph(text["term"])
    _signature(doc, data, language)
    return _save(doc)


FORMS: Final[MappingProxyType[str, Callable[[ConsentFormData, str], bytes]]] = MappingProxyType({
    "form_of_appeal": form_of_appeal,
    "power_of_attorney": power_of_attorney,
})
