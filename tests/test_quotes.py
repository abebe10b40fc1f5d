"""Quote extraction: table-driven cases over sentences written for these tests."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.pipeline.quotes import find_quotes
from app.pipeline.quotes.marks import ALL_MARKS

# (text, [(quoted words, speaker, kind)])
CASES: list[tuple[str, list[tuple[str, str | None, str]]]] = [
    # direct quote, trailing attribution with a title
    ("Fisheries Minister Clara Vognsen arrived late.\n\n“The quota stays as it is,” Vognsen told reporters.",
     [("The quota stays as it is,", "Clara Vognsen", "direct")]),
    # inverted verb and speaker
    ("“We will appeal the ruling,” said Tomas Ekwueme, a lawyer for the union.",
     [("We will appeal the ruling,", "Tomas Ekwueme", "direct")]),
    # partial quote inside reported speech, surname resolved to the full name
    ("Port director Helga Brandvold spoke on Monday.\n\nBrandvold said the delay was “entirely avoidable” and"
     " called the contractor’s plan “a fantasy”.",
     [("entirely avoidable", "Helga Brandvold", "partial"), ("a fantasy", "Helga Brandvold", "partial")]),
    # split quote around the attribution
    ("“The bridge is safe,” said engineer Rosa Tamminen, “but the ramps are not.”",
     [("The bridge is safe,", "Rosa Tamminen", "direct"), ("but the ramps are not.", "Rosa Tamminen", "partial")]),
    # pronoun resolution and a second quote in the same paragraph
    ("Mayor Oskar Lindqvist opened the session.\n\n“Nobody will lose their home,” he said. “Not one family.”",
     [("Nobody will lose their home,", "Oskar Lindqvist", "direct"), ("Not one family.", "Oskar Lindqvist", "direct")]),
    # multi-paragraph quote: opening mark repeated, no closing mark at the first paragraph end
    ("Senator Maria Okafor read a statement:\n\n“We asked for the records in March.\n\n“We are still waiting.”",
     [("We asked for the records in March.", "Maria Okafor", "direct"),
      ("We are still waiting.", "Maria Okafor", "direct")]),
    # nested single quotes stay inside the outer quote
    ("“He told me, ‘Sign it today,’ and I refused,” said Petra Nowak.",
     [("He told me, ‘Sign it today,’ and I refused,", "Petra Nowak", "direct")]),
    # straight marks
    ('"Prices will fall next year," said economist Ivo Marsh.',
     [("Prices will fall next year,", "Ivo Marsh", "direct")]),
    # organisations speak
    ("The Kremlin dismissed the report as “pure invention”.",
     [("pure invention", "Kremlin", "partial")]),
    # a post quoted from social media with a channel
    ("Deputy Mayor Lena Fiske was unmoved. “We will not pay,” Fiske wrote on X.",
     [("We will not pay,", "Lena Fiske", "direct")]),
    # an embedded post: "— Name (@handle) date"
    ("Markets were calm.\n\nRates stay on hold this quarter. — Arne Solberg (@arnesolberg) March 3, 2024\n",
     [("Rates stay on hold this quarter.", "Arne Solberg", "post")]),
    # apostrophes and plural possessives are not quotes
    ("The allies’ plans changed after the ministers’ meeting, and the farmers' union didn't object.", []),
    # titles of works and nicknames are not quotes
    ("She reviewed the novel “The Salt Road” and met Jimmy “The Hammer” Doyle.", []),
    # scare quotes nobody is reported saying
    ("The so-called “reform” passed quietly.", []),
    # no quotes at all, and empty text
    ("Nothing was said today.", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_cases(text: str, expected: list[tuple[str, str | None, str]]) -> None:
    got = find_quotes(text)
    assert [(q.text, q.speaker, q.kind) for q in got] == expected
    for q in got:
        assert text[q.start:q.end] == q.text


def test_title_and_channel_and_type() -> None:
    text = ("NATO Deputy Secretary-General Ilse Varga met the delegation.\n\n"
            "“This is a serious breach,” Varga said in a statement.")
    (q,) = find_quotes(text)
    assert q.speaker == "Ilse Varga"
    assert q.speaker_title == "NATO Deputy Secretary-General"
    assert q.speaker_type == "person"
    assert q.channel == "in a statement"
    assert 0.0 < q.confidence <= 1.0


def test_organisation_type() -> None:
    (q,) = find_quotes("The Kremlin dismissed the report as “pure invention”.")
    assert q.speaker_type == "organisation"


def test_to_dict_has_all_fields() -> None:
    (q,) = find_quotes('"Prices will fall next year," said economist Ivo Marsh.')
    assert set(q.to_dict()) == {"text", "start", "end", "kind", "speaker", "speaker_title", "speaker_type",
                                "verb", "channel", "confidence"}


_MARKY = st.text(alphabet=st.sampled_from(list(ALL_MARKS + "abc XYZ.,:;\n—-@()'’")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), _MARKY))
def test_never_crashes_and_offsets_hold(text: str) -> None:
    for q in find_quotes(text):
        assert 0 <= q.start <= q.end <= len(text)
        assert text[q.start:q.end] == q.text


def test_one_megabyte_finishes() -> None:
    para = ("“The harbour will reopen in May,” said port director Helga Brandvold. She called the delay "
            "“avoidable”, and the union’s chair, Tomas Ekwueme, said: “We expect wages paid.”\n\n")
    text = para * (1_000_000 // len(para) + 1)
    t0 = time.perf_counter()
    quotes = find_quotes(text)
    assert time.perf_counter() - t0 < 30
    assert len(quotes) >= 3 * (len(text) // len(para))


def test_unbalanced_marks() -> None:
    text = "He said “this never ends.\n\nAnd ” then nothing. \"Odd \" marks \" here."
    for q in find_quotes(text):
        assert text[q.start:q.end] == q.text


# Attribution rules: (text, speakers of the quotes in order). Sentences written for these tests.
SPEAKER_CASES: list[tuple[str, list[str | None]]] = [
    # a possessive before a name is a separate phrase: "Radio Nord’s Petra Lind"
    ("“The tide is turning,” Radio Nord’s Petra Lind said.", ["Petra Lind"]),
    # "X’s been" is a contraction, so X is the subject the pronoun refers back to
    ("Chris Karlsson’s been arguing for weeks that Ben Dunmore is not ready.\n\n“He has never run anything,” he"
     " said.", ["Chris Karlsson"]),
    # a title word before an organisation word names the body: "the Harbour Department"
    ("The Harbour Department said the pier was “structurally unsound.”", ["Harbour Department"]),
    # a title word that is also a surname ends a name: "Billie Rae King"
    ("Tennis great Billie Rae King remembered the match.\n\n“It was the best day of my life,” she said.",
     ["Billie Rae King"]),
    # a known gender barely counts: the recent subject of unknown gender wins over a known man
    ("Mayor Donald Pell opened the bridge in May.\n\nThe engineer Ruiz Okonkwo, 58, told reporters the bridge was unsafe."
     "\n\n“We cannot wait another year,” he said.", ["Ruiz Okonkwo"]),
    # the subject of a speech verb beats a person named inside the reported clause
    ("Later, Tomas Wren claimed that Governor Barack Ilves is to blame.\n\n“It is a fiction,” he said.",
     ["Tomas Wren"]),
    # a name after a preposition is no subject: "went after Peter Holm"
    ("Karl Brandt went after Peter Holm on Monday.\n\nHe says, “The man cannot lead a choir.”", ["Karl Brandt"]),
    # a named subject in the pronoun's own sentence wins over the previous speaker
    ("“Rates will rise,” said Ivo Marsh.\n\nOla Brenner, head of the dock workers, said in a statement that the"
     " plan, which he added “is deeply unfair,” must go.", ["Ivo Marsh", "Ola Brenner"]),
    # a noun-like verb form used as a noun: "press secretary"
    ("“Nothing has changed,” Town Hall press secretary Lena Ortiz told reporters.", ["Lena Ortiz"]),
    # documents speak for whoever issued them
    ("The Nora Vale campaign is releasing a new ad on Monday.\n\nThe ad claims “Vale is the one you can trust.”",
     ["Nora Vale campaign"]),
    ("A March letter from the Teachers Union warns that “strikes will follow.”", ["Teachers Union"]),
    ("Oskar Pim’s campaign manager spoke on Monday.\n\nThe campaign’s statement declares “the matter is closed.”",
     ["Pim campaign"]),
    ("“We will win this county,” the Ivo Kral campaign said.", ["Ivo Kral campaign"]),
    # a quote opening its sentence continues the speaker of the sentence before ("X agreed.")
    ("Harbour economist Ada Quist agreed. “The data are clear and the trend is real.”", ["Ada Quist"]),
    # a name inside a quoted title does not widen a surname given outside quotes
    ("Arne Falk opened the fair. Critics reviewed the biography “Inside the Real Arne Falk,” which sold well."
     "\n\n“I never read it,” Falk said.", ["Arne Falk"]),
    # a shorter form widens to the full name that ends with it
    ("Justin Ki Hong was adopted as a baby.\n\n“We are really stateless,” Ki Hong said.", ["Justin Ki Hong"]),
    # an auxiliary opening a sentence is not part of a name: "Had Carl Dunmore stayed"
    ("Had Carl Dunmore stayed, the plan would have passed.\n\nHe vowed to “fight on and win.”", ["Carl Dunmore"]),
    # pronouns: the subject of the sentence just before beats a more salient speaker further back,
    # however long that sentence (distance counts in sentences, not characters)
    ("Mayor Ivo Marsh said on Monday that the budget would not be cut, and he repeated it twice.\n\nTomas Wren,"
     " who has represented the northern harbour district for eleven years and who chairs the roads committee, rose"
     " next and spoke about the state of the bridges in the valley.\n\n“The numbers do not add up,” he said.",
     ["Tomas Wren"]),
    # the speaker of an inverted verb ("said Ada Quist") is the subject a later pronoun refers to
    ("Hanna Lind opened the debate for the union.\n\nThe harbour will survive, said economist Ada Quist, head of the"
     " dock board. Others are “having to be leaner,” she said.", ["Ada Quist"]),
    # a description "the <modifier> <role>" resolves through a title or an appositive given earlier
    ("Olga Brenn, the Nordland senator, arrived late. Governor Petra Lind spoke first.\n\n"
     "“It is a difficult issue,” said the Nordland senator, “because both rights matter.”",
     ["Olga Brenn", "Olga Brenn"]),
    ("Nordland Sen. Olga Brenn and Governor Petra Lind met on Monday.\n\n“We agree,” the Nordland senator said.",
     ["Olga Brenn"]),
    # "said of": the subject before it still speaks
    ("“They are very open to new things,” Jenna Golde, the port’s director of planning, said of the plan.",
     ["Jenna Golde"]),
    # a clause after a comma is no appositive: the verb's own subject speaks
    ("Karl Brandt, a former mayor, issued a statement after contender Ivo Marsh told a crowd that the fee was"
     " “peanuts.”", ["Ivo Marsh"]),
    # a quote opening its sentence continues the speaker, or else the subject, of the sentence before
    ("Lena Fiske recalled how the river rose in a single night. “We lost everything in an hour.”", ["Lena Fiske"]),
    # a participle's subject is the name a verb follows, not a place in the opening phrase
    ("Speaking at a hall in Salem, New Hampshire, Ivo Marsh went after Petra Lind, calling her “a total stiff.”",
     ["Ivo Marsh"]),
    # a pronoun resolves from where it stands, so its own sentence's subject counts
    ("Karl Brandt spoke first.\n\nTomas Wren paused on Monday, when he told Ola Brenner that the plan was “dead.”",
     ["Tomas Wren"]),
    # the period of a title or an initial does not end the speaker's name
    ("“We will comply,” said Sen. Amy Vogt (D-Nord.), who sponsored the act.", ["Amy Vogt"]),
    ("“We will comply,” Harbour General Counsel James A. Baker wrote in a letter.", ["James A. Baker"]),
    # "hours after X said": a clause opener before the name, not a preposition
    ("Petra Lind weighed in on Tuesday, hours after Ivo Marsh said he was “encouraged” by the plan.", ["Ivo Marsh"]),
    # an opening phrase naming someone else, then the subject with a lower-case title
    ("On the trail for his wife, front-runner Hanna Vogt, former mayor Erik Vogt said she was “ready to lead.”",
     ["Erik Vogt"]),
    # a nickname between first name and surname is neither a quote nor part of the name
    ('Juan "Chico" Marquez of Oakland carried a photo. "I cried the whole parade," he said.', ["Juan Marquez"]),
    # "upon saying": the participle's subject is the sentence's
    ("Comedian Sara Holm spoke late.\n\nHolm, herself a Lind supporter, drew boos upon saying, “Lind heard the people.”",
     ["Sara Holm"]),
    # a quote ending with a full stop ends its sentence for the pronoun's distances
    ("Judge Ola Berg called it “distasteful.”\n\nKarl Brandt, the defence lawyer, argued that his client was a"
     " “shock jock.” Berg saw it differently: “I do not take that as a joke,” he said.",
     ["Ola Berg", "Karl Brandt", "Ola Berg"]),
    # the name in apposition after a possessive description: "said X’s campaign manager, Y"
    ("“We are gratified,” said Ivo Marsh’s campaign manager, Petra Lind.", ["Petra Lind"]),
    # a description owned by someone ("X’s campaign manager", "a top X adviser") is named in the next sentence
    ("Ivo Marsh spoke on Monday.\n\nA top Ivo Marsh adviser says the campaign is on a “glide path” to victory."
     " Petra Lind told reporters the count was close.", ["Petra Lind"]),
    # a poll speaks for its respondents
    ("Most voters say the plan is “too expensive,” according to a Harbour Institute poll released Thursday.",
     ["Harbour Institute poll"]),
    ("Wednesday’s Nordland University poll has Lind ahead. The NU poll finds that 37 percent of voters say Marsh"
     " is “very responsible” for the delay.", ["Nordland University poll"]),
    # a relative pronoun subject speaks for the name before it
    ("Ivo Marsh spoke. Contrast that with Tomas Wren, who has called the plan “insanity,” and Petra Lind, who says"
     " it is “a disaster.”", ["Tomas Wren", "Petra Lind"]),
    # "Name:" and "From Name’s post:" introduce a quote
    ("Ivo Marsh spoke.\n\nEconomists agree - Carl Bialik: “Keep on contacting voters as late as you can.”",
     ["Carl Bialik"]),
    ("Karl Brandt spoke.\n\nAides say the governor plans to help Ivo Marsh. From Brandt’s Facebook post: “We must"
     " move on together.”", ["Karl Brandt"]),
    # "X’s wife, Melania,": a first name takes the family's surname
    ("Ivo Marsh’s wife, Elin, was in the crowd.\n\n“He has always been kind,” Elin said.", ["Elin Marsh"]),
    # a subject relative clause is skipped, an object one is not
    ("Petra Lind, who backs Marsh, warned of a “ferocious” fight.", ["Petra Lind"]),
    # a possessive's response introduces a quote; an addressee before a colon does not speak
    ("Hanna Vogt read the note.\n\nVogt’s response was: “Is the ferry running on Sunday?”", ["Hanna Vogt"]),
    ("Ivo Marsh sent a letter.\n\nIn response, Karl Brandt wrote to Marsh: “Only a fool would send such a letter.”",
     ["Karl Brandt"]),
    # "the network" / "the group": a broadcaster or the organisation last named as a subject; the
    # determiner nearest the head decides ("In a statement, the network" is definite)
    ("CNN was quick to push back after Ivo Marsh blamed the network for the report.\nIn a statement, the network"
     " said that the claim was “false.”", ["CNN"]),
    # "X’s campaign" as a participle's subject speaks as the campaign
    ("Hanna Vogt spoke. In responding Friday, Vogt’s campaign took the unusual step of criticizing the agencies,"
     " accusing them of “overclassification run amok” and worse.", ["Vogt campaign"]),
    # a generational suffix ends a person's name, it is no acronym of an organisation
    ("During the service, assistant pastor Tobias Lund III asked the choir to stand. In his tribute, Lund said"
     " “no one did more for this town.”", ["Tobias Lund III"]),
    # "Norwegian-born X": the modifier is no part of the name, and a later "said X, 44" finds X
    ("Norwegian-born Sigrid Halvorsen moved here in 1990.\n\n“I was, like, stunned,” said Halvorsen, 44.",
     ["Sigrid Halvorsen"]),
    # a passive speech verb: the agent after "by" asks, not the subject
    ("Mayor Ivo Marsh came on the show. Marsh was asked by host Petra Lind, who opposes the plan, “Why now?”",
     ["Petra Lind"]),
    # a definite description heading the sentence stands for the person the article gave that role
    ("Tomas Wren, a billionaire businessman, toured the plant.\n\nThe billionaire businessman began by praising"
     " the staff, saying the plant was “cheaper than any rival.”", ["Tomas Wren"]),
    # "the man"/"the woman" keeps an unnamed bystander unnamed, not the last named speaker
    ("“The ferry is late again,” said Karl Brandt.\n\nAnother passenger did not want to be named. “We are tired"
     " of waiting for it every single day,” the woman said.", ["Karl Brandt", None]),
    # a noun-like verb form ("state") followed by a real verb: the real one attributes
    ("“The boundaries did not match the deeds,” state prosecutor Elin Moe told Reuters.", ["Elin Moe"]),
    # an appositive with a relative clause is skipped to find the subject before it
    ("Ann Falk, an Oslo University student who led one of the studies, said “the glue holds under water.”",
     ["Ann Falk"]),
    # movement names ending in "Matter"/"Watch" are organisations "the group" may stand for
    ("Tenants Lives Matter, the grand marshal of the parade, withdrew. Tenants Lives Matter issued a statement.\n\n"
     "“For us, marching this year meant choosing sides,” the group said.", ["Tenants Lives Matter"]),
    # a name after "the anti-X" modifier follows a preposition: "of the anti-Marsh Harbour Review"
    ("Columnist Jonas Berg of the anti-Marsh Harbour Review imagined the mayor was thinking: “What have I done?”",
     ["Jonas Berg"]),
    # "Mister" is an honorific
    ("Fredrik Holm hosted the show for years.\n\nIn one episode Mister Holm said “what matters is being kind.”",
     ["Fredrik Holm"]),
    # "as the Liberal nominee": the role a subject acts in resolves a later description
    ("On Thursday Hanna Vogt gave her acceptance speech as the Liberal nominee, mocking her rival, Ivo Marsh.\n\n"
     "“A man you can bait with a post cannot run the harbour,” said the Liberal nominee.", ["Hanna Vogt"]),
]


@pytest.mark.parametrize(("text", "speakers"), SPEAKER_CASES)
def test_speaker_rules(text: str, speakers: list[str | None]) -> None:
    assert [q.speaker for q in find_quotes(text)] == speakers
