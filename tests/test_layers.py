"""The dependency rule of docs/ARCHITECTURE.md: web -> workflow -> filings; nothing but web imports Flask."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def modules_of(package: str) -> list[str]:
    return [m.name for m in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}.")
            if ".migrations" not in m.name] + [package]


def imported_after(modules: list[str]) -> set[str]:
    code = ("import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(("package", "forbidden"), [
    ("workflow", {"flask", "web", "werkzeug"}),
    ("filings", {"flask", "web", "workflow", "sqlalchemy", "SpiffWorkflow"}),
])
def test_package_does_not_import_what_it_must_not(package, forbidden):
    modules = modules_of(package)
    assert len(modules) > 1
    assert imported_after(modules) & forbidden == set()
