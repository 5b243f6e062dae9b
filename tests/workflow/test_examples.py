"""The sample import in docs/examples goes through the real `petitio` command cleanly, and docs/INTERFACES.md
names every required import column and every /api/v1 route, so the written contract cannot silently drift.

The installation, the command runner and the backends (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)
are test_cli.py's: its ``cli_env`` fixture, with the module-scoped fixture it asks for on PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from tests.workflow import test_cli
from tests.workflow.test_cli import PROJECT_ROOT, Cli, last_json
from web import create_app
from workflow.config import load_settings
from workflow.schemas.base import is_slug
from workflow.services.importer import REQUIRED  # the appeal columns the import requires

cli_env = test_cli.cli_env
_pg_schema_restored = test_cli._pg_schema_restored

EXAMPLES = PROJECT_ROOT / "docs" / "examples"
CONTRACT = PROJECT_ROOT / "docs" / "INTERFACES.md"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row for row in csv.DictReader(fh) if any((value or "").strip() for value in row.values())]


def test_the_sample_is_what_its_readme_says() -> None:
    episodes, appeals = _rows(EXAMPLES / "episodes.csv"), _rows(EXAMPLES / "appeals.csv")
    assert 2 <= len(episodes) <= 3 and all(is_slug(e["key"]) for e in episodes)
    assert 5 <= len(appeals) <= 8
    with (EXAMPLES / "appeals.csv").open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    assert set(REQUIRED) <= set(header)
    assert [c for c in header if f"`{c}`" not in CONTRACT.read_text(encoding="utf-8")] == [], "undocumented columns"
    assert any(a["detained_now"] == "yes" for a in appeals)
    assert any(not a["form_of_appeal"] and not a["power_of_attorney"] for a in appeals)
    assert any(";" in a["episodes"] for a in appeals) and any(";" in a["incident_types"] for a in appeals)
    # What real spreadsheets hold: a hyphenated key, an appeal without an episode, dd.mm.yyyy, a BOM.
    assert any("-" in e["key"] for e in episodes) and any(not a["episodes"] for a in appeals)
    assert any(re.fullmatch(r"\d\d\.\d\d\.\d{4}", a["incident_date"]) for a in appeals)
    assert (EXAMPLES / "appeals.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    named = {a[kind] for a in appeals for kind in ("form_of_appeal", "power_of_attorney") if a[kind]}
    assert named == {p.name for p in (EXAMPLES / "documents").iterdir()}, "every file named, and no other"


def test_the_sample_imports_cleanly_through_the_command_line(cli_env: Cli) -> None:
    episodes, appeals, documents = EXAMPLES / "episodes.csv", EXAMPLES / "appeals.csv", EXAMPLES / "documents"
    rows = _rows(appeals)
    refs = sorted(row["ref"] for row in rows)
    detained = sorted(row["ref"] for row in rows if row["detained_now"] == "yes")
    cli_env.ok("init")

    counts = last_json(cli_env.ok("episodes", "import", episodes))
    assert counts == {"created": len(_rows(episodes)), "updated": 0, "unchanged": 0}

    dry = last_json(cli_env.ok("intake", "import", appeals, "--documents", documents, "--dry-run"))
    assert dry == {"created": len(rows), "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    assert json.loads(cli_env.ok("cases", "list", "--json")) == [], "a dry run created cases"

    first = last_json(cli_env.ok("intake", "import", appeals, "--documents", documents))
    assert first == {"created": len(rows), "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    listed = json.loads(cli_env.ok("cases", "list", "--json"))
    assert sorted(c["ref"] for c in listed) == refs
    # Imported cases start at verify_consent; a complainant detained now makes the case urgent.
    assert {(c["stage"], c["ready_tasks"]) for c in listed} == {("consent", 1)}
    assert sorted(c["ref"] for c in listed if c["urgent"]) == detained

    again = last_json(cli_env.ok("intake", "import", appeals, "--documents", documents))
    assert again == {"created": 0, "updated": 0, "unchanged": len(rows), "rejected": 0, "errors": []}
    assert last_json(cli_env.ok("episodes", "import", episodes)) == {
        "created": 0, "updated": 0, "unchanged": len(_rows(episodes))}


def _openapi_path(rule: str) -> str:
    """/api/v1/cases/<string:ref> -> /api/v1/cases/{ref}"""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def test_the_contract_names_every_required_column_and_every_api_route(tmp_path: Path) -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    assert [c for c in REQUIRED if f"`{c}`" not in text] == [], "required import columns missing from the contract"

    # As tests/web/conftest.py builds it; no database is touched to list the routes.
    app = create_app(load_settings({"PETITIO_HOME": str(tmp_path / "home")}), TESTING=True)
    served = {f"{method} {_openapi_path(rule.rule)}" for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1") for method in rule.methods or () if method in HTTP_METHODS}
    assert len(served) >= 25
    assert sorted(route for route in served if f"`{route}`" not in text) == [], "served but not in the contract"
    written = set(re.findall(rf"`((?:{'|'.join(HTTP_METHODS)}) /api/v1[^`?\s]*)`", text))
    assert sorted(written - served) == [], "in the contract but not served"
