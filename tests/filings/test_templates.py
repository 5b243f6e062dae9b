"""The template files: every shipped template loads, and a broken one fails at load time with a clear message."""

from __future__ import annotations

import pytest

from filings.collective import COLLECTIVE_BUILDERS
from filings.elements import ItemList, Text, clip, paragraphs
from filings.formal_blocks import INDIVIDUAL_BUILDERS
from filings.schema import BLOCKS, COLLECTIVE, INDIVIDUAL
from filings.wording import TemplateError, languages, load, parse
from tests.filings.samples import BODIES, BODY_LANGUAGES

MINIMAL = '''
title = "To {body_name}"
intro = "From {organisation}."

[[sections]]
heading = "Request"
blocks = ["request"]

[labels]
header = "{ref}"
footer = "page {page}"
unknown = "?"
yes = "Yes"
no = "No"
request = "Please act."
request_urgent = "Now."
'''


def parse_individual(source: str):  # type: ignore[no-untyped-def]
    return parse(source, kind=INDIVIDUAL, body="test", language="en", origin="test.toml")


def test_every_shipped_template_loads() -> None:
    shipped = [(body, language) for body in BODIES for language in languages(body)]
    assert sorted(shipped) == sorted(BODY_LANGUAGES)
    for body, language in shipped:
        template = load(body, language)
        assert template.kind == INDIVIDUAL and template.sections
    assert languages(COLLECTIVE) == ("en", "ru")
    assert all(load(COLLECTIVE, language).kind == COLLECTIVE for language in ("en", "ru"))


def test_loading_is_cached() -> None:
    assert load("un_sp", "en") is load("un_sp", "en")


def test_every_block_has_a_builder() -> None:
    assert set(INDIVIDUAL_BUILDERS) == set(BLOCKS[INDIVIDUAL])
    assert set(COLLECTIVE_BUILDERS) == set(BLOCKS[COLLECTIVE])


def test_only_the_european_parliament_summary_has_a_word_limit() -> None:
    limits = {(body, language): load(body, language).word_limit for body, language in BODY_LANGUAGES}
    assert limits.pop(("ep_droi", "en")) == 500
    assert set(limits.values()) == {None}


def test_a_minimal_template_parses() -> None:
    template = parse_individual(MINIMAL)
    assert template.locale == "en" and template.closing == ""
    assert template.label("request", {}) == "Please act."
    # A value ending in a full stop closes the sentence itself.
    assert template.fill("As {person}.", {"person": "A. T."}) == "As A. T."
    assert template.fill("As {person}.", {"person": "Aliya"}) == "As Aliya."


def test_body_and_language_cannot_reach_outside_the_templates() -> None:
    assert languages("../filings") == () and languages("un_sp/../un_hrc") == ()
    with pytest.raises(ValueError, match="no filing template"):
        load("un_sp", "../../etc/passwd")


@pytest.mark.parametrize(("change", "message"), [
    (("blocks = [\"request\"]", "blocks = [\"reqest\"]"), "unknown block 'reqest'"),
    (("request_urgent = \"Now.\"", ""), "missing label(s) request_urgent"),
    (("request = \"Please act.\"", "request = \"Please act, {organisaton}.\""),
     "unknown placeholder {organisaton}"),
    (("request = \"Please act.\"", "request = \"Please act.\"\nrequest_urgnet_appeal = \"x\""),
     "request_urgnet_appeal are not used by any block"),
    (("footer = \"page {page}\"", "footer = \"Confidential\""), "must contain {page}"),
    (("header = \"{ref}\"", "header = \"{page}\""), "unknown placeholder {page}"),
    (("unknown = \"?\"", "unknown = \"{organisation}\""), "unknown placeholder {organisation}"),
    (("intro = \"From {organisation}.\"", "intro = \"From {organisation.name}.\""), "must be a plain name"),
    (("intro = \"From {organisation}.\"", "intro = \"From {0}.\""), "must be a plain name"),
    (("intro = \"From {organisation}.\"", "intro = \"From {organisation\""), "literal brace"),
    (("title = ", "titel = "), "unknown key(s) titel"),
    (("heading = \"Request\"", "heading = \"Request\"\ncite_udhr = true"), "cite_udhr only applies"),
    (("heading = \"Request\"", "headline = \"Request\""), "unknown key(s) headline"),
    (("request = \"Please act.\"", "request = 'Please act."), "not valid TOML"),
])
def test_a_broken_template_is_refused_with_a_clear_message(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in MINIMAL
    with pytest.raises(TemplateError, match=r"^test\.toml[:,] ") as raised:
        parse_individual(MINIMAL.replace(old, new))
    assert message in str(raised.value)


@pytest.mark.parametrize(("line", "message"), [
    ("word_limit = true", "word_limit must be a whole number"),
    ("word_limit = 20", "word_limit must be at least 50"),
    ("word_limit = 500", "needs a section with the facts block"),
    ('locale = "xx_YY"', "unknown locale 'xx_YY'"),
])
def test_a_broken_top_level_setting_is_refused(line: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_individual(line + "\n" + MINIMAL)


def test_a_template_needs_sections() -> None:
    without = MINIMAL.replace('[[sections]]\nheading = "Request"\nblocks = ["request"]\n', "")
    with pytest.raises(TemplateError, match=r"missing key\(s\) sections"):
        parse_individual(without)
    with pytest.raises(TemplateError, match="at least one section"):
        parse_individual("sections = []\n" + without)


def test_plural_labels_need_every_form_of_the_language() -> None:
    collective_source = load_source_with_plural('one = "{unnamed} further"\nother = "{unnamed} further"', "ru")
    with pytest.raises(TemplateError, match="plural forms for ru are few, many, one, other"):
        parse(collective_source, kind=COLLECTIVE, body=COLLECTIVE, language="ru", origin="test.toml")
    assert parse(collective_source, kind=COLLECTIVE, body=COLLECTIVE, language="en", origin="test.toml")


def load_source_with_plural(forms: str, language: str) -> str:
    return f'''
title = "{{title}}"
intro = "{{reference}}"

[[sections]]
heading = "Complainants"
blocks = ["named_complainants"]

[labels]
header = "{{reference}}"
footer = "{{page}}"
unknown = "?"
yes = "+"
no = "-"
named_none = "none"

[labels.unnamed_sentence]
{forms}
'''


def test_a_plural_table_is_refused_where_no_number_is_counted() -> None:
    source = MINIMAL.replace('request_urgent = "Now."', '[labels.request_urgent]\none = "a"\nother = "b"')
    with pytest.raises(TemplateError, match="request_urgent: must be a string"):
        parse_individual(source)


def test_word_limit_is_for_individual_filings_only() -> None:
    source = "word_limit = 500\n" + load_source_with_plural('one = "a"\nother = "b"', "en")
    with pytest.raises(TemplateError, match="individual filings only"):
        parse(source, kind=COLLECTIVE, body=COLLECTIVE, language="en", origin="test.toml")


# -- wording to paragraphs -------------------------------------------------------------------------------

def test_wording_wraps_into_paragraphs_and_lists() -> None:
    elements = paragraphs("""
        First line
        wrapped.

        - one
          continued
        - two

        Last.
    """)
    assert elements == [Text("First line wrapped."), ItemList((Text("one continued"), Text("two"))), Text("Last.")]
    assert paragraphs("") == []


def test_clip_keeps_whole_sentences_when_it_can() -> None:
    text = "One two three. Four five six seven eight nine ten."
    assert clip(text, None) == text
    assert clip(text, 20) == text
    assert clip(text, 5) == "One two three. […]"
    assert clip("a b c d e f", 4) == "a b c d […]"
