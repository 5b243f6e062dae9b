"""What a filing template may say: its content blocks, the labels each block prints, and the placeholders.

A template (``templates/filings/<body>/<language>.toml``) is checked against these tables when it is loaded,
so a misspelt block, a missing label or an unknown ``{placeholder}`` fails at load time (and in the test
that loads every template), never as a literal "{x}" in a document sent to the UN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from filings.snapshot import EXCLUSION_REASONS

INDIVIDUAL: Final = "individual"
COLLECTIVE: Final = "collective"


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """One label: the block-specific placeholders it may use besides the template-wide ones.

    ``counted`` labels carry one number and may be written per CLDR plural form (``one``/``few``/``many``/
    ``other``), because Russian cannot agree a noun with "{count}" any other way. ``plain`` labels are
    printed as they stand (they are themselves the fallback values, e.g. "not known").
    """

    extras: frozenset[str] = frozenset()
    counted: bool = False
    plain: bool = False


@dataclass(frozen=True, slots=True)
class BlockSpec:
    required: Mapping[str, LabelSpec]
    optional: Mapping[str, LabelSpec] = field(default_factory=dict)


def _labels(*names: str, extras: tuple[str, ...] = (), counted: bool = False) -> dict[str, LabelSpec]:
    spec = LabelSpec(frozenset(extras), counted)
    return dict.fromkeys(names, spec)


_PLAIN = LabelSpec(plain=True)

# Placeholders every string of a template may use, filled from the snapshot (already formatted).
PLACEHOLDERS: Final = MappingProxyType({
    INDIVIDUAL: frozenset({"organisation", "body_name", "ref", "person", "state", "received_on", "generated_on",
                           "version", "mandates"}),
    COLLECTIVE: frozenset({"organisation", "body_name", "reference", "title", "state", "period", "period_start",
                           "period_end", "appeals_received", "complainants", "cities", "excluded", "torture_cases",
                           "named_count", "unnamed", "episodes", "generated_on", "version", "received_period",
                           "received_start", "received_end"}),
})

# Labels every template needs: the running header, the footer around the page number ({page}, required)
# and the number of pages ({pages}, for "page 2 of 5"), and fallbacks.
GLOBAL_LABELS: Final = MappingProxyType({
    "header": LabelSpec(),
    "footer": LabelSpec(frozenset({"page", "pages"})),
    "unknown": _PLAIN,
    "yes": _PLAIN,
    "no": _PLAIN,
})

# Needed by every block that prints facts: a fact nobody recorded prints "[To be completed: {what}]",
# where {what} is the label naming the fact.
_MISSING: Final = {"missing": LabelSpec(frozenset({"what"}))}

# Printed by free-text narrative blocks when the legal officer left the text empty.
_NARRATIVE = BlockSpec({"narrative_missing": LabelSpec()})

_SHARED: Final = {
    "rights_violated": BlockSpec({"grounds_none": LabelSpec(), "udhr": LabelSpec(frozenset({"articles"}))}),
    "mandates": BlockSpec({"mandates_intro": LabelSpec(), "mandates_none": LabelSpec()}),
}

_INDIVIDUAL_BLOCKS: Final = {
    **_SHARED,
    "victim": BlockSpec({
        **_MISSING,
        **_labels("name", "native_name", "birth_date", "age", "gender", "nationality", "city", "occupation",
                  "affiliation", "activity", "situation", "detained_now", "not_named"),
    }),
    "perpetrators": BlockSpec({
        **_MISSING,
        **_labels("perpetrators_none", "perpetrators_what", "perpetrator_unit", "perpetrator_position",
                  "perpetrator_name", "perpetrator_actions", "perpetrator_incidents", "perpetrator_no_incident"),
    }),
    "facts": BlockSpec({
        **_MISSING,
        **_labels("incidents_what", "date_unknown", "place_unknown", "incident_date", "incident_city",
                  "incident_place", "incident_perpetrators"),
        **_labels("facts_perpetrators", extras=("agencies",)),
        **_labels("facts_episode", extras=("episodes",)),
    }),
    "episodes": BlockSpec({**_labels("episodes_none"), **_labels("known_totals", extras=("totals",))}),
    # WGAD arrest and detention as labelled paragraphs ("Date of arrest: ..."), one per fact.
    "arrests": BlockSpec({
        **_MISSING,
        **_labels("arrests_none", "arrests_not_known", "arrests_what", "arrest_date", "arrest_place",
                  "arrest_forces", "arrest_warrant_shown", "arrest_warrant_issued_by", "arrest_reasons",
                  "arrest_legal_provision", "arrest_custody", "arrest_duration", "arrest_lawyer", "arrest_family",
                  "arrest_released_on", "arrest_release", "arrest_not_released"),
        **_labels("arrest_number", extras=("number",)),
    }),
    "ill_treatment": BlockSpec({
        **_MISSING,
        **_labels("ill_treatment_none", "ill_treatment_not_known", "ill_treatment_what", "ill_methods",
                  "ill_duration", "ill_effects", "ill_medical", "ill_complaints", "ill_outcome"),
        **_labels("ill_treatment_number", extras=("number", "date")),
    }),
    "domestic_remedies": BlockSpec({
        **_MISSING,
        **_labels("remedies_exhausted", extras=("date",)),
        **_labels("remedies_not_exhausted", "remedies_ineffective", "remedies_none", "remedy_steps_what",
                  "remedy_taken_on", "remedy_outcome", "remedy_decided_on", "remedy_final"),
    }),
    "other_procedures": BlockSpec({
        **_labels("other_none"),
        **_labels("other_pending", extras=("procedure",)),
        **_labels("other_concluded", extras=("procedure", "date")),
    }),
    "categories": BlockSpec(_labels("category_I", "category_II", "category_III", "category_IV", "category_V",
                                    "categories_none")),
    "consent": BlockSpec(_labels("consent_missing", "column_question", "column_answer", "consent_verified",
                                 "consent_government", "consent_public", "consent_initials", "consent_source",
                                 "consent_source_answer", "consent_anonymous", "consent_nondisclosure")),
    "request": BlockSpec(
        _labels("request", "request_urgent"),
        optional=_labels("request_urgent_appeal", "request_letter_of_allegation"),
    ),
    "submitter": BlockSpec({
        **_MISSING,
        **_labels("submitter_organisation", "submitter_address", "submitter_email", "submitter_phone",
                  "submitter_representative", "submitter_representative_title", "submitter_reference",
                  "submitter_date"),
    }),
    "signature": BlockSpec({
        **_MISSING, **_labels("signature_line", "signature_name", "signature_date", "submitter_representative"),
    }),
    "annexes": BlockSpec(_labels("annexes_none")),
    "eu_standing": BlockSpec({
        **_MISSING,
        **_labels("eu_nationality", "eu_status", "eu_status_citizen", "eu_status_resident", "eu_status_none",
                  "nationality"),
    }),
}

# The bar of a chart that sums what does not fit ("Others").
_CHART: Final = ("chart_others",)

_COLLECTIVE_BLOCKS: Final = {
    **_SHARED,
    # Figures go in a table ("Complainants: 129") so that no sentence has to agree a noun with a number.
    "summary": BlockSpec({**_NARRATIVE.required, **_labels("summary_figures", "figure_period", "figure_received",
                                                            "figure_appeals", "figure_complainants", "figure_cities",
                                                            "figure_episodes", "figure_torture")}),
    "legal_basis": _NARRATIVE,
    "context": _NARRATIVE,
    "methods": _NARRATIVE,
    "patterns": _NARRATIVE,
    "pressure_on_defenders": _NARRATIVE,
    "requests": _NARRATIVE,
    # Why appeals were left out: one row per reason (filings/snapshot.py EXCLUSION_REASONS) with its count.
    "signatories": BlockSpec(_labels("signatories_text", "excluded_text", "excluded_none", "column_reason",
                                     "column_appeals", *(f"reason_{r}" for r in EXCLUSION_REASONS), "cities_text",
                                     "column_city", "column_complainants", "total", "chart_cities", *_CHART)),
    "episodes": BlockSpec({
        **_labels("column_episode", "column_period", "column_known_totals", "column_complainants",
                  "episodes_overlap", "episodes_none", "chart_episodes", *_CHART),
        **_labels("episode_known_totals", extras=("totals",)),
        **_labels("episode_count", extras=("count",), counted=True),
    }),
    "incident_types": BlockSpec({
        **_labels("column_incident_type", "column_complainants", "incident_types_none", "chart_incident_types",
                  *_CHART),
        **_labels("torture_sentence", counted=True),
    }),
    "officials": BlockSpec(_labels("column_position", "column_agency", "column_official_name",
                                   "column_official_role", "officials_none")),
    "named_complainants": BlockSpec({**_labels("named_none"), **_labels("unnamed_sentence", counted=True)}),
}

BLOCKS: Final = MappingProxyType({
    INDIVIDUAL: MappingProxyType(_INDIVIDUAL_BLOCKS),
    COLLECTIVE: MappingProxyType(_COLLECTIVE_BLOCKS),
})

# A template with ``word_limit`` (the European Parliament's 500-word summaries) says when it shortened the
# facts to fit, so a reader never mistakes a clipped account for the whole of it.
BUDGET_LABELS: Final = MappingProxyType({
    "facts_shortened": LabelSpec(),
    "facts_omitted": LabelSpec(frozenset({"omitted"}), counted=True),
})
