"""The kept API descriptions (``iot_docs.json``) against botocore's service model."""

from __future__ import annotations

import pytest

from engine.schema import servicedocs


def test_plain_text__html_of_the_service_model__reads_as_one_line() -> None:
    doc = "<p>The job document. Required if you don't specify <code>documentSource</code>.</p>"
    assert servicedocs.plain_text(doc) == (
        "The job document. Required if you don't specify documentSource.")
    assert servicedocs.plain_text("<p>A &amp; B</p>\n<p> C</p>") == "A & B C"


def test_first_sentences__short_first__keeps_the_second_and_not_a_decimal_point() -> None:
    text = "The factor. Supports one digit (for example, 1.5, but not 1.55). Third. Fourth."
    assert servicedocs.first_sentences(text) == (
        "The factor. Supports one digit (for example, 1.5, but not 1.55).")
    long = "A" * 100 + " ends here. More words."
    assert servicedocs.first_sentences(long) == "A" * 100 + " ends here."


def test_kept_descriptions__name_every_createjob_member_botocore_documents() -> None:
    assert set(servicedocs.descriptions()) == set(servicedocs.from_botocore())


def test_kept_descriptions__are_botocores_words() -> None:
    if servicedocs.kept_version() != servicedocs.botocore_version():
        pytest.skip("written from another botocore; run python -m engine.schema.servicedocs")
    assert servicedocs.descriptions() == servicedocs.from_botocore()
