"""Reading a ~500 KB XLSX of fictional appeals: wall time and peak memory of ``workflow.tabular.read_table``.

Four workbooks: the rows as openpyxl writes them, the same with a stale ``<dimension>`` (A1:T10, which
read-only openpyxl trusted, dropping the rest) and with an oversized one (A1:XFD1048576), and 150 rows followed
by 13 x BENCH_N formatted empty rows (what a sheet formatted "down to the bottom" holds; openpyxl spent ~40 µs a row
on them). Each is read in a fresh process so the peak memory (ru_maxrss) is that read's own.

    .venv/bin/python bench/xlsx_read.py          # BENCH_N rows (default 4500: a ~500 KB workbook)
"""

from __future__ import annotations

import os
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


def with_styled_blank_rows(source: Path, target: Path, count: int) -> Path:
    """A copy of ``source`` with ``count`` formatted but empty rows after its data."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                last = int(re.findall(rb'<row r="(\d+)"', data)[-1])
                blank = "".join(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/><c r="T{r}" s="1"/></row>'
                                for r in range(last + 1, last + 1 + count))
                data = data.replace(b"</sheetData>", blank.encode() + b"</sheetData>")
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

    rows = int(os.environ.get("BENCH_N", "4500"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain = write_appeals_xlsx(folder, n=rows, missing=0, name="appeals.xlsx")
        stale = with_dimension(plain, folder / "stale-dimension.xlsx", "A1:T10")
        huge = with_dimension(plain, folder / "oversized-dimension.xlsx", "A1:XFD1048576")
        small = write_appeals_xlsx(folder / "small", n=min(rows, 150), missing=0, name="appeals-150.xlsx")
        blank = with_styled_blank_rows(small, folder / "formatted-empty-rows.xlsx", max(13 * rows, 39))
        for path in (plain, stale, huge, blank):
            subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)


if __name__ == "__main__":
    main()
