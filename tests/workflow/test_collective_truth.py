"""The collective complaint says only true things (issue 13, item 5), over the reference data set: 150 appeals,
129 with both consent documents verified, 19 cities, episodes of 55/21/3/4/12/12/20 complainants and two
complainants in no episode. The figures, when the appeals were received, why the other 21 were left out (each
reason counted), the charts, episode titles and cities in the document's language, names cut out of the text,
and no check or approval while a section is still to be completed. Every person is invented."""

from __future__ import annotations

import io
from datetime import date, timedelta
from hashlib import sha256

import docx
import pytest
from sqlalchemy import select

from workflow import vocab
from workflow.errors import Conflict, Unfinished
from workflow.models import Case, CollectiveComplaint, ConsentRecord, Document, Episode, HumanTask, Incident, Person
from workflow.place_names import city_name, episode_title
from workflow.runtime.context import document_store
from workflow.services import bulk
from workflow.services.collective import create_collective, update_narrative
from workflow.services.collective_checks import exclusion_reasons, sections_with_names_cut
from workflow.services.tasks import complete_task

EPISODE_SIZES = (55, 21, 3, 4, 12, 12, 20)
CITIES = ("Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Taraz", "Pavlodar", "Oskemen", "Semey",
          "Kostanay", "Kyzylorda", "Oral", "Atyrau", "Petropavl", "Aktau", "Temirtau", "Turkestan", "Taldykorgan",
          "Ekibastuz")
# The 21 appeals left out, by the consent documents each case holds: 10 without the form of appeal, 9 without
# the power of attorney, 2 with neither.
LEFT_OUT = (("power_of_attorney",),) * 10 + (("form_of_appeal",),) * 9 + ((),) * 2
FULL = {"summary": "Supporters of a fictional movement were detained.", "legal_basis": "A court banned it.",
        "context": "A peaceful movement.", "methods": "Detentions at rallies.", "patterns": "Interrogations.",
        "pressure_on_defenders": "Lawyers were warned.", "requests": "Release those detained."}
FIRST_RECEIVED, LAST_RECEIVED = date(2023, 2, 1), date(2023, 2, 1) + timedelta(days=128)


def _document(case: Case, kind: str) -> Document:
    digest = sha256(f"{case.ref}-{kind}".encode()).hexdigest()
    return Document(case=case, kind=kind, filename=f"{kind}.pdf", media_type="application/pdf", size=1,
                    sha256=digest, storage_key=digest)


@pytest.fixture
def reference(env, staff):  # type: ignore[no-untyped-def]
    """The data set written straight into the database (what import, consent and review would leave)."""
    with env.uow() as session:
        episodes = [Episode(key=f"ep-{n}", title=f"Fictional episode {n}", start_date=date(2022, n, 1),
                            end_date=date(2022, n, 10), titles={"ru": f"Вымышленный эпизод {n}"},
                            known_totals="more than 300 detained" if n == 1 else None)
                    for n in range(1, len(EPISODE_SIZES) + 1)]
        session.add_all(episodes)
        vocab.add_term(session, env.user(session, "ada"), "city", "almaty", {"en": "Almaty", "ru": "Алматы"})
        memberships = [[e] for e, size in zip(episodes, EPISODE_SIZES, strict=True) for _ in range(size)] + [[], []]
        for i, episode_list in enumerate(memberships):
            person = Person(full_name=f"Person{i:03d} Fictionalname{i:03d}", city=CITIES[i % len(CITIES)],
                            full_name_native=f"Персона{i:03d} Тестов{i:03d}")
            case = Case(ref=f"TRU-{i:03d}", person=person, received_on=FIRST_RECEIVED + timedelta(days=i),
                        stage="approved", episodes=episode_list)
            # Incidents a year before: the period of receipt must not come from these.
            case.incidents = [Incident(types=["detention_at_rally"] if i % 3 else ["torture_ill_treatment"],
                                       occurred_on=date(2022, 1, 1) + timedelta(days=i))]
            session.add_all([case, ConsentRecord(case=case, status="verified", publish_name=i % 2 == 0,
                                                 form_of_appeal_verified=True, power_of_attorney_verified=True),
                             _document(case, "form_of_appeal"), _document(case, "power_of_attorney")])
        for j, held in enumerate(LEFT_OUT):
            person = Person(full_name=f"Leftout{j:03d} Fictionalname{j:03d}", city="Almaty")
            case = Case(ref=f"OUT-{j:03d}", person=person, received_on=date(2024, 1, 1), stage="consent",
                        episodes=[episodes[j % len(episodes)]])
            session.add_all([case, ConsentRecord(case=case, status="pending"),
                             *(_document(case, kind) for kind in held)])
    return [f"TRU-{i:03d}" for i in range(129)]


