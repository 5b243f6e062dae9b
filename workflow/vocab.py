"""Controlled vocabularies (DESIGN.md §3) as data: admins add, relabel, translate and retire terms.

Keys are stable codes stored on cases and in task data; they never change once created. A retired term
is no longer offered or accepted in new input, but old records keep it and still show its label. Every
change is an audit event naming the changed fields (values stay out of the log). ``petitio init`` seeds
the defaults below, adding what is missing and never overwriting an admin's edit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import audit
from workflow.errors import NotFound, ValidationFailed
from workflow.models import User, VocabularyTerm, utcnow
from workflow.problems import Problem
from workflow.schemas.catalogue import term_input
from workflow.session_cache import rows_of

# vocabulary -> ((key, {language: label}, extra), ...)
DEFAULTS: dict[str, tuple[tuple[str, dict[str, str], dict[str, Any]], ...]] = {
    "incident_type": (
        ("detention_at_rally", {"en": "Detention at a rally", "ru": "Задержание на акции"},
         {"deprivation_of_liberty": True}),
        ("preventive_detention", {"en": "Preventive detention", "ru": "Превентивное задержание"},
         {"deprivation_of_liberty": True}),
        ("interrogation", {"en": "Interrogation", "ru": "Допрос"}, {}),
        ("symbol_confiscation", {"en": "Confiscation of a symbol", "ru": "Изъятие символики"}, {}),
        ("criminal_prosecution_online_speech",
         {"en": "Prosecution for online speech", "ru": "Преследование за высказывания в интернете"}, {}),
        ("torture_ill_treatment", {"en": "Torture or ill-treatment", "ru": "Пытки или жестокое обращение"}, {}),
        ("punitive_psychiatry", {"en": "Punitive psychiatry", "ru": "Карательная психиатрия"},
         {"deprivation_of_liberty": True}),
        ("surveillance_threats", {"en": "Surveillance and threats", "ru": "Слежка и угрозы"}, {}),
        ("forced_renunciation", {"en": "Forced renunciation", "ru": "Принуждение к отречению"}, {}),
        ("search_and_seizure", {"en": "Search and seizure", "ru": "Обыск и изъятие"}, {}),
    ),
    "perpetrator_agency": (
        ("police", {"en": "Police", "ru": "Полиция"}, {}),
        ("national_security", {"en": "National security service", "ru": "Органы национальной безопасности"}, {}),
        ("anti_extremism_unit", {"en": "Anti-extremism unit", "ru": "Подразделение по противодействию экстремизму"},
         {}),
        ("investigators", {"en": "Investigative bodies", "ru": "Следственные органы"}, {}),
        ("prosecutor", {"en": "Prosecutor's office", "ru": "Прокуратура"}, {}),
        ("court", {"en": "Court", "ru": "Суд"}, {}),
        ("penitentiary", {"en": "Penitentiary service", "ru": "Уголовно-исполнительная система"}, {}),
        ("psychiatric_service", {"en": "Psychiatric service", "ru": "Психиатрическая служба"}, {}),
        ("local_authorities", {"en": "Local authorities", "ru": "Местные органы власти"}, {}),
        ("unknown", {"en": "Not identified", "ru": "Не установлено"}, {}),
    ),
    # ICCPR articles with the UDHR articles that carry the same right, for bodies that cite the UDHR.
    "legal_ground": (
        ("iccpr_7", {"en": "ICCPR art. 7 (torture, ill-treatment)", "ru": "МПГПП, ст. 7 (пытки, жестокое обращение)"},
         {"udhr": "5"}),
        ("iccpr_9", {"en": "ICCPR art. 9 (liberty)", "ru": "МПГПП, ст. 9 (свобода и личная неприкосновенность)"},
         {"udhr": "3, 9"}),
        ("iccpr_10", {"en": "ICCPR art. 10 (treatment in detention)",
                      "ru": "МПГПП, ст. 10 (обращение с лишёнными свободы)"}, {"udhr": "5"}),
        ("iccpr_14", {"en": "ICCPR art. 14 (fair trial)",
                      "ru": "МПГПП, ст. 14 (справедливое судебное разбирательство)"}, {"udhr": "10, 11"}),
        ("iccpr_17", {"en": "ICCPR art. 17 (privacy)", "ru": "МПГПП, ст. 17 (неприкосновенность частной жизни)"},
         {"udhr": "12"}),
        ("iccpr_19", {"en": "ICCPR art. 19 (expression)", "ru": "МПГПП, ст. 19 (свобода выражения мнений)"},
         {"udhr": "19"}),
        ("iccpr_21", {"en": "ICCPR art. 21 (assembly)", "ru": "МПГПП, ст. 21 (свобода мирных собраний)"},
         {"udhr": "20(1)"}),
        ("iccpr_22", {"en": "ICCPR art. 22 (association)", "ru": "МПГПП, ст. 22 (свобода ассоциации)"},
         {"udhr": "20, 23(4)"}),
        ("iccpr_25", {"en": "ICCPR art. 25 (public affairs)",
                      "ru": "МПГПП, ст. 25 (участие в ведении государственных дел)"}, {"udhr": "21"}),
        ("iccpr_26", {"en": "ICCPR art. 26 (equality)", "ru": "МПГПП, ст. 26 (равенство перед законом)"},
         {"udhr": "7"}),
    ),
    "mandate": (
        ("assembly", {"en": "Freedom of peaceful assembly", "ru": "Свобода мирных собраний"}, {}),
        ("expression", {"en": "Freedom of expression", "ru": "Свобода выражения мнений"}, {}),
        ("torture", {"en": "Torture", "ru": "Пытки"}, {}),
        ("defenders", {"en": "Human rights defenders", "ru": "Правозащитники"}, {}),
    ),
    # Cities as the documents write them in each language (workflow/place_names.py): admins add one term per
    # city (key "almaty", labels {"en": "Almaty", "ru": "Алматы"}); a city typed at intake matches a term by
    # any of its labels. None are seeded: the organisation knows where its complainants live.
    "city": (),
}
VOCABULARIES = tuple(DEFAULTS)
# The seeded incident types (demo data and fixtures use them; input is checked against the database).
INCIDENT_TYPES = tuple(key for key, _, _ in DEFAULTS["incident_type"])


def seed(session: Session) -> int:
    """Add the default terms that are missing; returns how many were added."""
    have = {(v, k) for v, k in session.execute(select(VocabularyTerm.vocabulary, VocabularyTerm.key))}
    added = 0
    for vocabulary, terms in DEFAULTS.items():
        for position, (key, labels, extra) in enumerate(terms):
            if (vocabulary, key) not in have:
                session.add(VocabularyTerm(vocabulary=vocabulary, key=key, labels=dict(labels), extra=dict(extra),
                                           position=position, active=True))
                added += 1
    session.flush()
    return added


def terms(session: Session, vocabulary: str, *, include_retired: bool = False) -> list[VocabularyTerm]:
    _known(vocabulary)
    found = [term for term in rows_of(session, VocabularyTerm)  # every vocabulary, read once a transaction
             if term.vocabulary == vocabulary and (include_retired or term.active)]
    return sorted(found, key=lambda term: (term.position, term.key))


def keys(session: Session, vocabulary: str) -> tuple[str, ...]:
    """The keys new input may use (active terms), in display order."""
    return tuple(t.key for t in terms(session, vocabulary))


def labels(session: Session, vocabulary: str, language: str) -> dict[str, str]:
    """Key -> label in ``language`` (English, then the key, when a translation is missing), retired included."""
    return {t.key: label_of(t, language) for t in terms(session, vocabulary, include_retired=True)}


def label_of(term: VocabularyTerm, language: str) -> str:
    return term.labels.get(language) or term.labels.get("en") or term.key.replace("_", " ")


def add_term(session: Session, actor: User, vocabulary: str, key: Any, labels: Any,
             extra: Any = None) -> VocabularyTerm:
    """A new term (checked by ``schemas.catalogue.TermInputSchema``); its key never changes afterwards."""
    _known(vocabulary)
    clean = term_input(vocabulary, {"key": key, "labels": labels, "extra": extra or {}}, new=True)
    if session.scalar(select(VocabularyTerm.id).where(VocabularyTerm.vocabulary == vocabulary,
                                                     VocabularyTerm.key == clean["key"])):
        raise ValidationFailed("the term has errors", errors={"key": Problem("term_key_taken")})
    last = session.scalar(select(VocabularyTerm.position).where(VocabularyTerm.vocabulary == vocabulary)
                          .order_by(VocabularyTerm.position.desc()).limit(1))
    term = VocabularyTerm(vocabulary=vocabulary, key=clean["key"], labels=clean["labels"],
                          extra=clean.get("extra", {}), position=(last or 0) + 1, active=True, updated_at=utcnow(),
                          updated_by_id=actor.id)
    session.add(term)
    session.flush()
    audit(session, actor, "term_added", "vocabulary_term", f"{vocabulary}:{term.key}", None,
          {"vocabulary": vocabulary, "key": term.key, "fields": sorted(_state(term))})
    return term


def update_term(session: Session, actor: User, vocabulary: str, key: str, **changes: Any) -> VocabularyTerm:
    """Relabel, retranslate, retire or restore a term (``labels``, ``extra``, ``active``); the key never changes."""
    term = get_term(session, vocabulary, key)
    clean = term_input(vocabulary, changes, new=False)
    before = _state(term)
    for name, value in clean.items():
        setattr(term, name, value)
    after = _state(term)
    if after != before:
        term.updated_at = utcnow()
        term.updated_by_id = actor.id
        changed = sorted(k for k in after if after[k] != before[k])
        audit(session, actor, "term_changed", "vocabulary_term", f"{vocabulary}:{key}", None,
              {"vocabulary": vocabulary, "key": key, "fields": changed})  # names only: labels are free text
    session.flush()
    return term


def get_term(session: Session, vocabulary: str, key: str) -> VocabularyTerm:
    _known(vocabulary)
    term = session.scalar(select(VocabularyTerm).where(VocabularyTerm.vocabulary == vocabulary,
                                                       VocabularyTerm.key == key))
    if term is None:
        raise NotFound(f"vocabulary {vocabulary} has no term {key!r}")
    return term


def _known(vocabulary: str) -> None:
    if vocabulary not in DEFAULTS:
        raise NotFound(f"no vocabulary {vocabulary!r}; known: {', '.join(VOCABULARIES)}")


def _state(term: VocabularyTerm) -> dict[str, Any]:
    return {"labels": dict(term.labels), "extra": dict(term.extra), "active": term.active}
