"""Admissibility checks: what a body's rules say about a case, as blocking errors or warnings.

Pure functions over plain facts (no database), so each rule can be tested on both sides of its line. The
catalogue (workflow/bodies.py) says which rules a body applies and with which parameters; every rule may
also carry ``level`` ("error" blocks the body in a review, "warning" is shown and recorded). Sources:
shared/research/filing-bodies.md; the HRC time bar and ratione temporis are confirmed there, so they
block by default, while unconfirmed practice is only warned about.

Messages are English templates with ``%(name)s`` parameters: the web layer translates the template and
fills it in, and the review records both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from workflow.problems import N_, Problem
from workflow.states import EuStatus, OtherProcedure


@dataclass(frozen=True)
class CaseFacts:
    """What the rules read, gathered from the case, its consent record, incidents and legal facts."""

    consent_verified: bool = False
    consent_withdrawn: bool = False
    share_name_with_government: bool = False
    publish_name: bool = False
    anonymous: bool = False
    body_overrides: Mapping[str, str] = field(default_factory=dict)
    detained_now: bool = False
    torture_risk: bool = False
    deprived_of_liberty: bool = False
    incident_dates: tuple[date, ...] = ()
    state_code: str = "KZ"
    remedies_exhausted_on: date | None = None  # the legal officer's explicit date
    final_remedy_on: date | None = None  # the latest domestic remedy step marked final (``final_remedy_on``)
    remedies_ineffective: bool = False
    other_procedure: str = "none"  # none | pending | concluded
    other_procedure_name: str = ""
    other_procedure_concluded_on: date | None = None
    eu_status: str = "unknown"  # unknown | citizen | resident | none
    eu_subject: bool = False


@dataclass(frozen=True)
class Choices:
    """What the reviewer chose for the case (rules about the kind of communication read these)."""

    urgent: bool = False
    communication_type: str | None = None
    wgad_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    body: str
    rule: str
    level: str  # error | warning
    message: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.message % dict(self.params)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "params": dict(self.params), "text": self.text}


Rule = Callable[[str, Mapping[str, Any], tuple[str, ...], CaseFacts, Choices, date], list[tuple[str, str, dict]]]
WGAD_CATEGORIES = ("I", "II", "III", "IV", "V")
EU_STATUSES = EuStatus.codes()
OTHER_PROCEDURES = OtherProcedure.codes()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


# -- when domestic remedies were exhausted -----------------------------------------------------------------

@dataclass(frozen=True)
class Exhaustion:
    """The day remedies count as exhausted from, and what it was read from (``basis``): ``legal_facts`` (the
    date a legal officer entered) or ``remedy_steps`` (the latest step marked final)."""

    on: date
    basis: str


def final_remedy_on(steps: Iterable[Any]) -> date | None:
    """The latest remedy step marked final (``models.RemedyStep``): the day it was decided, else the day it was
    taken; None when no final step has a date."""
    days = [step.decided_on or step.taken_on for step in steps if step.final]
    return max((day for day in days if day is not None), default=None)


def exhaustion(explicit: date | None, final_on: date | None) -> Exhaustion | None:
    """The explicit date when the legal officer gave one (it may set aside a step's date on purpose), else the
    latest final step; None when neither is known."""
    if explicit is not None:
        return Exhaustion(explicit, "legal_facts")
    if final_on is not None:
        return Exhaustion(final_on, "remedy_steps")
    return None


def _exhausted(facts: CaseFacts) -> Exhaustion | None:
    return exhaustion(facts.remedies_exhausted_on, facts.final_remedy_on)


# Each rule returns (level, message, params) triples; ``level`` is its default, the catalogue may change it.

def _consent(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts, choices: Choices,
             today: date) -> list[tuple[str, str, dict]]:
    out: list[tuple[str, str, dict]] = []
    override = facts.body_overrides.get(code)
    if facts.consent_withdrawn:
        return [("error", N_("Consent was withdrawn: nothing may be filed."), {})]
    if override == "deny":
        out.append(("error", N_("The complainant excluded this body."), {}))
    if "verified" in required and not facts.consent_verified:
        out.append(("error", N_("Consent is not verified: the signed form of appeal and the power of attorney are "
                                "both needed."), {}))
    if "not_anonymous" in required and facts.anonymous:
        out.append(("error", N_("The complainant asked to stay anonymous, and this body does not consider "
                                "anonymous communications."), {}))
    if "share_name_with_government" in required and not facts.share_name_with_government and override != "allow":
        out.append(("error", N_("The complainant has not agreed that their name be sent to the government "
                                "concerned."), {}))
    if "publish_name" in required and not facts.publish_name and override != "allow":
        out.append(("error", N_("The complainant has not agreed that their name be made public."), {}))
    return out


def _communication_type(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts,
                        choices: Choices, today: date) -> list[tuple[str, str, dict]]:
    if choices.urgent and choices.communication_type == "letter_of_allegation":
        return [("warning", N_("The case is urgent, but a letter of allegation was chosen: an urgent appeal "
                               "reaches the government within days."), {})]
    if not choices.urgent and choices.communication_type == "urgent_appeal":
        return [("warning", N_("An urgent appeal is for violations that are ongoing or imminent; this case is not "
                               "marked urgent."), {})]
    return []


def _deprivation_of_liberty(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts,
                            choices: Choices, today: date) -> list[tuple[str, str, dict]]:
    out: list[tuple[str, str, dict]] = []
    if not (facts.deprived_of_liberty or facts.detained_now):
        out.append(("error", N_("No deprivation of liberty is recorded (a detention incident, detained now, or the "
                                "legal facts)."), {}))
    if not choices.wgad_categories:
        out.append(("error", N_("Choose the category of arbitrary detention (I to V)."), {}))
    return out


def _exhaustion(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts, choices: Choices,
                today: date) -> list[tuple[str, str, dict]]:
    done = _exhausted(facts)
    if done is None and facts.remedies_ineffective:
        return [("warning", N_("Domestic remedies are not exhausted; the case relies on their being ineffective or "
                               "unreasonably prolonged. Explain why in the notes."), {})]
    if done is None:
        return [("error", N_("Domestic remedies are not shown to be exhausted: enter the date of the final "
                             "decision in the legal facts."), {})]
    if done.on > today:
        message = (N_("The final domestic decision is dated in the future (%(date)s, the date in the legal facts).")
                   if done.basis == "legal_facts" else
                   N_("The final domestic decision is dated in the future (%(date)s, the latest remedy step marked "
                      "final)."))
        return [("error", message, {"date": done.on.isoformat(), "basis": done.basis})]
    return []


def _same_matter(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts, choices: Choices,
                 today: date) -> list[tuple[str, str, dict]]:
    if facts.other_procedure == "pending":
        return [("error", N_("The same matter is being examined under another international procedure "
                             "(%(procedure)s)."), {"procedure": facts.other_procedure_name or "-"})]
    return []


def _time_bar(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts, choices: Choices,
              today: date) -> list[tuple[str, str, dict]]:
    out: list[tuple[str, str, dict]] = []
    years = int(params.get("years_after_exhaustion", 5))
    done = _exhausted(facts)
    if done is not None and today > add_years(done.on, years):
        # The message names what the date was read from: the legal officer must know which date to question.
        message = (N_("More than %(years)s years have passed since domestic remedies were exhausted on %(date)s "
                      "(the date in the legal facts; last day %(limit)s): an abuse of the right of submission "
                      "unless justified.") if done.basis == "legal_facts" else
                   N_("More than %(years)s years have passed since domestic remedies were exhausted on %(date)s "
                      "(the latest remedy step marked final; last day %(limit)s): an abuse of the right of "
                      "submission unless justified."))
        out.append(("error", message, {"years": str(years), "date": done.on.isoformat(),
                                       "limit": add_years(done.on, years).isoformat(), "basis": done.basis}))
    other_years = int(params.get("years_after_other_procedure", 3))
    ended = facts.other_procedure_concluded_on
    if facts.other_procedure == "concluded" and ended is not None and today > add_years(ended, other_years):
        out.append(("error", N_("More than %(years)s years have passed since another international procedure "
                                "concluded on %(date)s (last day %(limit)s)."),
                    {"years": str(other_years), "date": ended.isoformat(),
                     "limit": add_years(ended, other_years).isoformat()}))
    return out


def _ratione_temporis(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts,
                      choices: Choices, today: date) -> list[tuple[str, str, dict]]:
    bound_from = params.get("bound_from", {})
    if facts.state_code not in bound_from:
        return [("warning", N_("No date is known from which the Optional Protocol binds %(state)s: add it to the "
                               "catalogue."), {"state": facts.state_code})]
    since = date.fromisoformat(bound_from[facts.state_code])
    if not facts.incident_dates:
        return [("warning", N_("No incident has a date, so events after %(since)s cannot be shown."),
                 {"since": since.isoformat()})]
    before = sorted(d for d in facts.incident_dates if d < since)
    if len(before) == len(facts.incident_dates):
        return [("error", N_("Every incident predates %(since)s, when the Optional Protocol began to bind "
                             "%(state)s (earliest %(earliest)s)."),
                 {"since": since.isoformat(), "state": facts.state_code, "earliest": before[0].isoformat()})]
    if before:
        return [("warning", N_("Some incidents predate %(since)s, when the Optional Protocol began to bind "
                               "%(state)s: only their continuing effects can be examined."),
                 {"since": since.isoformat(), "state": facts.state_code})]
    return []


def _eu_petitioner(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts,
                   choices: Choices, today: date) -> list[tuple[str, str, dict]]:
    if facts.eu_status in ("citizen", "resident"):
        return []
    return [("error", N_("A petition must come from an EU citizen or resident; the petitioner is recorded as "
                         "%(status)s."), {"status": facts.eu_status})]


def _eu_subject(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts, choices: Choices,
                today: date) -> list[tuple[str, str, dict]]:
    if facts.eu_subject:
        return []
    return [("error", N_("The subject is not recorded as falling within the European Union's fields of "
                         "activity."), {})]


def _public_petition(code: str, params: Mapping[str, Any], required: tuple[str, ...], facts: CaseFacts,
                     choices: Choices, today: date) -> list[tuple[str, str, dict]]:
    return [("warning", N_("Petitions become public documents: the petitioner's name may be published, and a "
                           "request for anonymity can be overridden by a request for access to documents."), {})]


RULES: dict[str, Rule] = {
    "communication_type": _communication_type,
    "deprivation_of_liberty": _deprivation_of_liberty,
    "exhaustion": _exhaustion,
    "same_matter": _same_matter,
    "time_bar": _time_bar,
    "ratione_temporis": _ratione_temporis,
    "eu_petitioner": _eu_petitioner,
    "eu_subject": _eu_subject,
    "public_petition": _public_petition,
}
# The parameters each rule takes besides ``level``: a check of each value, and what to say when it fails.
_STATE = re.compile(r"^[A-Z]{2}$")
YEARS = (1, 50)


@dataclass(frozen=True)
class Parameter:
    check: Callable[[Any], bool]
    problem: Problem


def _years(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and YEARS[0] <= value <= YEARS[1]


_YEARS = Parameter(_years, Problem("out_of_range", {"min": YEARS[0], "max": YEARS[1]}))
PARAMETERS: dict[str, dict[str, Parameter]] = {
    "time_bar": {"years_after_exhaustion": _YEARS, "years_after_other_procedure": _YEARS},
    "ratione_temporis": {"bound_from": Parameter(lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and _STATE.match(k) and _is_iso_date(d) for k, d in v.items()),
        Problem("bad_state_dates"))},
}


def _is_iso_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(date.fromisoformat(value))
    except ValueError:
        return False


def validate_rules(rules: Mapping[str, Any]) -> dict[str, Problem]:
    """What is wrong in a catalogue entry's ``rules`` (rule or ``rule.parameter`` -> problem); empty when usable."""
    errors: dict[str, Problem] = {}
    for name, params in rules.items():
        if name not in RULES:
            errors[name] = Problem("unknown_rule", {"rules": list(RULES)})
            continue
        if not isinstance(params, dict):
            errors[name] = Problem("not_object")
            continue
        checks = PARAMETERS.get(name, {})
        for key, value in params.items():
            if key == "level":
                if value not in ("error", "warning"):
                    errors[f"{name}.level"] = Problem("bad_level")
            elif key not in checks:
                errors[f"{name}.{key}"] = Problem("not_rule_parameter")
            elif not checks[key].check(value):
                errors[f"{name}.{key}"] = checks[key].problem
    return errors


def check(code: str, rules: Mapping[str, Any], required_consent: tuple[str, ...], facts: CaseFacts,
          choices: Choices, today: date) -> list[Finding]:
    """The findings of every rule the body applies, errors first.

    Consent is checked for every body whatever its rules say, and always blocks: without a verified form of
    appeal and power of attorney nothing may be filed, and no catalogue edit can make that a warning.
    """
    findings = [Finding(code, "consent", "error", message, values)
                for _, message, values in _consent(code, {}, ("verified", *required_consent), facts, choices, today)]
    for name, params in rules.items():
        rule = RULES.get(name)
        if rule is None:
            continue
        for level, message, values in rule(code, params, required_consent, facts, choices, today):
            findings.append(Finding(code, name, params.get("level", level), message, values))
    return sorted(findings, key=lambda f: f.level != "error")


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == "error"]