def _open(env, refs, **fields):  # type: ignore[no-untyped-def]
    with env.uow() as session:
        collective = create_collective(session, env.settings, env.user(session, "lena"), body="un_sp",
                                       title="Persecution of a fictional movement", cases=refs, **fields)
        return collective.id


def _latest(env, collective_id):  # type: ignore[no-untyped-def]
    with env.uow() as session:
        collective = session.get(CollectiveComplaint, collective_id)
        return docx.Document(io.BytesIO(document_store(env.settings).get(collective.filing.documents[-1].storage_key)))


def _ready(env, collective_id, bpmn_id):  # type: ignore[no-untyped-def]
    with env.uow() as session:
        instance_id = session.get(CollectiveComplaint, collective_id).instance_id
        return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))


def _rows(document, first_cell):  # type: ignore[no-untyped-def]
    table = next(t for t in document.tables if t.rows[0].cells[0].text == first_cell)
    return [[cell.text for cell in row.cells] for row in table.rows]


def _text(document) -> str:  # type: ignore[no-untyped-def]
    return "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])


def test_the_reference_complaint_states_true_figures_with_charts(env, reference):
    collective_id = _open(env, reference, language="en", narrative=FULL)
    with env.uow() as session:
        collective = session.get(CollectiveComplaint, collective_id)
        assert collective.appeals_received == 150
        assert exclusion_reasons(session, collective) == [
            ("missing_form_of_appeal", 10), ("missing_power_of_attorney", 9), ("missing_both", 2)]
    document = _latest(env, collective_id)
    figures = dict(row for row in _rows(document, "Period covered by the incidents"))
    assert [v for k, v in figures.items() if k.startswith("Appeals received by")] == ["150"]
    assert figures["Complainants included in this complaint"] == "129"
    assert figures["Cities and towns where the complainants live"] == "19"
    assert figures["Episodes of persecution described"] == "7"
    # When the appeals were received: their received_on, not the incidents (which are a year earlier).
    assert figures["Period in which the complainants' appeals were received"] == "1 February 2023 – 9 June 2023"
    text = _text(document)
    assert "sent their appeals between 1 February 2023 and 9 June 2023." in text
    assert "2024" not in text  # the appeals left out are not among those whose receipt is dated
    # Why the other 21 were left out, each reason counted: not "all lacked both documents".
    assert _rows(document, "Reason") == [
        ["Reason", "Appeals"], ["The signed form of appeal was not received", "10"],
        ["The power of attorney was not received", "9"],
        ["Neither the form of appeal nor the power of attorney was received", "2"], ["Total", "21"]]
    episodes = _rows(document, "Episode")
    assert sorted(int(row[3]) for row in episodes[1:]) == sorted(EPISODE_SIZES)
    assert ["Fictional episode 1", "1 January 2022 – 10 January 2022", "more than 300 detained", "55"] in episodes
    assert sum(1 for row in episodes[1:] if row[2] == "not known") == 6
    cities = _rows(document, "City or town")
    assert len(cities) == 1 + 19 + 1 and cities[-1] == ["Total", "129"]
    # Three charts beside their tables, each with its figures in the alternative text.
    shapes = document.inline_shapes
    assert len(shapes) == 3
    alts = {s._inline.docPr.get("title"): s._inline.docPr.get("descr") for s in shapes}
    assert set(alts) == {"Complainants by city or town", "Complainants by episode",
                         "Complainants by form of persecution"}
    assert "Fictional episode 1 — 55" in alts["Complainants by episode"]
    assert "Almaty — 7" in alts["Complainants by city or town"]


