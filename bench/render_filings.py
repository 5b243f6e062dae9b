"""Cost of generating filings: one individual filing, and a collective complaint of 1,000 complainants.

Prints the median wall time and the peak Python memory (tracemalloc, in a separate run because tracing slows
the code down) next to the targets: 0.2 s for an individual filing, 5 s for the collective complaint.
tracemalloc does not see lxml's own (C) allocations, so the process's resident high-water mark is printed
too; it only ever grows, run after run. Figures only, no assertions: timings depend on the machine.

    .venv/bin/python bench/render_filings.py
    BENCH_N=50 BENCH_RUNS=1 .venv/bin/python bench/render_filings.py   # smaller (make test runs it tiny)
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from filings import (
    ArrestSnapshot,
    CaseSnapshot,
    CollectiveSnapshot,
    ConsentSnapshot,
    CountedEpisode,
    CustodySnapshot,
    EpisodeSnapshot,
    GroundSnapshot,
    IllTreatmentSnapshot,
    IncidentSnapshot,
    Official,
    OrganisationSnapshot,
    PerpetratorSnapshot,
    PersonSnapshot,
    RemediesSnapshot,
    RemedyStepSnapshot,
    render,
    render_collective,
)

GENERATED_AT = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
GROUNDS = (GroundSnapshot("iccpr_21", "ICCPR art. 21 (assembly)", "20(1)"),
           GroundSnapshot("iccpr_19", "ICCPR art. 19 (expression)", "19"),
           GroundSnapshot("iccpr_9", "ICCPR art. 9 (liberty)", "3, 9"))


def individual(body: str, description_words: int) -> CaseSnapshot:
    description = " ".join(["Officers questioned the complainant about the rally and her posts."] *
                           (description_words // 10 + 1))
    incidents = tuple(
        IncidentSnapshot(types=("Detention at a rally",), occurred_on=date(2022, 1, 5) + timedelta(days=7 * i),
                         place=f"Police station No. {i + 1}, Almaty", description=description,
                         perpetrators=("Police", "Investigative bodies"), episodes=("rally",),
                         deprivation_of_liberty=i % 2 == 0)
        for i in range(5))
    return CaseSnapshot(
        ref="APL-2024-0042", body=body, body_name="UN Special Procedures", language="en", organisation="Freedom Watch",
        person=PersonSnapshot(display_name="Aliya Testova", named=True, native_name="Алия Тестова",
                              birth_date=date(1991, 4, 12), city="Almaty", occupation="Journalist", detained_now=True),
        received_on=date(2022, 2, 1), incidents=incidents,
        episodes=(EpisodeSnapshot("rally", "Mass detentions at the January rally", date(2022, 1, 5),
                                  date(2022, 1, 7), known_totals="more than 150 detained"),),
        grounds=GROUNDS, mandates=("Freedom of peaceful assembly", "Freedom of expression"),
        communication_type="urgent_appeal", urgent=True,
        remedies=RemediesSnapshot(summary="Complaint to the prosecutor rejected."),
        consent=ConsentSnapshot(True, True, True, False, False), state="Kazakhstan", generated_at=GENERATED_AT,
        # The facts the questionnaires ask beyond the incidents, as a fully filled case has them.
        perpetrators=tuple(PerpetratorSnapshot(n, "Police", "City police, patrol battalion", "Major",
                                               f"Officer {n} Fictional", "Ordered the detention.") for n in (1, 2, 3)),
        arrests=(ArrestSnapshot(date(2022, 1, 5), "Republic Square", "Patrol police", False, "Nobody",
                                "Unauthorised assembly", "Article 488 of the Code of Administrative Offences",
                                "15 days", "Denied for 48 hours", "One call", date(2022, 1, 20), "End of term",
                                tuple(CustodySnapshot(f"Detention place {n}", "Police") for n in (1, 2, 3))),),
        ill_treatments=(IllTreatmentSnapshot("Beating", "Three hours", "Bruises", "Forensic report",
                                             "Complaint to the prosecutor", "Refused"),),
        remedy_steps=tuple(RemedyStepSnapshot(f"Court {n}", date(2022, 2, n), "Dismissed", date(2022, 3, n))
                           for n in (1, 2)),
        profile=OrganisationSnapshot("Freedom Watch", "1 Example Street", "cases@example.org", "+370 600 00000",
                                     "A. Lawyer", "lawyer"),
        annexes=("Court decision", "Medical report"))


def collective(complainants: int, cities: int, episodes: int) -> CollectiveSnapshot:
    names = [f"Complainant {i:04d} Fictional" for i in range(complainants)]
    named = tuple(sorted(name for i, name in enumerate(names) if i % 3 == 0))
    per_city = [complainants // cities + (1 if i < complainants % cities else 0) for i in range(cities)]
    counted = tuple(
        CountedEpisode(EpisodeSnapshot(f"episode_{i}", f"Episode {i + 1}", date(2022, 1 + i, 1), date(2022, 1 + i, 20),
                                       description="What happened, as the legal officer wrote it. " * 20,
                                       known_totals=f"about {100 * (i + 1)} detained"), complainants // (i + 2))
        for i in range(episodes))
    return CollectiveSnapshot(
        reference="COL-2024-001", title="Persecution of a peaceful movement", body="un_sp",
        body_name="UN Special Procedures", language="en", organisation="Freedom Watch",
        period_start=date(2022, 1, 1), period_end=date(2022, 8, 31), appeals_received=complainants + 150,
        complainants=complainants, cities=tuple((f"City {i + 1:02d}", n) for i, n in enumerate(per_city)),
        episodes=counted,
        incident_types=(("Detention at a rally", complainants // 2), ("Interrogation", complainants // 3),
                        ("Torture or ill-treatment", complainants // 20)),
        torture_cases=complainants // 20, named=named, unnamed=complainants - len(named),
        summary="Summary. " * 200, legal_basis="Legal basis. " * 100, context="Context. " * 200,
        methods="Methods. " * 200, patterns="Patterns. " * 100, pressure_on_defenders="Pressure. " * 100,
        officials=tuple(Official(f"Position {i}", "Police", f"Official {i}", "Ordered detentions") for i in range(10)),
        requests="Requests. " * 100, grounds=GROUNDS, state="Kazakhstan", generated_at=GENERATED_AT)


def median_seconds(job: Callable[[], bytes], runs: int) -> float:
    job()  # warm-up: template loading and python-docx's first document are one-off costs
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mib(job: Callable[[], bytes]) -> float:
    tracemalloc.start()
    try:
        job()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


COMPLAINANTS = int(os.environ.get("BENCH_N", "1000"))
RUNS = os.environ.get("BENCH_RUNS")  # every case's number of timed runs, when set


def main() -> None:
    big = collective(complainants=COMPLAINANTS, cities=min(40, COMPLAINANTS), episodes=6)
    cases: list[tuple[str, Callable[[], bytes], int, float]] = [
        ("individual filing, un_sp/en", lambda: render(individual("un_sp", 80)), 20, 0.2),
        ("individual filing, ep_droi/en, cut to 500 words", lambda: render(individual("ep_droi", 400)), 20, 0.2),
        (f"collective complaint, {COMPLAINANTS:,} complainants, {min(40, COMPLAINANTS)} cities, 6 episodes",
         lambda: render_collective(big), 3, 5.0),
    ]
    if RUNS:
        cases = [(label, job, int(RUNS), target) for label, job, _, target in cases]
    print(f"{'what':<66} {'runs':>4} {'median s':>9} {'target s':>9} {'py peak MiB':>12} {'max RSS MiB':>12} "
          f"{'size KiB':>9}")
    for label, job, runs, target in cases:
        seconds = median_seconds(job, runs)
        size = len(job()) / 1024
        peak = peak_mib(job)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
        print(f"{label:<66} {runs:>4} {seconds:>9.3f} {target:>9.1f} {peak:>12.1f} {rss:>12.0f} {size:>9.0f}")


if __name__ == "__main__":
    main()
