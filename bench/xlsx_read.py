"""Reading a ~500 KB XLSX of fictional appeals: wall time and peak memory of ``workflow.tabular.read_table``.

Three workbooks of the same rows: as openpyxl writes it, with a stale ``<dimension>`` (A1:T10, which read-only
openpyxl used to trust and drop the rest), and with an oversized one (A1:XFD1048576, which used to pad a million
empty rows). Each is read in a fresh process so the peak memory (ru_maxrss) is that read's own.

    .venv/bin/python bench/xlsx_read.py [ROWS]
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def with_dimension(source: Path, target: Path, ref: str) -> Path:
    """A copy of ``source`` whose first sheet declares ``ref`` as its dimension."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data, count=1)
            zout.writestr(info, data)
    return target


def measure(path: Path) -> None:
    from workflow.tabular import read_table

    started = time.perf_counter()
    table = read_table(path)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB, {len(table.rows)} rows, "
          f"{elapsed:.2f} s, peak RSS {peak_mb:.0f} MB")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]))
        return
    from tests.workflow.fixtures import write_appeals_xlsx

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2600
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = write_appeals_xlsx(folder, n=rows, missing=0, name="appeals.xlsx")
        stale = with_dimension(plain, folder / "stale-dimension.xlsx", "A1:T10")
        huge = with_dimension(plain, folder / "oversized-dimension.xlsx", "A1:XFD1048576")
        for path in (plain, stale, huge):
            subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)


if __name__ == "__main__":
    main()
