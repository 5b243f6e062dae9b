"""What is wrong with an input, as data: a code and its parameters, never a sentence to be parsed.

Services raise ``ValidationFailed`` with ``{field: Problem}``. Each code has one English template here,
marked with ``N_`` so that ``make i18n`` extracts it: the command line and the API show the English text
(``Problem.text``), the pages translate the same template in the user's language (``web/messages.py``).
A template's parameters are ``%(name)s`` placeholders filled from ``Problem.params``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Mark a template for extraction; it is translated where it is shown, not here."""
    return message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field: a code and its parameters.

    Not a tuple on purpose: marshmallow would spread a tuple's items into separate messages.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return MESSAGES[self.code]

    @property
    def text(self) -> str:
        """The English sentence, for the command line, the API and logs."""
        if self.code == SEVERAL:
            return "; ".join(part.text for part in self.params["parts"])
        return self.template % fill(self.params) if self.params else self.template

    def __str__(self) -> str:
        return self.text


SEVERAL = "several"  # one field, several problems: params["parts"] holds them, shown joined by "; "


def several(parts: Iterable[Problem]) -> Problem:
    found = tuple(parts)
    return found[0] if len(found) == 1 else Problem(SEVERAL, {"parts": found})


def fill(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as an English template shows them: lists joined with commas, a nested problem as its text."""
    return {k: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v for k, v in params.items()}


def in_file(name: str, problem: Problem) -> Problem:
    """A problem with a named file (an import's document): "name: problem"."""
    return Problem("in_file", {"name": name, "problem": problem})


def to_data(problem: Problem) -> dict[str, Any]:
    """A problem as JSON-ready data (nested problems too), to store with a job item; ``from_data`` reverses it."""
    def value(v: Any) -> Any:
        if isinstance(v, Problem):
            return {"problem": to_data(v)}
        if isinstance(v, list | tuple):
            return [value(x) for x in v]
        return v
    return {"code": problem.code, "params": {k: value(v) for k, v in problem.params.items()}}


def from_data(data: Mapping[str, Any]) -> Problem:
    def value(v: Any) -> Any:
        if isinstance(v, Mapping) and set(v) == {"problem"}:
            return from_data(v["problem"])
        if isinstance(v, list):
            items = [value(x) for x in v]
            return tuple(items) if items and all(isinstance(x, Problem) for x in items) else items
        return v
    code = data.get("code")
    if code not in MESSAGES:
        return Problem("invalid")
    return Problem(code, {k: value(v) for k, v in (data.get("params") or {}).items()})


MESSAGES: dict[str, str] = {
    SEVERAL: "%(parts)s",
    # -- any field -------------------------------------------------------------------------------------
    "required": N_("is required"),
    "unknown_field": N_("is not a field of this form"),
    "invalid": N_("is not valid"),
    "not_boolean": N_("must be true or false"),
    "not_text": N_("must be text"),
    "not_number": N_("must be a number"),
    "not_whole_number": N_("must be a whole number"),
    "not_list": N_("must be a list"),
    "not_object": N_("must be an object"),
    "too_long": N_("must be text of at most %(max)s characters"),
    "too_short": N_("must have at least %(min)s characters"),
    "too_many": N_("at most %(max)s"),
    "too_few": N_("give at least %(min)s"),
    "out_of_range": N_("must be from %(min)s to %(max)s"),
    "not_one_of": N_("must be one of %(choices)s"),
    "inactive_incident_type": N_("not an active incident type; one of: %(choices)s"),
    "unknown_keys": N_("unknown: %(keys)s"),
    "inactive_mandates": N_("only active mandates can be chosen; not active: %(keys)s"),
    "not_date": N_("must be a date (YYYY-MM-DD or DD.MM.YYYY)"),
    "future_date": N_("cannot be in the future"),
    "not_email": N_("is not an e-mail address such as name@example.org"),
    "unknown_timezone": N_("is not a time zone; choose one such as Asia/Almaty"),
    "not_json": N_("is not valid JSON"),
    "json_expected": N_("send JSON with Content-Type: application/json"),
    "missing_column": N_("required column is missing"),
    "in_file": N_("%(name)s: %(problem)s"),
    "on_line": N_("line %(line)s: %(problem)s"),
    "already_exists": N_("already exists"),
    "control_characters": N_("must not contain control characters (an invisible one is at character "
                             "%(position)s)"),
    "invalid_text": N_("is not valid text: it holds a broken character (a lone surrogate)"),
    "changed_since_opened": N_("the case changed since this form was opened: nothing was saved"),
    "case_ended": N_("the case has ended: its record stays as it was"),
    # -- appeals ---------------------------------------------------------------------------------------
    "bad_reference": N_("use up to 40 letters, digits, dashes or underscores"),
    "no_incident_type": N_("give at least one incident type"),
    "unknown_episodes": N_("unknown episode %(keys)s"),
    "unknown_incident_types": N_("unknown incident type %(keys)s"),
    "unknown_perpetrator_agencies": N_("unknown perpetrator agency %(keys)s"),
    "not_yes_no": N_("must be yes or no"),
    "upload_separately": N_("upload the document to the case after creating it"),
    "duplicate_ref": N_("%(ref)s is also the ref of row %(row)s"),
    "extra_cells": N_("%(count)s more cell(s) than the header has columns (an unquoted comma?)"),
    "duplicate_episode_key": N_("%(key)s is also the key of row %(row)s"),
    "end_before_start": N_("is before start_date"),
    # -- documents -------------------------------------------------------------------------------------
    "file_empty": N_("file is empty"),
    "content_missing": N_("the stored file is missing; an administrator can restore it from a backup"),
    "not_file": N_("must be a file, sent as multipart/form-data"),
    "file_too_large": N_("file is %(size)s, over the %(limit)s limit"),
    "extension_refused": N_("files ending in %(extension)s are not accepted (allowed: %(allowed)s)"),
    "unknown_content": N_("content is not a PDF, JPEG, PNG or DOCX"),
    "docx_malformed": N_("DOCX is malformed"),
    "docx_too_many_entries": N_("DOCX has more than %(max)s entries (zip bomb?)"),
    "docx_too_large": N_("DOCX expands to more than %(size)s (zip bomb?)"),
    "docx_compressed": N_("DOCX entry %(entry)s is compressed more than %(ratio)s:1 (zip bomb?)"),
    "docx_size_lies": N_("DOCX entry %(entry)s holds more than its declared size (zip bomb?)"),
    "name_mismatch": N_("content is a %(type)s but the name says %(extension)s"),
    "no_documents_folder": N_("names a document, but no documents folder was given (--documents)"),
    "document_path": N_("give a plain file name inside the documents folder, not a path"),
    "document_outside": N_("the file is outside the documents folder"),
    "document_missing": N_("no such file in the documents folder"),
    "document_unreadable": N_("cannot read the file (%(reason)s)"),
    "document_not_on_case": N_("the case has no such document"),
    # -- a filing's versions (the lawyer's final word, its language) ------------------------------------------
    "filing_version_type": N_("upload the edited filing as a .docx or PDF file"),
    "filing_frozen": N_("the filing is %(state)s: the version approved is the one that goes out"),
    "filing_not_in_check": N_("the filing is not waiting for its legal check: a version can be added only then"),
    "collective_language": N_("a collective complaint's language is chosen when it is opened"),
    # -- the consent queue's bulk request of missing documents ---------------------------------------------
    "task_no_longer_ready": N_("this task is no longer waiting (someone completed it)"),
    # -- jobs -------------------------------------------------------------------------------------------------
    "item_failed": N_("an internal error stopped this item; it was left as it was"),
    "consent_documents_on_file": N_("both documents are on file now: verify them in the consent queue"),
    "document_not_uploaded": N_("no such file among the uploaded documents"),
    # -- import uploads (the pages) ----------------------------------------------------------------------
    "import_file_type": N_("choose a .csv or .xlsx file"),
    "zip_unreadable": N_("%(name)s is not a readable zip archive"),
    "zip_too_many_entries": N_("%(name)s holds more than %(max)s files"),
    "zip_too_large": N_("%(name)s expands to more than %(limit)s"),
    "zip_compressed": N_("%(name)s: %(entry)s is compressed more than %(ratio)s times (a zip bomb?)"),
    "zip_entry_path": N_("%(name)s: %(entry)s points outside the archive"),
    "zip_entry_too_large": N_("%(name)s: %(entry)s is over the %(limit)s limit for one document"),
    "duplicate_document_name": N_("two uploaded documents are named %(file)s"),
    "nothing_to_import": N_("no row of the file can be imported"),
    "staging_gone": N_("this upload has expired or was already imported; upload the files again"),
    # -- tasks -----------------------------------------------------------------------------------------
    "reject_reason_missing": N_("give the reason for rejecting the case"),
    "return_reason_missing": N_("say what is missing"),
    "approval_return_notes_missing": N_("tell the reviewer what to change"),
    "mandates_need_un_sp": N_("mandates apply only to a filing with un_sp"),
    "mandate_missing": N_("choose at least one Special Procedures mandate"),
    "communication_type_scope": N_("applies only to the Special Procedures and the WGAD"),
    "wgad_categories_scope": N_("categories apply only to a filing with un_wgad"),
    "four_eyes": N_("four eyes: you did the step this one checks (%(task)s), so another person must do it"),
    # -- bulk actions ----------------------------------------------------------------------------------
    "nothing_selected": N_("select at least one task"),
    "too_many_selected": N_("at most %(max)s tasks at once"),
    "not_this_task": N_("this is a %(found)s task, not %(task)s"),
    "task_not_ready": N_("the task is no longer waiting (someone completed it first)"),
    "task_not_found": N_("no such task"),
    "not_your_lane": N_("this task is for the %(lane)s team"),
    # Named in English by their details; the pages word these themselves (web/messages.py).
    "bodies_blocked": "%(details)s",
    "bodies_blocked_since_review": "%(details)s",
    # -- legal facts and consent -----------------------------------------------------------------------
    "bad_state_code": N_("must be a two-letter country code (ISO 3166-1)"),
    "other_procedure_date_missing": N_("give the date the other procedure concluded"),
    "other_procedure_name_missing": N_("name the other procedure"),
    "unknown_body": N_("unknown body"),
    "anonymous_excludes": N_("fully anonymous excludes: %(flags)s"),
    "anonymous_excludes_naming": N_("fully anonymous excludes naming the person to %(bodies)s"),
    # -- collective complaints -------------------------------------------------------------------------
    "no_collective_template": N_("no collective complaint template in %(language)s (available: %(available)s)"),
    "mandates_need_un_sp_body": N_("mandates apply only to the UN Special Procedures (un_sp)"),
    "not_a_section": N_("not a section (sections: %(sections)s)"),
    "official_position_missing": N_("give the official's position"),
    "no_cases": N_("give the references of the cases to include"),
    "unknown_cases": N_("unknown: %(refs)s"),
    "cases_without_consent": N_("no verified consent: %(refs)s"),
    "cases_without_review": N_("no approved review: %(refs)s"),
    "approver_reviewed_cases": N_("four eyes: you reviewed %(refs)s, so another manager must approve"),
    "sections_unfinished": N_("these sections still say they are to be completed: %(sections)s; write them "
                              "first"),
    "section_unfinished": N_("this section still says it is to be completed (%(section)s)"),
    "collective_text_locked": N_("the complaint's text can be rewritten only while its check is waiting; a "
                                 "manager sends it back to be revised"),
    # -- the catalogue and the vocabularies ------------------------------------------------------------
    "english_name_missing": N_("an English name is required"),
    "not_ui_language": N_("not a UI language (%(languages)s)"),
    "days_out_of_range": N_("must be a whole number of days from 1 to %(max)s"),
    "no_language": N_("a body accepts at least one language"),
    "unknown_rule": N_("unknown rule; known: %(rules)s"),
    "not_rule_parameter": N_("not a parameter of this rule"),
    "bad_level": N_("must be error or warning"),
    "bad_state_dates": N_("give each state's two-letter code and a date (YYYY-MM-DD), e.g. KZ 2009-09-30"),
    "bad_key": N_("use 1 to 80 lower-case letters, digits, hyphens or underscores, starting with a letter or digit"),
    "term_key_taken": N_("this vocabulary already has that key"),
    "english_label_missing": N_("an English label is required"),
    # -- work queues -----------------------------------------------------------------------------------
    "task_held": N_("%(user)s holds this task: they or a manager must release it first"),
    "task_other_lane": N_("this task is for the %(lane)s team"),
    "assignee_not_in_lane": N_("choose an active member of the %(lane)s team"),
    "assignee_four_eyes": N_("four eyes: this person did the step this one checks"),
    "release_not_holder": N_("only the person holding the task or a manager can release it"),
    # -- repair of process instances ------------------------------------------------------------------
    "not_a_reset_target": N_("choose a step of this instance that ran or failed"),
    # -- users -----------------------------------------------------------------------------------------
    "bad_username": N_("use 2-80 lower-case letters, digits, dots, dashes or underscores"),
    "username_taken": N_("already taken"),
    "own_admin_role": N_("you cannot remove your own admin role: ask another admin"),
    "own_account": N_("you cannot deactivate yourself: ask another admin"),
    "account_inactive": N_("reactivate the account first"),
    "weak_password": N_("too easy to guess: use a longer phrase of several unrelated words, without your name "
                        "or username"),
    "wrong_password": N_("this is not your current password"),
    "same_password": N_("choose a password different from the current one"),
    "passwords_differ": N_("the two new passwords differ"),
    # -- the facts for the filings (schemas/facts.py, services/facts.py) ----------------------------------------
    "not_markable": N_("cannot be marked not known: %(names)s (these can: %(choices)s)"),
    "known_and_unknown": N_("is given and marked not known: clear one of them"),
    "not_on_case": N_("not of this case: %(ids)s"),
    "inactive_agency": N_("not an active perpetrator agency; one of: %(choices)s"),
    "before_start": N_("cannot be earlier than the date it follows"),
    "intake_incident": N_("the incident recorded at intake stays; correct it instead"),
    # -- the second factor (services/two_factor.py) --------------------------------------------------------------
    "wrong_code": N_("is not a current code of your authenticator app nor an unused recovery code"),
    "too_many_codes": N_("too many wrong codes: wait %(minutes)s minutes and sign in again"),
    "second_factor_required": N_("your role requires a second factor: it cannot be switched off"),
    "no_second_factor": N_("no second factor is set up"),
    "second_factor_exists": N_("a second factor is already set up"),
    "security_key_refused": N_("the security key's answer was refused: try again"),
    # -- moving running instances to another process version (services/process_migration.py) -----------------
    "task_removed": N_("the case stands at step %(task)s, which the new version does not have"),
    "history_removed": N_("the case went through step %(task)s, which the new version does not have"),
    "subprocess_removed": N_("process %(task)s runs for this case and the new version does not have it"),
    "changed_under_way": N_("step %(task)s is under way and the new version changes its %(attribute)s"),
    "form_incompatible": N_("the new form of step %(task)s does not accept its field %(field)s"),
}
