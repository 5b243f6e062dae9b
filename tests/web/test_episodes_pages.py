"""The episodes page: listed with their cases, added or updated from a file by intake and managers."""

from __future__ import annotations

import io

from sqlalchemy import select

from tests.web.conftest import csrf_token
from workflow.models import AuditEvent, Episode

GOOD = (b"key,title,start_date,end_date\r\n"
        b"rally_2022_01_05,Mass detentions at the January rally,2022-01-05,2022-01-07\r\n"
        b"online_posts,Prosecutions for online comments,,\r\n")


def _upload(client, data: bytes, name: str = "episodes.csv"):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/episodes").get_data(as_text=True))
    return client.post("/episodes/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_intake_imports_episodes_from_a_file_and_sees_them_listed(env, login) -> None:
    ina = login("ina")
    answer = _upload(ina, GOOD)
    assert answer.status_code == 303
    page = ina.get("/episodes").get_data(as_text=True)
    assert "rally_2022_01_05" in page and "Prosecutions for online comments" in page
    again = _upload(ina, GOOD)
    assert again.status_code == 303
    assert "0 created, 0 updated, 2 unchanged" in ina.get("/episodes").get_data(as_text=True)
    with env.uow() as session:
        assert {e.key for e in session.scalars(select(Episode))} == {"rally_2022_01_05", "online_posts"}
        created = session.scalars(select(AuditEvent).where(AuditEvent.action == "episode_created")).all()
        assert len(created) == 2


def test_a_bad_file_imports_nothing_and_says_where(env, login) -> None:
    ina = login("ina")
    bad = GOOD + b"bad key!,Title,2022-01-01,2021-01-01\r\n"
    answer = _upload(ina, bad)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "row 4: key" in text and "Nothing was imported." in text
    assert _upload(ina, b"\x00\x01garbage", "episodes.xlsx").status_code == 422
    assert _upload(ina, GOOD, "episodes.txt").status_code == 422
    with env.uow() as session:
        assert session.scalars(select(Episode)).all() == []


def test_legal_officers_read_the_list_but_cannot_import(env, login) -> None:
    lena = login("lena")
    assert lena.get("/episodes").status_code == 200
    assert "/episodes/import" not in lena.get("/episodes").get_data(as_text=True)
    answer = _upload(lena, GOOD)
    assert answer.status_code == 403
    with env.uow() as session:
        assert session.scalars(select(Episode)).all() == []


# -- titles per document language and known totals ---------------------------------------------------------

WITH_TITLES = ("key,title,start_date,end_date,title_ru,known_totals\r\n"
               "rally_2022_01_05,Mass detentions at the January rally,2022-01-05,2022-01-07,"
               "Массовые задержания на январской акции,more than 150 detained\r\n".encode())


def test_titles_per_language_and_known_totals_come_from_the_file_and_an_older_file_keeps_them(env, login) -> None:
    ina = login("ina")
    assert _upload(ina, WITH_TITLES).status_code == 303
    with env.uow() as session:
        episode = session.scalar(select(Episode).where(Episode.key == "rally_2022_01_05"))
        assert episode.titles == {"ru": "Массовые задержания на январской акции"}
        assert episode.known_totals == "more than 150 detained"
    assert "more than 150 detained" in ina.get("/episodes").get_data(as_text=True)
    assert _upload(ina, GOOD).status_code == 303  # a file without those columns leaves them as they are
    with env.uow() as session:
        episode = session.scalar(select(Episode).where(Episode.key == "rally_2022_01_05"))
        assert episode.titles["ru"] == "Массовые задержания на январской акции"
        assert episode.known_totals == "more than 150 detained"
    unknown = _upload(ina, b"key,title,start_date,end_date,title_xx\r\nk,T,,,x\r\n")
    assert unknown.status_code == 422 and "title_xx" in unknown.get_data(as_text=True)


def test_a_manager_edits_an_episodes_titles_and_known_totals_on_its_page(env, login) -> None:
    mara = login("mara")
    assert _upload(mara, GOOD).status_code == 303
    page = mara.get("/episodes/online_posts").get_data(as_text=True)
    assert 'name="title_ru"' in page and 'name="known_totals"' in page
    token = csrf_token(page)
    answer = mara.post("/episodes/online_posts", data={
        "csrf_token": token, "title": "Prosecutions for online comments", "title_ru": "Преследование за посты",
        "known_totals": "14 criminal cases opened"})
    assert answer.status_code == 303
    listing = mara.get("/episodes").get_data(as_text=True)
    assert "14 criminal cases opened" in listing and 'href="/episodes/online_posts"' in listing
    with env.uow() as session:
        episode = session.scalar(select(Episode).where(Episode.key == "online_posts"))
        assert (episode.titles, episode.known_totals) == ({"ru": "Преследование за посты"},
                                                          "14 criminal cases opened")
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "episode_updated")).all()[-1]
        assert event.data["fields"] == ["known_totals", "titles"]  # names of fields, never their values
    refused = mara.post("/episodes/online_posts", data={"csrf_token": token, "title": "",
                                                         "title_ru": "x" * 301, "known_totals": ""})
    assert refused.status_code == 422 and "Nothing was saved" in refused.get_data(as_text=True)
    with env.uow() as session:
        assert session.scalar(select(Episode).where(Episode.key == "online_posts")).known_totals
    assert mara.get("/episodes/nowhere").status_code == 404
    lena = login("lena")
    assert lena.get("/episodes/online_posts").status_code == 403
    assert 'href="/episodes/online_posts"' not in lena.get("/episodes").get_data(as_text=True)
