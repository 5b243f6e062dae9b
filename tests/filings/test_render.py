from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone

import docx
import pytest

from filings import (
    BODY_LABELS,
    CaseSnapshot,
    EpisodeSnapshot,
    IncidentSnapshot,
    PersonSnapshot,
    render,
)

PERSON_NAME = "Aliya Testovna"
GENERATED_AT = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


def make_snapshot(body: str = "un_wgad", **overrides: object) -> CaseSnapshot:
    values: dict[str, object] = dict(
        ref="PET-2024-0042",
        body=body,
        language="en",
        organisation="Rights Watchers NGO",
        person=PersonSnapshot(
            display_name=PERSON_NAME,
            city="Almaty",
            gender="female",
            occupation="journalist",
            detained_now=True,
        ),
        received_on=date(2024, 5, 2),
        incidents=(
            IncidentSnapshot(
                types=("arbitrary_detention",),
                occurred_on=date(2024, 4, 28),
                place="Almaty",
                description="Detained by plain-clothes officers after a peaceful rally.",
                episodes=("ep1",),
            ),
            IncidentSnapshot(
                types=("ill_treatment", "denial_of_counsel"),
                occurred_on=None,
                place=None,
                description="Held incommunicado and denied access to a lawyer.",
            ),
        ),
        episodes=(
            EpisodeSnapshot(
                key="ep1", title="April rally arrest", start_date=date(2024, 4, 28), end_date=None
            ),
        ),
        grounds=("iccpr_21", "iccpr_9"),
        mandates=("wgad",),
        urgent=True,
        generated_at=GENERATED_AT,
    )
    values.update(overrides)
    return CaseSnapshot(**values)  # type: ignore[arg-type]


def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


@pytest.mark.parametrize("body", sorted(BODY_LABELS))
def test_renders_every_body(body: str) -> None:
    snapshot = make_snapshot(body)
    document = open_docx(render(snapshot))
    paragraphs = [p.text for p in document.paragraphs]
    label = BODY_LABELS[body]

    assert document.paragraphs[0].style.name == "Title"
    assert document.paragraphs[0].text == "Case summary — PET-2024-0042"
    assert f"Prepared for: {label}" in paragraphs

    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    assert "PET-2024-0042" in header
    assert f"PET-2024-0042 · {label}" in header


def test_headings_and_content() -> None:
    document = open_docx(render(make_snapshot()))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Alleged victim", "Episodes", "Facts", "Rights concerned", "Submitted by"]

    facts = [p for p in document.paragraphs if p.style.name == "List Number"]
    assert len(facts) == 2
    assert "Detained by plain-clothes officers after a peaceful rally." in facts[0].text
    assert "2024-04-28" in facts[0].text
    assert "arbitrary detention" in facts[0].text
    assert "April rally arrest" in facts[0].text
    assert "Held incommunicado and denied access to a lawyer." in facts[1].text

    texts = [p.text for p in document.paragraphs]
    assert f"Name: {PERSON_NAME}" in texts
    assert "ICCPR article 21" in texts
    assert "ICCPR article 9" in texts
    assert "Rights Watchers NGO" in texts
    assert "Received: 2024-05-02" in texts

    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Key", "Title", "From", "To"]
    assert rows[1][:3] == ["ep1", "April rally arrest", "2024-04-28"]


def test_footer_is_confidential_with_page_field() -> None:
    data = render(make_snapshot())
    footer = open_docx(data).sections[0].footer
    assert "Confidential" in "\n".join(p.text for p in footer.paragraphs)

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        footer_parts = [n for n in archive.namelist() if n.startswith("word/footer")]
        assert footer_parts
        xml = "".join(archive.read(n).decode("utf-8") for n in footer_parts)
    assert "PAGE" in xml
    assert "fldSimple" in xml or "fldChar" in xml


def test_core_properties_carry_no_personal_data() -> None:
    data = render(make_snapshot())
    props = open_docx(data).core_properties
    assert props.title == "Case summary PET-2024-0042"
    assert props.author == "Rights Watchers NGO"
    assert props.language == "en"
    assert props.last_modified_by == ""
    assert props.comments == ""
    assert props.keywords == ""
    assert props.subject == ""
    assert props.created == GENERATED_AT
    assert props.modified == GENERATED_AT

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        metadata = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("docProps/"))
    for needle in (PERSON_NAME, "Aliya", "Testovna", "Almaty", "journalist"):
        assert needle.encode("utf-8") not in metadata


def test_render_is_deterministic_in_content() -> None:
    first = open_docx(render(make_snapshot()))
    second = open_docx(render(make_snapshot()))
    assert [p.text for p in first.paragraphs] == [p.text for p in second.paragraphs]


def test_handles_empty_collections() -> None:
    snapshot = make_snapshot(incidents=(), episodes=(), grounds=(), mandates=(), received_on=None)
    document = open_docx(render(snapshot))
    texts = [p.text for p in document.paragraphs]
    assert "No incidents recorded." in texts
    assert "No episodes recorded." in texts
    assert document.tables == []


def test_unknown_body_raises() -> None:
    with pytest.raises(ValueError, match="unknown body"):
        render(make_snapshot("un_nonexistent"))


def test_naive_generated_at_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_snapshot(generated_at=datetime(2024, 1, 1))


def test_default_generated_at_is_utc() -> None:
    snapshot = CaseSnapshot(
        ref="R",
        body="un_sp",
        language="en",
        organisation="Org",
        person=PersonSnapshot(display_name="X"),
        received_on=None,
        incidents=(),
        episodes=(),
    )
    assert snapshot.generated_at.tzinfo is UTC


def test_aware_generated_at_is_normalised_to_utc() -> None:
    plus_two = datetime(2024, 5, 17, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    snapshot = make_snapshot(generated_at=plus_two)
    assert snapshot.generated_at == GENERATED_AT
    assert snapshot.generated_at.utcoffset() == timedelta(0)
    assert open_docx(render(snapshot)).core_properties.created == GENERATED_AT
