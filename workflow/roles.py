"""Who may do what: the roles and every set of roles a rule names, defined once.

The services enforce these sets; the web layer imports the same names for its route declarations
(``@roles(*DOCUMENT_READERS)``), so a page and the service behind it cannot disagree.
"""

from __future__ import annotations

from workflow.problems import N_
from workflow.states import Titled


class Role(Titled):
    INTAKE = "intake", N_("Intake")
    LEGAL = "legal", N_("Legal")
    MANAGER = "manager", N_("Manager")
    ADMIN = "admin", N_("Admin")


ALL_STAFF = (Role.INTAKE, Role.LEGAL, Role.MANAGER, Role.ADMIN)
# Admins manage accounts, the catalogue and the processes, and do no casework.
CASEWORK = (Role.INTAKE, Role.LEGAL, Role.MANAGER)

# Least privilege on documents: the people who collect and use them open them; managers see their metadata.
DOCUMENT_UPLOADERS = (Role.INTAKE, Role.LEGAL)
DOCUMENT_READERS = (Role.INTAKE, Role.LEGAL)
# The forms the complainant signs carry every identity field: intake prepares them.
SIGNATURE_FORM_MAKERS = (Role.INTAKE,)
APPEAL_REGISTRARS = (Role.INTAKE,)
# Episodes arrive with the appeals (intake) or are named by the managers who plan the collective complaints.
EPISODE_EDITORS = (Role.INTAKE, Role.MANAGER)
# Who corrects an appeal after intake: intake the complainant's details (they hold every identity field), legal
# officers also the facts they review.
APPEAL_EDITORS = (Role.INTAKE,)
CASE_FACT_EDITORS = (Role.INTAKE, Role.LEGAL)
# The facts the filing bodies ask for (the person's facts, perpetrators, incidents, arrests, ill-treatment, remedy
# steps: services/facts.py) follow the case's facts: intake and legal officers record them, managers read the rows
# (they approve what is filed) and the person's facts as PERSON_FIELDS_BY_ROLE allows.
FILING_FACT_EDITORS = CASE_FACT_EDITORS
FILING_FACT_READERS = CASEWORK
APPEAL_IMPORTERS = (Role.INTAKE, Role.MANAGER)  # "Import appeals" (managers may import a spreadsheet too)
CONSENT_EDITORS = (Role.INTAKE, Role.LEGAL)
# The lane of ``verify_consent`` in bpmn/case.bpmn: the consent queue is theirs.
CONSENT_VERIFIERS = (Role.INTAKE,)
CONSENT_WITHDRAWERS = CASEWORK
LEGAL_FACT_EDITORS = (Role.LEGAL,)
LEGAL_FACT_READERS = (Role.LEGAL, Role.MANAGER)
RESPONSE_RECORDERS = (Role.INTAKE, Role.LEGAL)
# A reply to a body's request for information is marked sent by the people who answer for it.
DEADLINE_CLOSERS = (Role.LEGAL, Role.MANAGER)
FILING_BUNDLE_READERS = (Role.INTAKE, Role.LEGAL)
# Managers approve collective complaints and read them; individual filings name a person, which managers
# otherwise see only by reference and city (the service refuses them the individual ones).
FILING_READERS = (Role.INTAKE, Role.LEGAL, Role.MANAGER)
COLLECTIVE_READERS = (Role.MANAGER,)  # besides FILING_BUNDLE_READERS: the complaints they approve
COLLECTIVE_CREATORS = (Role.LEGAL,)
# The lawyer's final word: a legal officer uploads the edited version of a filing, or changes a draft's language.
FILING_EDITORS = (Role.LEGAL,)
# Legal officers answer for most deadlines (reviews, checks, follow-ups), so they see the board too.
BOARD_READERS = (Role.MANAGER, Role.LEGAL)
STATISTICS_READERS = (Role.MANAGER,)
ADMINS = (Role.ADMIN,)
# The organisation's profile: the filings show it (legal officers prepare them, managers approve them).
ORGANISATION_READERS = (Role.LEGAL, Role.MANAGER, Role.ADMIN)
ORGANISATION_EDITORS = ADMINS
# Who must pass a second factor (TOTP or a recovery code) at sign-in: everyone whose account can read legal facts,
# approve filings or manage accounts. Intake may enrol and may switch it off again.
SECOND_FACTOR_REQUIRED = (Role.LEGAL, Role.MANAGER, Role.ADMIN)

# The command line on the server itself reads as the operator, whose user can read the database anyway.
OPERATOR = "operator"
IDENTITY_FIELDS = frozenset({"full_name", "full_name_native", "birth_date", "phone", "email", "passport_number",
                             "address"})
# The person's facts a filing states beyond the name (workflow/facts.py PERSON_FACTS): who records them reads them.
_PERSON_FACT_FIELDS = ("nationality", "age", "activity", "situation")
_EVERY_PERSON_FIELD = ("full_name", "full_name_native", "gender", "birth_date", "phone", "email", "passport_number",
                       "address", "occupation", "organisation", "city", *_PERSON_FACT_FIELDS)
# Intake registers people; legal officers need what a filing needs; managers see the case through its
# reference and city only; admins see no case.
PERSON_FIELDS_BY_ROLE: dict[str, tuple[str, ...]] = {
    Role.INTAKE: _EVERY_PERSON_FIELD,
    Role.LEGAL: ("full_name", "full_name_native", "gender", "birth_date", "occupation", "organisation", "city",
                 *_PERSON_FACT_FIELDS),
    Role.MANAGER: ("city",),
    OPERATOR: _EVERY_PERSON_FIELD,
}
# Legal facts carry no identity field: intake has no use for them (least privilege).
LEGAL_FACT_VIEWERS = frozenset({*LEGAL_FACT_READERS, OPERATOR})


def person_fields(role: str) -> tuple[str, ...]:
    return PERSON_FIELDS_BY_ROLE.get(role, ())


def second_factor_required(role: str) -> bool:
    return role in SECOND_FACTOR_REQUIRED


def sees_names(role: str) -> bool:
    """Whether the role reads complainants' names (and so the file names people type, which often carry them)."""
    return "full_name" in person_fields(role)
