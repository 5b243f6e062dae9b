"""Bar charts of a collective complaint's figures as PNG images (matplotlib, Agg backend: no display needed).

Pure: figures and labels in, PNG bytes out. The labels come in the document's language; matplotlib's own
DejaVu Sans, which it ships, has the Cyrillic and Kazakh letters, so a Russian chart renders on any host
whatever fonts it has installed. The same figures give the same bytes (no timestamp in the PNG), like the
document around them.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from functools import cache
from typing import Any, Final

FONT: Final = "DejaVu Sans"
WIDTH_INCHES: Final = 6.3  # the text width of an A4 page with 2.5 cm margins
DPI: Final = 120
TITLE_WIDTH: Final = 90  # characters of the title (the document's caption, the table and alt text say all)
LABEL_WIDTH: Final = 38  # characters per line of a bar's label before it wraps
MAX_BARS: Final = 30  # beyond this the smallest are summed into one "others" bar: a chart must stay readable
BAR_COLOUR: Final = "#3b5b85"


@cache
def _pyplot() -> Any:
    # Imported on first use: the rest of the application (and every individual filing) never pays for it.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    matplotlib.rcParams.update({"font.family": FONT, "font.size": 9})
    return pyplot


def bar_chart(rows: Sequence[tuple[str, int]], title: str, others: str) -> bytes:
    """A horizontal bar chart, largest first as given, each bar labelled with its value; PNG bytes.

    ``others`` labels the bar that sums whatever lies beyond ``MAX_BARS``.
    """
    if len(rows) > MAX_BARS:
        rows = [*rows[:MAX_BARS - 1], (others, sum(n for _label, n in rows[MAX_BARS - 1:]))]
    pyplot = _pyplot()
    labels = ["\n".join(textwrap.wrap(label, LABEL_WIDTH, max_lines=2, placeholder="…")) or "—"
              for label, _n in rows]
    values = [n for _label, n in rows]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = 0.75 + 0.22 * max(lines, 2)
    figure, axes = pyplot.subplots(figsize=(WIDTH_INCHES, height), dpi=DPI)
    try:
        # Margins computed rather than found by tight_layout(), which draws the whole figure once more.
        widest = max(len(line) for label in labels for line in label.split("\n"))
        left = min(0.08 + widest * 0.0125, 0.5)
        figure.subplots_adjust(left=left, right=0.97, top=1 - 0.45 / height, bottom=0.12 / height)
        positions = range(len(rows))
        bars = axes.barh(positions, values, color=BAR_COLOUR, height=0.7)
        axes.set_yticks(list(positions), labels)
        axes.tick_params(axis="y", length=0)
        axes.invert_yaxis()  # largest on top, as in the table beside it
        # Each bar carries its figure, so no value axis: fewer texts to draw, nothing to misread.
        axes.bar_label(bars, labels=[str(v) for v in values], padding=3)
        axes.xaxis.set_visible(False)
        axes.set_xlim(0, max(values, default=0) * 1.12 or 1)
        figure.suptitle(textwrap.shorten(title, TITLE_WIDTH, placeholder="…"), x=0.01, ha="left",
                        fontweight="bold")
        for side in ("top", "right", "bottom"):
            axes.spines[side].set_visible(False)
        out = io.BytesIO()
        # No "Software" or date chunk: the same figures give the same bytes.
        figure.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        pyplot.close(figure)
