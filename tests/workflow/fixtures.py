"""Fictional import files for tests: appeals (CSV and XLSX), their documents, and the episodes they cite.

Every person, number and document here is invented: names read "Test-Person 017 Fictionova", phone
numbers start with +7 000, e-mail addresses are at example.org and each PDF says it is a test document.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from workflow.schemas.appeal import FILLED, OPTIONAL, REQUIRED
from workflow.services.episodes import upsert_episode
from workflow.vocab import INCIDENT_TYPES

COLUMNS = REQUIRED + OPTIONAL
CITIES = (
    "Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Taraz", "Pavlodar", "Oskemen", "Semey", "Kostanay",
    "Kyzylorda", "Atyrau", "Oral", "Petropavl", "Aktau", "Temirtau", "Turkistan", "Kokshetau", "Taldykorgan",
)
# key -> (title, start, end, incident types typical of it)
EPISODES: dict[str, tuple[str, date, date, tuple[str, ...]]] = {
    "rally_2022_01": ("Detentions at the January 2022 rallies (test)", date(2022, 1, 4), date(2022, 1, 11),
                      ("detention_at_rally", "torture_ill_treatment", "search_and_seizure")),
    "preventive_2022_02": ("Preventive detentions before a February 2022 protest (test)", date(2022, 2, 1),
                           date(2022, 2, 28), ("preventive_detention", "interrogation", "surveillance_threats")),
    "symbol_2022_03": ("Confiscation of protest symbols, March 2022 (test)", date(2022, 3, 1), date(2022, 3, 31),
                       ("symbol_confiscation", "interrogation", "forced_renunciation")),
    "online_posts_2022": ("Prosecutions for online posts, 2022 (test)", date(2022, 1, 1), date(2022, 12, 31),
                          ("criminal_prosecution_online_speech", "search_and_seizure", "punitive_psychiatry",
                           "surveillance_threats")),
}
assert {t for e in EPISODES.values() for t in e[3]} == set(INCIDENT_TYPES), "fixtures must cover the vocabulary"
OCCUPATIONS = ("teacher", "student", "engineer", "journalist", "nurse", "driver", "pensioner", "accountant")
WHAT = {
    "rally_2022_01": "was detained while standing peacefully at the square with other protesters",
    "preventive_2022_02": "was taken from home to a police station the evening before the announced protest",
    "symbol_2022_03": "had a blank placard and a ribbon confiscated and was asked to sign a statement",
    "online_posts_2022": "was charged for a social-media post criticising the authorities",
}


def ensure_test_episodes(session: Session) -> list[str]:
    """Create (or leave as they are) the four fictional episodes the generated appeals refer to."""
    for key, (title, start, end, _types) in EPISODES.items():
        upsert_episode(session, None, key, title, start, end, "Fictional episode for automated tests.")
    return list(EPISODES)


def write_episodes_csv(folder: Path, name: str = "episodes.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["key", "title", "start_date", "end_date", "description"])
        for key, (title, start, end, _types) in EPISODES.items():
            writer.writerow([key, title, start.isoformat(), end.isoformat(), "Fictional episode for tests."])
    return path


def fictional_pdf(label: str, token: str) -> bytes:
    """A tiny but real PDF whose content is unique to ``label``/``token``."""
    return (b"%PDF-1.4\n% Fictional test document: " + label.encode() + b" " + token.encode() + b"\n"
            b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
            b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


def appeal_rows(n: int = 150, missing: int = 21, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` fictional appeals (dates as ``date``), ``missing`` of them without one of the two documents."""
    if not 0 <= missing <= n:
        raise ValueError("missing must be between 0 and n")
    rng = random.Random(seed)
    width = max(3, len(str(n)))
    without = {index: ("form_of_appeal", "power_of_attorney")[j % 2]
               for j, index in enumerate(sorted(rng.sample(range(n), missing)))}
    keys = list(EPISODES)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        number = f"{i + 1:0{width}d}"
        ref = f"APL-{number}"
        episode = keys[i % len(keys)]
        episodes = [episode]
        if episode != "online_posts_2022" and rng.random() < 0.15:
            episodes.append("online_posts_2022")
        _title, start, end, typical = EPISODES[episode]
        types = rng.sample(typical, rng.choice((1, 1, 2)))
        incident = start + timedelta(days=rng.randrange((end - start).days + 1))
        female = i % 2 == 0
        row: dict[str, Any] = {
            "ref": ref,
            "full_name": f"Test-Person {number} {'Fictionova' if female else 'Fictionov'}",
            "city": CITIES[i % len(CITIES)],
            "episodes": ";".join(episodes),
            "incident_types": ";".join(types),
            "incident_date": incident,
            "description": f"Fictional test appeal {ref}: the person {WHAT[episode]} in {CITIES[i % len(CITIES)]}.",
            "form_of_appeal": f"foa-{ref}.pdf",
            "power_of_attorney": f"poa-{ref}.pdf",
            "consent_publish_name": rng.choice(("yes", "no")),
            "received_on": incident + timedelta(days=rng.randrange(7, 120)),
            "full_name_native": f"Тестовая Персона {number}" if female else f"Тестовый Персонаж {number}",
            "gender": "female" if female else "male",
            "birth_date": date(1960 + rng.randrange(43), rng.randrange(1, 13), rng.randrange(1, 29)),
            "phone": f"+7 000 000 {i + 1:04d}",
            "email": f"test-person-{number}@example.org",
            "passport_number": f"TEST{i + 1:06d}" if rng.random() < 0.7 else "",
            "occupation": rng.choice(OCCUPATIONS),
            "organisation": "Fictional Youth Club" if rng.random() < 0.1 else "",
            "detained_now": "yes" if i % 9 == 4 else "no",
            **dict.fromkeys(FILLED, ""),  # the optional filing facts: see tests/workflow/test_import_facts.py
        }
        if i in without:
            row[without[i]] = ""
        rows.append(row)
    return rows


