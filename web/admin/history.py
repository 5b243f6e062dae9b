"""The change history of a catalogue entry or a term: who, when, which field, before -> after."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from web.translate import gettext as _
from web.translate import lazy_gettext as _l
from workflow.models import AuditEvent

ACTION_NAMES = {"body_changed": _l("Entry changed"), "term_added": _l("Term added"), "term_changed": _l("Term changed")}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ChangeEntry:
    at: datetime
    actor: str
    action: str
    changes: list[Change]


def _name(names: Mapping[str, Any], code: str) -> str:
    found = names.get(code)
    return str(found) if found is not None else code.replace("_", " ")


def _shown(value: Any) -> str:
    if value is None or value in ("", [], {}):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):  # names, labels, rules: the stored value, exactly
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def change_entries(events: Iterable[AuditEvent], field_names: Mapping[str, Any]) -> list[ChangeEntry]:
    entries = []
    for event in events:
        data = event.data or {}
        before, after = data.get("before") or {}, data.get("after") or {}
        changed = data.get("fields") or sorted(after)  # a change names its fields; an addition has only the new state
        who = event.actor.display_name if event.actor else _("Petitio (automatic)")
        entries.append(ChangeEntry(event.at, who, _name(ACTION_NAMES, event.action),
                                   [Change(_name(field_names, n), _shown(before.get(n)), _shown(after.get(n)))
                                    for n in changed]))
    return entries
