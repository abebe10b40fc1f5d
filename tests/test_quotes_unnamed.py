"""Quotes whose speaker the text gives only indirectly (issue 13): a long appositive between the
name and the verb, a pronoun after an opening phrase, a description or a document standing for
someone named earlier. Speakers are only named where the rule is usually right.

Every person, organisation and place below is invented; none comes from an evaluation article or
from the corpus.
"""

from __future__ import annotations

import pytest

from app.pipeline.quotes import find_quotes


def _speakers(text: str) -> list[tuple[str, str | None]]:
    return [(q.text, q.speaker) for q in find_quotes(text)]


@pytest.mark.parametrize("text", [
    "“We lost,” Jane Roe, a delegate from the northern district who came by train with two kids, said on Monday.",
    "“We lost,” Jane Roe (Harbourton), a delegate from the north who came by train with two kids, said.",
])
def test_a_long_appositive_after_the_name_leaves_the_name_the_speaker(text: str) -> None:
    assert _speakers(text)[0] == ("We lost,", "Jane Roe")


def test_a_long_subject_that_is_no_name_and_appositive_names_nobody() -> None:
    text = ("“We lost,” the delegates from the northern district, who came by train with their kids and dogs,"
            " said on Monday.")
    assert _speakers(text)[0][1] is None


def test_a_pronoun_after_an_opening_phrase_is_the_subject_of_a_partial_quote() -> None:
    text = ("Jane Roe wants the harbour dredged. Roe has campaigned on it for a year.\n\n"
            "On her campaign page, she vows to “dredge the harbour before the winter storms.”")
    assert _speakers(text) == [("dredge the harbour before the winter storms.", "Jane Roe")]


def test_a_verb_after_but_and_an_adverb_shares_the_sentence_subject() -> None:
    text = ("Councillor Jane Roe used to back fellow councillor John Doe, but now said Doe had “no money left for"
            " boats.”")
    assert _speakers(text) == [("no money left for boats.", "Jane Roe")]


def test_a_relative_clause_verb_after_but_is_not_the_sentence_subjects() -> None:
    text = ("Roe was asked by host John Doe, who backs Roe, but has previously dismissed the plan, "
            "“Will the ferry run?”")
    assert _speakers(text)[0][1] == "John Doe"


@pytest.mark.parametrize("verb", ["said", "wrote in a letter to the court"])
def test_a_possessive_description_with_a_name_in_apposition_names_the_speaker(verb: str) -> None:
    text = (f"Jane Roe was frustrated by the delays.\n\n\"We need the ferry back,\" his wife, Maria Doe, {verb}.")
    assert _speakers(text) == [("We need the ferry back,", "Maria Doe")]


@pytest.mark.parametrize("text", [
    "Jane Roe spoke in Harbourton on Monday. According to the Roe campaign, “The speech will be short.”",
    "Jane Roe spoke in Harbourton on Monday.\n\n“The speech will be short,” said the Roe campaign.",
])
def test_a_campaign_named_after_a_person_in_the_object_slot_speaks(text: str) -> None:
    assert _speakers(text) == [("The speech will be short." if "According" in text else "The speech will be short,",
                                "Roe campaign")]


@pytest.mark.parametrize("party", ["R-Harb.", "D-Calif.", "D-N.Y."])
def test_a_party_and_state_after_the_name_end_no_sentence(party: str) -> None:
    text = f"\"Perpetual motion!\" Rep. Jane Roe, {party}, said of the week. \"We never stop.\""
    assert _speakers(text) == [("Perpetual motion!", "Jane Roe"), ("We never stop.", "Jane Roe")]


@pytest.mark.parametrize(("text", "verb"), [
    ("The crowd cheered.\n\n“This is fantastic!” beamed Jane Roe of Harbourton, who came early.", "beamed"),
    ("The crowd cheered.\n\n“It is about time,” exhorted Harbourton actress Jane Roe.", "exhorted"),
    ("The crowd cheered.\n\n“It is about time,” Mayor Jane Roe chuckled as the band played.", "chuckled"),
])
def test_a_past_tense_and_a_name_right_after_a_quote_report_it(text: str, verb: str) -> None:
    (q,) = find_quotes(text)
    assert (q.speaker, q.verb) == ("Jane Roe", verb)


@pytest.mark.parametrize("text", [
    "The council wants back the “Golden Week,” eliminated by John Doe last year.",
    "“It is about time,” exhorted the crowd near John Doe.",
    "“We won.” Jane Roe smiled at the crowd.",
])
def test_a_past_tense_after_a_quote_without_a_name_beside_it_names_nobody(text: str) -> None:
    assert find_quotes(text)[0].speaker is None


def test_an_epithet_opening_the_sentence_is_the_person_just_talked_about() -> None:
    text = ("Jane Roe took questions in a hall in Harbourton on Monday.\n\n"
            "The billionaire businesswoman began with the ferry, saying a ticket is now “dearer than gold.”")
    assert _speakers(text) == [("dearer than gold.", "Jane Roe")]


def test_a_staff_role_opening_the_sentence_is_not_the_person_just_talked_about() -> None:
    text = ("Jane Roe took questions in a hall in Harbourton on Monday.\n\n"
            "The spokeswoman began with the ferry, saying a ticket is now “dearer than gold.”")
    assert _speakers(text)[0][1] is None


@pytest.mark.parametrize("text", [
    "Mourners came to the quay. Said Jane Roe, who grew up on the street, “We were all so proud of him.”",
    "Mourners came to the quay. Said Jane Roe, “We were all so proud of him.”",
])
def test_a_sentence_opening_with_a_capitalised_speech_verb_names_who_follows_it(text: str) -> None:
    assert _speakers(text) == [("We were all so proud of him.", "Jane Roe")]


def test_a_sentence_opening_with_a_speech_verb_and_a_description_names_nobody() -> None:
    assert _speakers("Said the mayor, “We were all so proud of him.”")[0][1] is None


@pytest.mark.parametrize(("text", "speaker"), [
    ("The Harbourton Ferry Board was blunt in its findings: “Further talk on this issue is pointless.”",
     "Harbourton Ferry Board"),
    ("Jane Roe spoke at the quay.\n\nShe was blunt: “Further talk on this issue is pointless.”", "Jane Roe"),
])
def test_a_subject_introducing_a_quote_with_a_colon_speaks(text: str, speaker: str) -> None:
    assert _speakers(text)[0][1] == speaker


def test_a_name_with_no_verb_after_it_before_a_colon_is_no_speaker() -> None:
    text = "The graduate ended her talk in Harbourton by quoting Jane Roe in Latin: “Nothing stops the tide.”"
    assert _speakers(text)[0][1] is None