def test_episode_titles_and_cities_in_the_documents_language(env, reference):
    collective_id = _open(env, reference, language="ru", narrative=FULL)
    document = _latest(env, collective_id)
    text = _text(document)
    assert "Вымышленный эпизод 1" in text and "Fictional episode" not in text
    cities = dict(row for row in _rows(document, "Город или населённый пункт"))
    assert cities["Алматы"] == "7" and "Almaty" not in cities  # translated through the city vocabulary
    assert cities["Astana"] == "7"  # a city in no term prints as typed
    assert _rows(document, "Причина")[-1] == ["Итого", "21"]
    with env.uow() as session:
        episode = session.scalar(select(Episode).where(Episode.key == "ep-1"))
        assert (episode_title(episode, "ru"), episode_title(episode, "en")) == ("Вымышленный эпизод 1",
                                                                                "Fictional episode 1")
        assert [city_name(session, typed, "ru") for typed in ("almaty", " ALMATY ", "Алматы", "Oral", None)] == [
            "Алматы", "Алматы", "Алматы", "Oral", None]


def test_no_check_or_approval_while_a_section_is_still_to_be_completed(env, reference):
    collective_id = _open(env, reference, language="en", narrative={**FULL, "patterns": "", "requests": ""})
    text = _text(_latest(env, collective_id))
    assert text.count("[To be completed by the legal officer before submission.]") == 2
    check = _ready(env, collective_id, "check_filing")
    with env.uow() as session, pytest.raises(Unfinished) as refused:
        complete_task(session, env.settings, check, env.user(session, "leo"), {"decision": "approve"})
    assert isinstance(refused.value, Conflict) and refused.value.code == "sections_unfinished"
    assert sorted(refused.value.errors) == ["narrative.patterns", "narrative.requests"]
    assert _ready(env, collective_id, "check_filing") == check  # nothing moved
    with env.uow() as session:  # a bulk check obeys the same rule: refused with the sections, not "skipped"
        [(_row, result)] = bulk.dry_run(session, env.settings, env.user(session, "leo"), "check_filing",
                                        {"decision": "approve"}, bulk.Selection(task_ids=(check,)))
        assert result.state == "refused"
        assert sorted(p.params["section"] for p in result.problems) == ["patterns", "requests"]
    with env.uow() as session:  # the legal officer writes them: version 2, and the check passes
        update_narrative(session, env.settings, env.user(session, "lena"),
                         session.get(CollectiveComplaint, collective_id), FULL)
    assert "[To be completed" not in _text(_latest(env, collective_id))
    with env.uow() as session:
        complete_task(session, env.settings, check, env.user(session, "leo"), {"decision": "approve"})
        with pytest.raises(Conflict):  # checked: the text no longer changes (a manager sends it back instead)
            update_narrative(session, env.settings, env.user(session, "lena"),
                             session.get(CollectiveComplaint, collective_id), {**FULL, "summary": "Changed."})
    approve = _ready(env, collective_id, "approve_filing")
    with env.uow() as session:  # a complaint whose text lost a section (written before this rule, say)
        collective = session.get(CollectiveComplaint, collective_id)
        collective.narrative = {**FULL, "context": ""}
    with env.uow() as session, pytest.raises(Unfinished) as refused:
        complete_task(session, env.settings, approve, env.user(session, "mara"), {"decision": "approve"})
    assert list(refused.value.errors) == ["narrative.context"]
    with env.uow() as session:  # sending it back to revise is always possible
        complete_task(session, env.settings, approve, env.user(session, "mara"), {"decision": "revise"})
    assert _ready(env, collective_id, "check_filing") is not None


def test_a_name_of_a_complainant_who_did_not_consent_is_cut_from_the_narrative(env, reference):
    with env.uow() as session:
        hidden = session.scalar(select(Case).where(Case.ref == "TRU-001"))  # odd: no publication consent
        shown = session.scalar(select(Case).where(Case.ref == "TRU-002"))
        assert not hidden.consent.publish_name and shown.consent.publish_name
        hidden_name, shown_name = hidden.person.full_name, shown.person.full_name
        native = hidden.person.full_name_native
    narrative = {**FULL, "methods": f"{hidden_name} and {shown_name} were detained; {native.split()[1]}у "
                                    f"beat the guards, said the legality of it all."}
    collective_id = _open(env, reference, language="en", narrative=narrative)
    text = _text(_latest(env, collective_id))
    methods = next(p for p in text.splitlines() if "beat the guards" in p)
    assert methods == (f"Complainant TRU-001 and {shown_name} were detained; Complainant TRU-001 beat the guards, "
                       "said the legality of it all.")
    with env.uow() as session:
        assert sections_with_names_cut(session, session.get(CollectiveComplaint, collective_id)) == ["methods"]
