"""The journey's spreadsheet: N fictional appeals with their scanned consent documents, as an NGO receives them.

Shaped like the reference case (docs/BENCHMARKS.md, "The journey"): about one appeal in seven lacks a consent
document (21 of 150), two belong to no episode yet, episode keys are hyphenated slugs, the CSV starts with a BOM,
is `;`-separated and writes dates as `dd.mm.yyyy`; a few complainants are detained now (the urgent appeals).
Every person is invented.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

EPISODES = (
    ("rally-2022-01-05", "Mass detentions at the January rally", date(2022, 1, 5), date(2022, 1, 7)),
    ("preventive-2022-02", "Preventive detentions before the February march", date(2022, 2, 20), date(2022, 2, 28)),
    ("symbol-spring-2022", "Interrogations of people carrying the movement's symbol", date(2022, 3, 1),
     date(2022, 5, 31)),
    ("online_posts", "Prosecutions for social-media comments", date(2021, 9, 1), date(2022, 8, 31)),
)
CITIES = ("Almaty", "Astana", "Shymkent", "Karaganda", "Aktobe", "Taraz", "Pavlodar", "Semey", "Oral", "Aktau",
          "Kostanay", "Kyzylorda", "Atyrau", "Petropavl", "Turkestan", "Ekibastuz", "Temirtau", "Zhezkazgan",
          "Kokshetau")
GIVEN = ("Aida", "Bolat", "Dinara", "Erlan", "Gulnara", "Kairat", "Madina", "Nurzhan", "Saule", "Yerbol", "Asel",
         "Daulet", "Zhanna")
FAMILY = ("Fictionova", "Inventov", "Imaginaeva", "Madeupov", "Samplova", "Testbekov", "Placeholdina", "Notrealov")
INCIDENT_TYPES = ("detention_at_rally", "preventive_detention", "symbol_confiscation", "torture_ill_treatment")
HEADER = ("ref", "full_name", "city", "episodes", "incident_types", "incident_date", "description",
          "form_of_appeal", "power_of_attorney", "consent_publish_name", "received_on", "gender", "detained_now")


def pdf(label: str) -> bytes:
    """A small, valid one-page PDF showing ``label`` (what a scanner would send, minus the picture)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({label}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


@dataclass(frozen=True)
class Batch:
    episodes_csv: Path
    appeals_csv: Path
    documents_zip: Path
    appeals: int
    complete: int  # appeals with both consent documents
    without_episode: int
    detained: tuple[str, ...]  # references of the complainants detained now (urgent appeals)


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def write_batch(folder: Path, n: int, *, detained: int = 3) -> Batch:
    """The episodes file, the appeals file and the zip of documents for ``n`` appeals, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    missing_every = 7  # one appeal in seven lacks a document: 21 of 150
    lines = ["key,title,start_date,end_date"] + [f"{k},{t},{s.isoformat()},{e.isoformat()}" for k, t, s, e in EPISODES]
    episodes_csv = folder / "episodes.csv"
    episodes_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows: list[tuple[str, ...]] = [HEADER]
    complete, held = 0, []
    documents = folder / "documents.zip"
    with zipfile.ZipFile(documents, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(n):
            ref = f"J-{i + 1:04d}"
            name = f"{GIVEN[i % len(GIVEN)]} {FAMILY[(i // len(GIVEN)) % len(FAMILY)]} {i + 1}"
            episode_keys = "" if n >= 4 and i in (n // 2, n // 2 + 1) else ";".join(
                k for j, (k, *_rest) in enumerate(EPISODES) if j == i % 4 or (i % 5 == 0 and j == (i + 1) % 4))
            form, power = f"{ref}-form.pdf", f"{ref}-poa.pdf"
            lacks = i % missing_every == missing_every - 1
            archive.writestr(f"scans/{form}", pdf(f"Form of appeal {ref}"))
            if not lacks:
                archive.writestr(f"scans/{power}", pdf(f"Power of attorney {ref}"))
                complete += 1
            is_detained = not lacks and len(held) < detained and i % 11 == 3
            if is_detained:
                held.append(ref)
            occurred = date(2022, 1, 5) + timedelta(days=i % 200)
            rows.append((
                ref, name, CITIES[i % len(CITIES)], episode_keys, INCIDENT_TYPES[i % 4] + ";interrogation",
                _day(occurred), f"Detained after the peaceful assembly; appeal number {i + 1}.", form,
                "" if lacks else power, "yes" if i % 3 else "no", _day(occurred + timedelta(days=30)),
                "female" if i % 2 else "male", "yes" if is_detained else "no"))
    appeals_csv = folder / "appeals.csv"
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(rows)  # as Excel saves "CSV (;)"
    appeals_csv.write_bytes("\ufeff".encode() + text.getvalue().encode("utf-8"))
    return Batch(episodes_csv, appeals_csv, documents, n, complete, 2 if n >= 4 else 0, tuple(held))
