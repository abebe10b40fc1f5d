"""Work the quote finder skips must not change what it finds (issue 17): the lower-case words
asked one at a time, pronoun candidates not looked at once they cannot win, slot answers kept."""

from __future__ import annotations

import re

import pytest

from app.pipeline.quotes import find_quotes, pronouns
from app.pipeline.quotes.lowercase import LowerWords, PlainWords

_TEXT = ("Residents said the ferry’s new timetable was late. The harbour-master, Jane Roe, agreed; "
         "so did the co-op's chair. Omar Diallo’s crew were told on day_two, and “Ferry” is its name. "
         "Émile wrote naïve notes; the café closed. Mentions of one-off plans, don't and won’t, e-mail")


def _listed(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[\w’'-]+", text) if w.islower())


_ASKED = [*sorted(_listed(_TEXT)), "residents", "ferry", "timetable", "on", "men", "one", "off", "mail", "e",
          "day", "two", "harbour", "master", "émile", "naïve", "cafe", "café", "don", "t", "won’t", "won", "",
          "said the", "roe", "jane", "the ", "co-op's", "co", "op"]


@pytest.mark.parametrize("word", _ASKED)
def test_lower_words_answer_as_the_listed_words_do(word: str) -> None:
    assert (word in LowerWords(_TEXT)) == (word in _listed(_TEXT))


def test_plain_words_keep_ascii_letters_only() -> None:
    plain = PlainWords(LowerWords(_TEXT))
    assert "timetable" in plain and "won’t" in plain and "co-op's" in plain
    assert "naïve" not in plain and "café" not in plain and "day_two" not in plain
    assert "Residents" not in plain  # written capitalised only


def test_many_questions_switch_to_the_listed_words_with_the_same_answers() -> None:
    words = LowerWords(_TEXT)
    asked = [f"w{k}" for k in range(100)] + _ASKED
    assert [w in words for w in asked] == [w in _listed(_TEXT) for w in asked]


def _crowded_story() -> str:
    people = ["Omar Diallo", "Jane Roe", "Priya Nandakumar", "Tomas Ekwueme", "Helga Brandvold", "Ines Ferreira",
              "Marek Novak", "Lucia Rossi", "Victor Haddad", "Nadia Okafor"]
    paras = [f"{p} spoke at the harbour meeting on Monday. {p.split()[0]} listened to the others." for p in people]
    paras.append("Jane Roe stood up again. “We will rebuild the pier,” she said. “It is late,” he said.")
    return "\n\n".join(paras)


def test_pronoun_resolution_is_the_same_when_every_candidate_is_looked_at() -> None:
    text = _crowded_story()
    pruned = [(q.text, q.speaker, q.confidence) for q in find_quotes(text)]
    pronouns.RECORD = []  # recording looks at every candidate
    try:
        full = [(q.text, q.speaker, q.confidence) for q in find_quotes(text)]
        recorded = pronouns.RECORD
    finally:
        pronouns.RECORD = None
    assert pruned == full
    assert ("We will rebuild the pier,", "Jane Roe") == pruned[0][:2]
    # no candidate ever scored above the ceiling the pruning assumes
    w = pronouns.weights()
    top = pronouns.ceiling(w, near=True)
    assert top is not None and recorded
    for _pos, cands in recorded:
        for _name, f in cands:
            rest = sum(w.get(k, 0.0) * v for k, v in f.items() if k not in pronouns.DISTANCES and k != "last_speaker")
            assert rest <= top


def test_no_ceiling_when_a_feature_without_one_weighs() -> None:
    assert pronouns.ceiling({**pronouns.HAND_WEIGHTS, "mentions": 0.5}, near=True) is None
    assert pronouns.ceiling({**pronouns.HAND_WEIGHTS, "sents": 0.5}, near=False) is None
    assert pronouns.ceiling(pronouns.HAND_WEIGHTS, near=False) == 7.0  # gender 1, subject 3, salience 3


@pytest.mark.parametrize(("text", "speaker"), [
    # a title-case line in the middle of the text gives its name only when the body gives none
    ("Piet Brannvik spoke first at the quay.\nOlga Brannvik Wins The Harbour Vote Again\nThe count ended late.\n\n"
     "“We will rebuild,” Brannvik said.", "Piet Brannvik"),
    ("Piet Brannvik spoke first at the quay.\nOlga Brannvik won the harbour vote again.\nThe count ended late.\n\n"
     "“We will rebuild,” Brannvik said.", "Olga Brannvik"),
    # the first line, with no full stop, is a headline
    ("Olga Brannvik Wins Again\n\nPiet Brannvik spoke first at the quay.\n\n“We will rebuild,” Brannvik said.",
     "Piet Brannvik"),
    ("\n\nOlga Brannvik wins again\nPiet Brannvik spoke first at the quay.\n“We will rebuild,” Brannvik said.",
     "Piet Brannvik"),
])
def test_only_the_lines_that_name_someone_are_judged_as_headlines(text: str, speaker: str) -> None:
    assert [q.speaker for q in find_quotes(text)] == [speaker]