def write_documents(folder: Path, rows: list[dict[str, Any]], seed: int = 7) -> Path:
    """Write the PDFs the rows name into ``folder/docs`` (unique content per file); returns that folder."""
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"docs-{seed}")
    for row in rows:
        for column in ("form_of_appeal", "power_of_attorney"):
            if row[column]:
                token = f"{rng.getrandbits(64):016x}"
                (docs / row[column]).write_bytes(fictional_pdf(f"{column} of {row['ref']}", token))
    return docs


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def write_rows_csv(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(c, "")) for c in columns])
    return path


def read_rows_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_appeals_csv(folder: Path, n: int = 150, missing: int = 21, seed: int = 7,
                      name: str = "appeals.csv") -> Path:
    """A CSV of ``n`` fictional appeals (refs APL-001...) plus their documents in ``folder/docs``."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = appeal_rows(n, missing, seed)
    write_documents(folder, rows, seed)
    return write_rows_csv(folder / name, rows)


def write_appeals_xlsx(folder: Path, n: int = 150, missing: int = 21, seed: int = 7,
                       name: str = "appeals.xlsx") -> Path:
    """The same appeals as ``write_appeals_csv`` in an XLSX workbook, dates as real date cells."""
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    rows = appeal_rows(n, missing, seed)
    write_documents(folder, rows, seed)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Appeals"
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row[c] if row[c] != "" else None for c in COLUMNS])
    for column_cells in sheet.iter_cols(min_row=2):
        for cell in column_cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    path = folder / name
    workbook.save(path)
    return path


# Sessions of other clients that are running a statement or hold a transaction open.
_BUSY_SESSIONS = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction', "
                      "'idle in transaction (aborted)')")


def others_still_busy(session: Session) -> bool:
    """PostgreSQL: a COMMIT a killed process sent just before it died may still be running on the server (and be
    visible only later), and its open transactions end when the server notices the client gone: a test reads the
    rows once this is False."""
    return bool(session.scalar(_BUSY_SESSIONS))
