"""Who speaks, read from the sentence's structure (issue 13: fewer wrong speakers): a participle
after a speech clause, appositive chains, inverted parentheticals.

Every person, organisation and place below is invented; none comes from an evaluation article or
from the corpus.
"""

from __future__ import annotations

import pytest

from app.pipeline.quotes import find_quotes


def _speaker(text: str) -> str | None:
    (q,) = find_quotes(text)
    return q.speaker


@pytest.mark.parametrize(("text", "speaker"), [
    # "…, Roe said, adding": the participle belongs to the speech clause, not to the reported one
    ("Jane Roe spoke first. Tom Doe did not stay but left as soon as the vote ended, Roe said, adding, "
     "“He was not very keen.”", "Jane Roe"),
    ("Tom Doe and Jane Roe will meet the harbour board next week, Ada Quist said, adding, "
     "“They need to sit down and talk.”", "Ada Quist"),
    # no speech clause right before the comma: the sentence's subject still speaks
    ("Jane Roe dismissed the critique of Tom Doe, saying the ferry was “never late.”", "Jane Roe"),
    ("Jane Roe repeated claims that Tom Doe recites the same lines, calling him a “gifted talker.”", "Jane Roe"),
])
def test_a_participle_after_a_speech_clause(text: str, speaker: str) -> None:
    assert _speaker(text) == speaker


@pytest.mark.parametrize(("text", "speaker"), [
    # a person after "for Sen." sits inside the appositive: the subject is named first
    ("Jane Roe, a historian at Harbourton College who once worked for Sen. Tom Doe (R-Harbour), one of the "
     "plan's authors, called it “a remarkable change.”", "Jane Roe"),
    # "as" opens a clause: the titled name after it is that clause's subject
    ("As Archbishop Tom Doe of the Harbourton Chapter told the Courier, “We have waited long enough.”", "Tom Doe"),
])
def test_a_title_after_a_preposition_does_not_make_a_subject(text: str, speaker: str) -> None:
    assert _speaker(text) == speaker


@pytest.mark.parametrize(("text", "speaker"), [
    # ", says Jane Roe, …," set off inside the sentence: the name after the verb speaks
    ("The trouble with Tom Doe, says Jane Roe, a historian at Harbourton College, is that he was "
     "“never at home at sea.”", "Jane Roe"),
    ("The ferry, said Jane Roe, was “never on time.”", "Jane Roe"),
    # a pronoun after the verb opens the reported clause: the names after it do not speak
    ("Jane Roe, a director at the Harbour Council, said he expects Tom Doe, Ada Quist and Ben Low to "
     "“stand together.”", "Jane Roe"),
])
def test_an_inverted_speech_clause_inside_the_sentence(text: str, speaker: str) -> None:
    assert _speaker(text) == speaker


@pytest.mark.parametrize(("text", "speaker"), [
    # a surname never given in full is not the first name of a phrase it opens
    ("Not everyone is on the Roe Express yet. Roe said the plan would “win the harbour.”", "Roe"),
    # a first name alone still means the one full name that has it
    ("Jane Roe arrived at noon. Later, Jane said the ferry was “late again.”", "Jane Roe"),
])
def test_a_bare_word_takes_a_full_name_only_as_its_first_name(text: str, speaker: str) -> None:
    assert _speaker(text) == speaker


def test_a_relative_named_in_passing_does_not_widen_a_full_name() -> None:
    text = ("Rep. Tom Doe backs the plan. Doe said the port “needs a leader.” His father, Tom Doe Sr., who once "
            "held the seat, said nothing.")
    assert _speaker(text) == "Tom Doe"


@pytest.mark.parametrize(("text", "speaker"), [
    # "and" between two capitalised words is inside a name: the appositive is still one noun phrase
    ("On Tuesday, Jane Roe, chairwoman of the House Docks and Tolls Committee, said the plan needs a "
     "“pause” first.", "Jane Roe"),
    # a participle's object inside the appositive is no subject
    ("Jane Roe, playing the elderly Tom Doe on the Harbour Channel's Late Hour Live, explained: "
     "“The young people love me.”", "Jane Roe"),
])
def test_appositives_between_subject_and_verb(text: str, speaker: str) -> None:
    assert _speaker(text) == speaker


def test_the_object_of_a_past_tense_verb_is_no_clause_subject_for_a_pronoun() -> None:
    text = ("Tom Roe hammered Ben Doe, calling him a “wreck,” and contrasted the harbour chief, whom he described "
            "as “volatile,” with Ada Quist.")
    assert [q.speaker for q in find_quotes(text)] == ["Tom Roe", "Tom Roe"]


def test_nested_reported_speech_after_a_coordinated_verb_goes_to_the_reporter() -> None:
    text = ("HARBOURTON — Sen. Jane Roe (R-Harbour) on Wednesday played down Ada Quist’s attack on a judge — "
            "something that has shaken the council all week — and said it was much like Justice Tom Doe referring "
            "to himself as “a harbour man.”")
    assert _speaker(text) == "Jane Roe"
