"""A ``Problem`` (code and parameters, ``workflow/problems.py``) as a sentence in the user's language.

Services say what is wrong as data; this is the one place the pages turn that into words. Each code's English
template is translated with Flask-Babel and filled in; parameters that are codes (bodies, consent choices) are
named in words; a few problems that name bodies get a sentence of their own that points to the page around them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from web.labels import label, task_name
from web.translate import gettext as _
from workflow.problems import SEVERAL, Problem

# Parameters whose values are codes of a label group: shown as words.
PARAMETER_GROUPS = {"bodies": "body", "flags": "permission", "lane": "role", "sections": "collective_section",
                    "section": "collective_section"}


def message(problem: Problem) -> str:
    """The problem as a sentence (capitalised, with a full stop) in the user's language."""
    if problem.code == SEVERAL:
        return " ".join(message(part) for part in problem.params["parts"])
    return sentence(phrase(problem))


def phrase(problem: Problem) -> str:
    """The problem's words in the user's language, as they go inside a sentence."""
    render = RENDERERS.get(problem.code)
    return render(problem) if render is not None else _(problem.template, **_words(problem.params))


def messages_of(problem: Problem) -> list[str]:
    """A problem as one sentence each for itself or for each of its parts."""
    if problem.code == SEVERAL:
        return [m for part in problem.params["parts"] for m in messages_of(part)]
    return [message(problem)]


def _words(params: Mapping[str, Any]) -> dict[str, Any]:
    words: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Problem):
            words[name] = phrase(value)
        elif isinstance(value, list | tuple):
            group = PARAMETER_GROUPS.get(name)
            words[name] = ", ".join(label(group, v) if group else str(v) for v in value)
        else:
            words[name] = value
    return words


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else f"{text}."


def _bodies(problem: Problem) -> str:
    return ", ".join(label("body", code) for code in problem.params.get("bodies", ()))


RENDERERS: dict[str, Callable[[Problem], str]] = {
    # A review refused because a body cannot take the case: the bodies by name, pointing to the admissibility
    # table above the form, which has every reason in words.
    "bodies_blocked": lambda p: _("%(bodies)s cannot take this case: see the admissibility checks above.",
                                  bodies=_bodies(p)),
    # Problems of a bulk action's items that name a step or a team by its code: named in words.
    "four_eyes": lambda p: _(p.template, task=task_name(str(p.params.get("task", "")))),
    "not_this_task": lambda p: _(p.template, found=task_name(str(p.params.get("found", ""))),
                                 task=task_name(str(p.params.get("task", "")))),
    "not_your_lane": lambda p: _(p.template, lane=label("role", p.params.get("lane"))),
    "filing_frozen": lambda p: _(p.template, state=label("filing_state", p.params.get("state")).lower()),
    "bodies_blocked_since_review": lambda p: _(
        "The case changed since the review: %(bodies)s can no longer take it. Return it to the reviewer.",
        bodies=_bodies(p)),
}


def put_on_form(form: Any, errors: Mapping[str, Problem], *, fields: Mapping[str, str] | None = None,
                default: str | None = None) -> list[str]:
    """Put each problem next to the WTForms control it names: ``fields`` maps a service's field name to the form's;
    a dotted name is followed into sub-forms (``rules.time_bar.level``) as far as it goes, and a sub-form takes
    it on its first control. A name that reaches no control goes to ``default`` (when given); the sentences of
    the rest are returned."""
    left = []
    for name, problem in errors.items():
        control = _control(form, (fields or {}).get(name, name))
        if control is None and default is not None:
            control = _control(form, default)
        if control is None:
            left.extend(messages_of(problem))
        else:
            control.errors = [*control.errors, *messages_of(problem)]
    return left


def _control(form: Any, path: str) -> Any:
    """The deepest control a dotted path reaches (None when not even its first part is a control)."""
    node = None
    for part in path.split("."):
        try:
            node = (node if node is not None else form)[part]
        except (KeyError, TypeError):
            break
    while node is not None and hasattr(node, "form") and hasattr(node.form, "_fields"):  # a sub-form
        node = next(iter(node.form))
    return node


def by_field(errors: Mapping[str, Problem], names: Iterable[str] | None = None) -> dict[str, str]:
    """field -> sentence, for pages that draw their own controls (``names``: keep only these fields)."""
    wanted = set(names) if names is not None else None
    return {name: message(problem) for name, problem in errors.items() if wanted is None or name in wanted}
