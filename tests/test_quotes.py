"""Quote extraction: table-driven cases over sentences written for these tests.

Every person, organisation and place below is invented; none comes from an evaluation article.
"""

from __future__ import annotations

import itertools
import string
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.pipeline.quotes import find_quotes
from app.pipeline.quotes.marks import ALL_MARKS

# (text, [(quoted words, speaker, kind)])
CASES: list[tuple[str, list[tuple[str, str | None, str]]]] = [
    # direct quote, trailing attribution, surname resolved to the full name given earlier
    ("Ferry Commissioner Idunn Vasskog visited the quay.\n\n“The timetable stays,” Vasskog told reporters.",
     [("The timetable stays,", "Idunn Vasskog", "direct")]),
    # inverted verb and speaker
    ("“We will appeal the fine,” said Orrin Tabbersley, a lawyer for the guild.",
     [("We will appeal the fine,", "Orrin Tabbersley", "direct")]),
    # partial quotes inside reported speech
    ("Canal warden Mirela Quistgaard spoke on Tuesday.\n\nQuistgaard said the leak was “plainly foreseeable” and"
     " called the repair plan “wishful thinking”.",
     [("plainly foreseeable", "Mirela Quistgaard", "partial"), ("wishful thinking", "Mirela Quistgaard", "partial")]),
    # split quote around the attribution
    ("“The lock gates are sound,” said surveyor Ottoline Brack, “but the towpath is not.”",
     [("The lock gates are sound,", "Ottoline Brack", "direct"), ("but the towpath is not.", "Ottoline Brack",
                                                                  "partial")]),
    # pronoun and a second quote in the same paragraph
    ("Provost Anselm Tidemark opened the meeting.\n\n“No student will pay more,” he said. “Not one.”",
     [("No student will pay more,", "Anselm Tidemark", "direct"), ("Not one.", "Anselm Tidemark", "direct")]),
    # multi-paragraph quote: opening mark repeated, no closing mark at the first paragraph's end
    ("Councillor Brisa Underholt read a statement:\n\n“We asked for the ledgers in spring.\n\n“We are still"
     " waiting.”",
     [("We asked for the ledgers in spring.", "Brisa Underholt", "direct"),
      ("We are still waiting.", "Brisa Underholt", "direct")]),
    # nested single quotes stay inside the outer quote
    ("“She told me, ‘Sign it by noon,’ and I refused,” said Pelle Virtanovski.",
     [("She told me, ‘Sign it by noon,’ and I refused,", "Pelle Virtanovski", "direct")]),
    # straight marks
    ('"Freight rates will ease next year," said economist Dagny Holmquaid.',
     [("Freight rates will ease next year,", "Dagny Holmquaid", "direct")]),
    # an organisation speaks
    ("The Tideway Pilots Association dismissed the claim as “pure invention”.",
     [("pure invention", "Tideway Pilots Association", "partial")]),
    # an embedded post: "— Name (@handle) date"
    ("Markets were calm.\n\nRates stay on hold this quarter. — Jorun Ellefsrud (@jorunell) March 3, 2024\n",
     [("Rates stay on hold this quarter.", "Jorun Ellefsrud", "post")]),
    # apostrophes and plural possessives are not quotes
    ("The pilots’ plans changed after the wardens’ meeting, and the ferrymen's guild didn't object.", []),
    # titles of works and nicknames are not quotes
    ("She reviewed the novel “The Copper Estuary” and met Tobbe “The Anchor” Vallgren.", []),
    # labels the text calls labels are not quotes
    ("The so-called “reform” passed quietly.", []),
    ("Few of the drivers had heard the term “platform work” before the strike.", []),
    # but a short quotation nobody is named for is kept, with no speaker
    ("By noon the queue at the ferry office had become “a small festival of grievances” again.",
     [("a small festival of grievances", None, "partial")]),
    # a quote alone in its paragraph, after a blank line: the previous paragraph's subject speaks
    ("Orchard keeper Tamsin Quillfeather doubts the frost will hold off.\n\n"
     "“We have covered the young trees twice this week already and the nights are still falling.”",
     [("We have covered the young trees twice this week already and the nights are still falling.",
       "Tamsin Quillfeather", "direct")]),
    # "the newspaper wrote": the newspaper last named as a subject
    ("The Tollbridge Gazette urged the council to reopen the ferry.\n\n"
     "“A town that cannot cross its own river has stopped trying,” the weekly newspaper wrote.",
     [("A town that cannot cross its own river has stopped trying,", "Tollbridge Gazette", "direct")]),
    # nested reported speech: the one who reports it is the source
    ("Council member Perpetua Vonderhaar said Mayor Ansel Krogstad described the levy as “a fair bargain”.",
     [("a fair bargain", "Perpetua Vonderhaar", "partial")]),
    # but a reporting verb in an opening clause is not the sentence's
    ("Mayor Ansel Krogstad and council member Perpetua Vonderhaar met on Monday. While much of what Krogstad"
     " says is popular, Vonderhaar said he is “simply wrong on the levy”.",
     [("simply wrong on the levy", "Perpetua Vonderhaar", "partial")]),
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


def test_title_channel_and_type() -> None:
    text = ("Harbour Board Deputy Secretary-General Wilma Oddvarsen met the delegation.\n\n"
            "“This is a serious breach,” Oddvarsen said in a statement.")
    (q,) = find_quotes(text)
    assert q.speaker == "Wilma Oddvarsen"
    assert q.speaker_title == "Harbour Board Deputy Secretary-General"
    assert q.speaker_type == "person"
    assert q.channel == "in a statement"
    assert 0.0 < q.confidence <= 1.0


def test_platform_channel_is_any_capitalised_name_but_a_date() -> None:
    (q,) = find_quotes("Deputy Mayor Sunniva Kvalheim was unmoved. “We will not pay,” Kvalheim wrote on Chirper.")
    assert (q.speaker, q.channel) == ("Sunniva Kvalheim", "on Chirper")
    (q,) = find_quotes("“We will not pay,” Sunniva Kvalheim said on Tuesday.")
    assert q.channel is None


def test_organisation_type() -> None:
    (q,) = find_quotes("The Tideway Pilots Association dismissed the claim as “pure invention”.")
    assert q.speaker_type == "organisation"


def test_to_dict_has_all_fields() -> None:
    (q,) = find_quotes('"Freight rates will ease next year," said economist Dagny Holmquaid.')
    assert set(q.to_dict()) == {"text", "start", "end", "kind", "speaker", "speaker_title", "speaker_type",
                                "verb", "channel", "confidence"}


_MARKY = st.text(alphabet=st.sampled_from(list(ALL_MARKS + "abc XYZ.,:;\n—-@()'’")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), _MARKY))
def test_never_crashes_and_offsets_hold(text: str) -> None:
    for q in find_quotes(text):
        assert 0 <= q.start <= q.end <= len(text)
        assert text[q.start:q.end] == q.text
        assert 0.0 <= q.confidence <= 1.0


def test_unbalanced_marks() -> None:
    text = "He said “this never ends.\n\nAnd ” then nothing. \"Odd \" marks \" here."
    for q in find_quotes(text):
        assert text[q.start:q.end] == q.text


def test_one_megabyte_of_news_finishes() -> None:
    para = ("“The quay reopens in spring,” said harbourmaster Idunn Vasskog. She called the delay "
            "“avoidable”, and the guild’s chair, Orrin Tabbersley, said: “We expect wages paid.”\n\n")
    text = para * (1_000_000 // len(para) + 1)
    t0 = time.process_time()
    quotes = find_quotes(text)
    assert time.process_time() - t0 < 30
    assert len(quotes) >= 3 * (len(text) // len(para))


# Hostile texts of 200,000 characters: each finished in well under a second per 8 KB before the
# extractor was made linear only for the tame ones; alternating marks took 10 s per 8 KB.
_HOSTILE = {
    "alternating straight marks": '"a" ' * 50_000,
    "alternating curly marks": "“a” " * 50_000,
    "single marks": "'a' " * 50_000,
    "one paragraph of quotes with no sentence end": "“word here” said Orla Vennick and " * 6_000,
    "capitalised words without end": "Alpha Beta Gamma Delta " * 9_000 + "said “x y z w q”",
    "many people sharing one surname": "".join(f"Name{i} Vennick said “yes {i}” and " for i in range(8_000)),
    # every paragraph opens with another capitalised label, like a transcript's turns
    "thousands of distinct turn labels": "".join(
        f"{a}{b}{c}{d}: we will go on.\n\n" for a, b, c, d in itertools.product(string.ascii_uppercase, repeat=4)
        if ord(a) < ord("D")),
}


@pytest.mark.parametrize("name", sorted(_HOSTILE))
def test_hostile_text_is_linear(name: str) -> None:
    text = _HOSTILE[name][:200_000]
    t0 = time.process_time()
    quotes = find_quotes(text)
    assert time.process_time() - t0 < 20, name  # was minutes before; now ~1-3 s on a busy core
    for q in quotes[:50]:
        assert text[q.start:q.end] == q.text


# Attribution: (text, speakers of the quotes in order).
SPEAKER_CASES: list[tuple[str, list[str | None]]] = [
    # a possessive before a name is a separate phrase
    ("“The tide is turning,” the Weekly Lantern’s Petrine Saxegaard said.", ["Petrine Saxegaard"]),
    # "X’s been" is a contraction, so X is the subject a later pronoun refers back to
    ("Corvin Aldersey’s been saying for weeks that Bram Ottesund is not ready.\n\n“He has never led anything,” he"
     " said.", ["Corvin Aldersey"]),
    # a title word before an organisation word names the body
    ("The Canals Department said the towpath was “structurally unsound.”", ["Canals Department"]),
    # a title word that is also a surname ends a name
    ("Rower Haldis Mae King remembered the race.\n\n“It was the best day of my life,” she said.",
     ["Haldis Mae King"]),
    # the subject of a speech verb beats a person named inside the reported clause
    ("Later, Sten Harrowgate claimed that Provost Anselm Tidemark is to blame.\n\n“It is a fiction,” he said.",
     ["Sten Harrowgate"]),
    # a name after a preposition is no subject
    ("Ebbe Lindqvarn went after Ottar Bruvik on Monday.\n\nHe says, “The man cannot run a ferry.”",
     ["Ebbe Lindqvarn"]),
    # a noun-like verb form used as a noun: "press secretary"
    ("“Nothing has changed,” Guild Hall press secretary Ragna Vikestad told reporters.", ["Ragna Vikestad"]),
    # documents speak for whoever issued them
    ("The Sölvi Brann campaign is releasing a new ad on Monday.\n\nThe ad claims “Brann is the one to trust.”",
     ["Sölvi Brann campaign"]),
    ("A spring letter from the Ferry Workers Guild warns that “strikes will follow.”", ["Ferry Workers Guild"]),
    # a quote opening its sentence continues the speaker of the sentence before
    ("Harbour economist Dagny Holmquaid agreed. “The data are clear and the trend is real.”", ["Dagny Holmquaid"]),
    # a name inside a quoted title does not widen a surname given outside quotes
    ("Oddny Larrabee opened the fair. Critics reviewed the memoir “Inside the Real Oddny Larrabee,” which sold"
     " well.\n\n“I never read it,” Larrabee said.", ["Oddny Larrabee"]),
    # an auxiliary opening a sentence is no part of a name
    ("Had Torvid Mossberg stayed, the plan would have passed.\n\nHe vowed to “fight on and win.”",
     ["Torvid Mossberg"]),
    # pronouns: the subject of the sentence just before beats a speaker further back
    ("Provost Anselm Tidemark said on Monday that fees would not rise, and he repeated it twice.\n\nSten"
     " Harrowgate, who has chaired the canal committee for eleven years and who sits on the ferry board, rose"
     " next and spoke about the locks.\n\n“The numbers do not add up,” he said.", ["Sten Harrowgate"]),
    # a description "the <modifier> <role>" resolves through an appositive given earlier
    ("Wendeline Sparre, the Nordmark senator, arrived late. Governor Ottar Bruvik spoke first.\n\n"
     "“It is a difficult question,” said the Nordmark senator, “because both rights matter.”",
     ["Wendeline Sparre", "Wendeline Sparre"]),
    # "said of": the subject before it still speaks
    ("“They are open to new things,” Ylva Granstedt, the port’s planning director, said of the pilots.",
     ["Ylva Granstedt"]),
    # the period of a title or an initial does not end the speaker's name
    ("“We will comply,” said Sen. Maren Ulvestad, who sponsored the act.", ["Maren Ulvestad"]),
    ("“We will comply,” Guild General Counsel Eirik P. Sandvold wrote in a letter.", ["Eirik P. Sandvold"]),
    # "hours after X said": a clause opener before the name, not a preposition
    ("Ottar Bruvik weighed in on Tuesday, hours after Sten Harrowgate said he was “encouraged” by the plan.",
     ["Sten Harrowgate"]),
    # a nickname between first name and surname is neither a quote nor part of the name
    ('Tobbe "Anchor" Vallgren of Nordmark carried a banner. "I cried the whole way," he said.',
     ["Tobbe Vallgren"]),
    # the name in apposition after a possessive description
    ("“We are gratified,” said Ebbe Lindqvarn’s campaign manager, Ragna Vikestad.", ["Ragna Vikestad"]),
    # a poll speaks for its respondents
    ("Most voters say the bridge is “too expensive,” according to a Tideway Institute poll released Thursday.",
     ["Tideway Institute poll"]),
    # a relative pronoun subject speaks for the name before it
    ("Ebbe Lindqvarn spoke. Contrast that with Sten Harrowgate, who has called the toll “madness,” and Ottar"
     " Bruvik, who says it is “a disaster.”", ["Sten Harrowgate", "Ottar Bruvik"]),
    # "Name:" and "From Name’s post:" introduce a quote
    ("Ebbe Lindqvarn spoke.\n\nPilots agree - Ragna Vikestad: “Keep the channel open as late as you can.”",
     ["Ragna Vikestad"]),
    # "X’s wife, Y,": a first name takes the family's surname
    ("Ebbe Lindqvarn’s wife, Solvor, was in the crowd.\n\n“He has always been kind,” Solvor said.",
     ["Solvor Lindqvarn"]),
    # an addressee before a colon does not speak
    ("Ebbe Lindqvarn sent a letter.\n\nIn response, Torvid Mossberg wrote to Lindqvarn: “Only a fool would send"
     " this.”", ["Torvid Mossberg"]),
    # "the group" / "the agency": the organisation last named as a subject
    ("The Nordmark Ferry Agency was quick to answer after Ebbe Lindqvarn blamed it for the delays.\nIn a"
     " statement, the agency said that the claim was “false.”", ["Nordmark Ferry Agency"]),
    # a generational suffix ends a person's name; it is no acronym of an organisation
    ("At the service, deacon Halvard Brekke III asked the choir to stand. In his tribute, Brekke said"
     " “no one did more for this town.”", ["Halvard Brekke III"]),
    # "Nordmark-born X": the modifier is no part of the name
    ("Nordmark-born Sigvor Tannhaug moved here in 1990.\n\n“I was, frankly, stunned,” said Tannhaug, 44.",
     ["Sigvor Tannhaug"]),
    # a passive speech verb: the agent after "by" asks
    ("Provost Anselm Tidemark came on the programme. Tidemark was asked by host Ragna Vikestad, “Why now?”",
     ["Ragna Vikestad"]),
    # "the woman" keeps an unnamed bystander unnamed
    ("“The ferry is late again,” said Torvid Mossberg.\n\nAnother passenger did not want to be named. “We are"
     " tired of waiting for it every single day,” the woman said.", ["Torvid Mossberg", None]),
    # surname particles joined by a hyphen or standing apart stay in the name
    ("“The quay is closed,” said Karim al-Wazzeni, the port director.", ["Karim al-Wazzeni"]),
    ("“The quay is closed,” said Lotte van der Vosselen, the port director.", ["Lotte van der Vosselen"]),
    # a place before a name is no part of it
    ("“The quay is closed,” said Norway harbourmaster Idunn Vasskog.", ["Idunn Vasskog"]),
]


@pytest.mark.parametrize(("text", "speakers"), SPEAKER_CASES)
def test_speaker_rules(text: str, speakers: list[str | None]) -> None:
    assert [q.speaker for q in find_quotes(text)] == speakers


# General classes from issue 13: (text, speakers of the quotes in order).
CLASS_CASES: list[tuple[str, list[str | None]]] = [
    # a quotation signed on the line under it
    ("“Ferries must run all winter, whatever the cost.”\n\n— Idunn Vasskog.\n\nThe board met later.",
     ["Idunn Vasskog"]),
    # the subject after a clause tacked onto the quote
    ("“The toll has been raised twice” and against the wardens’ advice, Ottar Bruvik said.", ["Ottar Bruvik"]),
    # a name in apposition after lower-case role words
    ("“It is about time,” said the mayor’s guest, retired pilot Haldor Skjeggestad.", ["Haldor Skjeggestad"]),
    # "the company" stands for the one-word organisation named just before
    ("Local firms such as Brakkvik, which opposed the toll, spoke up. “We call on others to join us,” the company"
     " wrote.", ["Brakkvik"]),
    # a sentence-opening adverb is no part of the name after it
    ("Ottar Bruvik spoke first. Interestingly Tidemark agreed. “The fee is fair,” Tidemark said.", ["Tidemark"]),
    # organisation names keep their inner joiners
    ("“Fares will not rise,” the Department of Ports and Harbours said.", ["Department of Ports and Harbours"]),
    ("“Fares will not rise,” the Commission on Inland Waterways said.", ["Commission on Inland Waterways"]),
    # post-nominal and parliamentary titles are no part of a name
    ("“The ferry must stay,” said Brisa Underholt MP.", ["Brisa Underholt"]),
    # two people share a surname: the bare surname is the one last named in full as the subject
    ("Tove Brenmark, sister of yard owner Olaf Brenmark, disagreed.\n\n“We lied to nobody,” Brenmark said.",
     ["Tove Brenmark"]),
    ("Olaf Brenmark, brother of the mayor, Tove Brenmark, disagreed.\n\n“We lied to nobody,” Brenmark said.",
     ["Olaf Brenmark"]),
    # a first name that is only "mostly" one gender is still a first name
    ("“We are on fire,” said Carol Signe Tollefsrud, president of the Ferry Workers Guild.", ["Carol Signe Tollefsrud"]),
    # an infinitive's or a gerund's speaker is the subject of the sentence
    ("Ottar Bruvik said the mayor was right to urge the pilots “to stand up and be heard.”", ["Ottar Bruvik"]),
    ("Sten Harrowgate scolded the provost for suggesting that fares should “rise every year.”", ["Sten Harrowgate"]),
    # a sentence-opening preposition or a role noun is no part of the name
    ("Like Harrowgate, the guild chair thinks the toll is “far too high,” Provost Anselm Tidemark said.",
     ["Anselm Tidemark"]),
    ("“The ferry must stay,” said rival Sunniva Kvalheim.", ["Sunniva Kvalheim"]),
    # a passive without its agent names nobody; a name in parentheses is no subject
    ("At 14:30 (1330 UTC) on Tuesday a fire was reported in the “eastern section of the old terminal building”.",
     [None]),
    # an acronym stands for the body's name the article spells out; apostrophe variants are one name
    ("The Harbour Pilots Association met on Monday. “We will strike,” the HPA said.", ["Harbour Pilots Association"]),
    ("Ciaran O’Tierney chairs the board.\n\n“The fees stay,” O'Tierney said.", ["Ciaran O’Tierney"]),
    # a sentence opened by someone's document introduces the quote after its colon
    ("Petrine Saxegaard chairs the pilots.\n\nSaxegaard’s letter makes a blunt case: “The ferry must run every"
     " single day of the winter.”", ["Petrine Saxegaard"]),
    # a body named after a place is no place
    ("“Fares will rise,” the North Harbour Times reported.", ["North Harbour Times"]),
    # laws, plans and events say nothing themselves
    ("The Harbour Act says ferries must “run at least twice a day” all year.", [None]),
    # a name before a role noun modifies it: the speaker is the person named after it
    ("“It was a better game than last week,” Nordmark coach Eskil Brun said.", ["Eskil Brun"]),
    # ages and plural titles are no part of a name
    ("Fourteen-year-old Tuva Saetre was on the quay. “The ferry hit the pier,” Tuva Saetre said.", ["Tuva Saetre"]),
    # a bare body noun is a description of the body named before, not a name
    ("The Nordmark Ferry Board met on Friday.\n\nBoard members left early. The Board said the channel was “unsafe"
     " at night.”", ["Nordmark Ferry Board"]),
    # two people share a surname and the other was named in passing further back: the bare
    # surname is the one the article introduced first
    ("The council held a party for the harbour mayor, Olga Brannvik, on Monday. The crowd also cheered for"
     " Piet Brannvik, a retired ferry captain who watched from the quay with their grandchildren and several old"
     " friends from the shipyard where he had worked for decades. The pier had been planned for years and cost far more than the council first said,"
     " and the contractor had asked twice for an extension before the winter storms set in and closed the"
     " quay.\n\n“This pier belongs to every family in the town,” Brannvik said.", ["Olga Brannvik"]),
    # a word opening the headline is no part of the name in it
    ("Undaunted Brannvik rides out the storm\nPiet Brannvik, the harbour master, faced the council on Monday.\n\n"
     "“We will rebuild the pier,” Brannvik said.", ["Piet Brannvik"]),
    ("Can Brannvik Save The Pier?\nPiet Brannvik, the harbour master, faced the council.\n\n“We will rebuild,”"
     " Brannvik said.", ["Piet Brannvik"]),
    # a quantifier or a negation opening a phrase is no part of a name
    ("Neither Brannvik nor Kowal would say more at first. Olga Brannvik spoke on Friday. Later, Brannvik added: “The"
     " pier will open in May.”", ["Olga Brannvik"]),
    # "continue to be" is no speech verb: the speaker is the subject of "said"
    ("Olga Brannvik praised her deputy. In a statement, Brannvik said she was sure Tomas Kowal would continue to be"
     " “a steady hand for the harbour.”", ["Olga Brannvik"]),
    # "According to" opening the sentence names the speaker
    ("Tomas Kowal runs the yard. According to Kowal, the old ferry timetable was “a puzzle nobody could"
     " solve.”", ["Tomas Kowal"]),
    # an appositive holding a role pair or a person after a preposition does not replace its subject
    ("Sigrun Haldorsen, president and chief executive of the Fjord Bakers Guild, stated: “Flour has doubled in"
     " price since the spring.”", ["Sigrun Haldorsen"]),
    ("Eirik Mossberg, a spokesman for Harbour Speaker Pia Lund, said, “The ferry vote will wait until the ice has"
     " gone.”", ["Eirik Mossberg"]),
    # a possessive written with the mark alone ("Moss’ officer") names no speaker by itself
    ("Halvard Moss spoke first. Ingrid Vatne, Moss' press officer, said the council was playing “a slow game with"
     " the ferries” again.", ["Ingrid Vatne"]),
    ("Halvard Moss spoke first. Moss’ campaign called the survey a “harbour fairy tale” on Monday.",
     ["Moss campaign"]),
    # a party-and-state parenthesis between the name and the verb
    ("“The ferries will run on Sundays again,” Sen. Marit Solheim (D-Ore.) said Tuesday.", ["Marit Solheim"]),
    # "remembered" reports speech as "recalled" does
    ("“We rowed the mail across the bay every winter,” remembered Knut Aasgard, the harbour’s former pilot.",
     ["Knut Aasgard"]),
    # "a written statement": a verb form after an article is no verb; the one told is no speaker
    ("Ola Brannvik spoke on Monday. Brannvik told the Harbour Courier in a written statement, “The quay will be"
     " rebuilt in stone.”", ["Ola Brannvik"]),
    # a pronoun after a surname two people share goes to the one of its gender
    ("Peter Brannvik opened the fair on Monday. The crowd also cheered for Olga Brannvik, who had planned it for years."
     " The fair cost far more than the council first said, and the contractor had asked twice for an extension"
     " before the winter storms set in and closed the quay for a month, so the stalls had to be moved inland.\n\n"
     "Brannvik took questions at the quay. “We will rebuild the pier,” she said.", ["Olga Brannvik"]),
    # two people share a surname: a relative introduced in passing ("her husband, X") is not who a bare
    # surname means later, unless the article names them in full again just before
    ("Sunniva Kvalheim runs the bakery on Dock Lane. Her husband, the retired pilot Torleif Kvalheim, bakes on"
     " Sundays.\n\nFlour prices doubled this year, and the bakery now buys its grain from three farms on the"
     " island instead of the mill across the water.\n\n“We stay open all winter,” Kvalheim said.",
     ["Sunniva Kvalheim"]),
    ("Aldo Venstrup, whose elder brother is the painter Pim Venstrup, teaches music at the school. The school"
     " choir has forty singers and rehearses on Thursdays in the old chapel beside the bus station.\n\n"
     "“They sing better every term,” Venstrup said.", ["Aldo Venstrup"]),
    ("Sunniva Kvalheim runs the bakery. Her husband, Torleif Kvalheim, bakes on Sundays and repairs the ovens"
     " when they fail in the cold months.\n\nTorleif Kvalheim fixed the big oven on Friday. Kvalheim"
     " later said, “It needs a new door.”", ["Torleif Kvalheim"]),
    # "… why she thanked X": X is the object of a clause, not the speaker of an inverted verb
    ("Quillan Fennick found the lost violin. Yrsa Brekke owns it. Brekke played a tune in the square, explaining"
     " why she trusted Fennick.\n\n“Music should be shared,” she said.", ["Yrsa Brekke"]),
    # a name in an appositive after the person opening the sentence is no subject itself
    ("Quillan Fennick coaches the team. Aasmund Skjold of Nordvik, a Fennick admirer, praised the"
     " new pitch.\n\n“The grass is perfect,” he said.", ["Aasmund Skjold"]),
    ("Quillan Fennick wrote the timetable. Dr. Aasmund Skjold, head of the science"
     " department, questioned Fennick’s timetable. “Lessons start too early,” he said.", ["Aasmund Skjold"]),
    # a pronoun never means a person its own clause names after it ("he told X", "he said X was …")
    ("Rowan Dallow wanted to know when Quillan Fennick would finish the mural.\n\n“Next spring,” he told"
     " Dallow.", ["Quillan Fennick"]),
    ("The choir met on Monday. Quillan Fennick sang first, then Rowan Dallow, who leads the altos. He"
     " says Fennick “sings like a lighthouse keeper.”", ["Rowan Dallow"]),
    # after "said the <role> to/for X", X is whom the role serves: the description is the speaker
    ("Rolf Ambeck keeps the school’s accounts.\n\n“The roof fund is empty,” said the bookkeeper for"
     " Mayor Tilde Sorlie.", ["Rolf Ambeck"]),
    # a person's surname may be a word that ends names of laws ("Act", "Law")
    ("“We will keep the ferry,” said Ingrid Law, who runs the harbour trust.", ["Ingrid Law"]),
    # a person's gender, when neither first name nor title tells it, follows from the "he"/"she" after them
    ("Rowan Dallow paints boats. She works in a shed by the slipway.\n\nQuillan Fennick builds them. He"
     " fitted a new mast last week.\n\nFor Dallow, Fennick was the best builder on the coast.\n\n“His hulls"
     " never leak,” she said.", ["Rowan Dallow"]),
    # after an opening phrase that names others, the subject is the description after its comma
    ("Ivo Sandvoll, the caretaker, fixed the boiler.\n\nDuring a visit from governors Rowan Dallow and Pia Sorlie, the"
     " caretaker explained that the boiler was “older than the building.”", ["Ivo Sandvoll"]),
    # but a comma right before the verb closes an appositive to the name before it
    ("At the assembly, Ivo Sandvoll, the caretaker, announced: “The heating is back.”", ["Ivo Sandvoll"]),
    # a name written with a curly apostrophe is the same person as with a straight one
    ("“The pier is fine,” said Ciaran O’Tierney, chief strategist for the harbour board.", ["Ciaran O’Tierney"]),
    # a quote that opens its sentence, a phrase, then an inverted verb: the speaker follows the verb
    ("The choir won the regional prize.\n\n“Delighted” with the result, said Hallvard Brattli, who conducts"
     " it.", ["Hallvard Brattli"]),
    # a description after an inverted verb, then the name in apposition: the name speaks
    ("The inspectors saw “no danger” in the gym roof, said the school’s head, Hallvard Brattli, this week.",
     ["Hallvard Brattli"]),
    # a pronoun opening the clause after an opening phrase is its subject, not a name after it
    ("Hallvard Brattli conducts the choir.\n\nLast winter, he chose Tilde Sorlie over Ivo Sandvoll as soloist"
     " and said, “Her voice carries.”", ["Hallvard Brattli"]),
    # a second "he" in a sentence that opened with "He" is the same person, not a name between them
    ("Hallvard Brattli conducts the choir.\n\nHe thinks that unless the hall is heated, Ivo Sandvoll will"
     " cancel the concert, which he calls “a shame for the town.”", ["Hallvard Brattli"]),
    # "…,” Roe said, according to the Courier": the source the sentence names last speaks
    ("Hallvard Brattli conducts the choir.\n\n“We sing in May,” Brattli said, according to the Nordvik"
     " Courier.", ["Nordvik Courier"]),
    ("Ivo Sandvoll heard Hallvard Brattli’s choir in May.\n\n“Too many tenors,” Brattli answered, according"
     " to Sandvoll’s letter.", ["Ivo Sandvoll"]),
    # but the speaker's own words, released by someone else, stay the speaker's
    ("Head Teacher Tilde Sorlie retires this summer.\n\n“Teaching was my life,” she will tell the pupils,"
     " according to a copy of her farewell released by the governors.", ["Tilde Sorlie"]),
    # the subject of a "when" clause is not the sentence's subject
    ("Ivo Sandvoll looked worried when Hallvard Brattli mentioned the boiler.\n\n“It will last the winter,” he"
     " said.", ["Ivo Sandvoll"]),
    # a verb form after a determiner is a noun ("the email read"): the document's sender speaks
    ("The Sorlie campaign wrote to parents on Tuesday.\n\n“Vote for a warm school,” the email read.",
     ["Sorlie campaign"]),
    # a finished quotation, then "Roe said he …": a new sentence reporting Roe, not an attribution
    ("“The roof leaks,” Ivo Sandvoll told the governors. “Nobody listens.” Hallvard Brattli said he would"
     " bring buckets.", ["Ivo Sandvoll", "Ivo Sandvoll"]),
    # "it reads" after a document: its author, named as its sender, speaks
    ("A note was written on Friday by the caretaker Ivo Sandvoll and pinned to the gym door.\n\n“Keep out"
     " until Monday,” it reads.", ["Ivo Sandvoll"]),
    # with no speech verb, a sentence subject named once by first name and surname still speaks
    ("All through the winter, Pia Sorlie feared that the gym was turning into “an ice rink with hoops.”",
     ["Pia Sorlie"]),
    # "Roe’s office said": the office speaks for Roe, and is named so
    ("Sen. Ola Brekke spoke on Monday.\n\n“We will meet next week,” Brekke’s office said in a statement.",
     ["Brekke’s office"]),
    # the agent of a passive ("was backed by Sen. X") acts, as a subject does
    ("Head Teacher Ingrid Sorlie closed the gym. Sorlie’s decision was supported by Dr. Yrsa Brekke of the"
     " parents' council.\n\n“Safety comes first,” she wrote.", ["Yrsa Brekke"]),
    # "the president" is not the vice president named since
    ("President Ola Brekke opened the session. Vice President Ivo Sandvoll sat beside him.\n\n“The session is"
     " open,” the president said.", ["Ola Brekke"]),
    # a document named in an opening phrase is not the subject after its comma
    ("Ivo Sandvoll won Hallvard Brattli’s vote.\n\nIn a leaflet printed by the Sandvoll team, Brattli wrote that the"
     " caretaker “knows every pipe in the building.”", ["Hallvard Brattli"]),
    # with no speech verb, a possessive subject before a noun of speech speaks ("Roe’s claim that …")
    ("Head Teacher Pia Sorlie met the governors. Sorlie’s remark that the gym is a “freezer with windows”"
     " made the papers.", ["Pia Sorlie"]),
    # a quote opening its paragraph after a paragraph of paraphrase: the speaker just before, when
    # nobody else is named since
    ("“We need more buses,” said Pia Sorlie, who runs the school.\n\nMany parents drive their children in"
     " every day.\n\n“The road is too busy at eight.”", ["Pia Sorlie", "Pia Sorlie"]),
    # a plural opening the sentence names nobody
    ("Boatbuilders rejected the plan on Monday. “The new rules will empty every slipway on this coast by June.”",
     [None]),
    # a sentence's subject with no speech verb speaks only if the article names it as a person
    ("Each autumn the Harbour Lantern Trust lights its “Bright Quay” evenings for the volunteers.", [None]),
]


@pytest.mark.parametrize(("text", "speakers"), CLASS_CASES)
def test_issue_classes(text: str, speakers: list[str | None]) -> None:
    assert [q.speaker for q in find_quotes(text)] == speakers


def test_transcript_turns_belong_to_the_named_speaker() -> None:
    text = ("Presenter Jorund Aavik spoke with Governor Ragna Vikestad about the ferry. Vikestad has run the"
            " province since 2019.\n\nAAVIK: Will the ferry run this winter?\n\nVIKESTAD: It will run every day"
            " of the winter.\n\nQ: And the toll?\n\nA: The toll stays where it is.")
    got = [(q.text, q.speaker) for q in find_quotes(text)]
    assert got == [("Will the ferry run this winter?", "Jorund Aavik"),
                   ("It will run every day of the winter.", "Ragna Vikestad"),
                   ("And the toll?", None), ("The toll stays where it is.", "Ragna Vikestad")]


def test_a_capitalised_label_is_no_transcript() -> None:
    # one label line, and a name the article never writes in ordinary case
    assert find_quotes("BREAKING: The ferry is late.\n\nUPDATE: The ferry has arrived.") == []


@pytest.mark.parametrize(("text", "quoted"), [
    ("“We will not pay the toll,’’ said Ottar Bruvik.", "We will not pay the toll,"),
    ("‘‘We will not pay the toll,’’ said Ottar Bruvik.", "We will not pay the toll,"),
    ("'We will not pay the toll,' said Ottar Bruvik, the guild chair.", "We will not pay the toll,"),
    ("«We will not pay the toll», said Ottar Bruvik.", "We will not pay the toll"),
])
def test_other_quotation_marks(text: str, quoted: str) -> None:
    (q,) = find_quotes(text)
    assert (q.text, q.speaker) == (quoted, "Ottar Bruvik")


@pytest.mark.parametrize(("text", "quoted"), [
    ("«Wir zahlen die Maut nicht», sagte Ottar Bruvik, der Vorsitzende.", "Wir zahlen die Maut nicht"),
    ("Der Hafenmeister sagte: „Die Fähre fährt im Winter nicht.“ Die Stadtverwaltung widersprach heute.",
     "Die Fähre fährt im Winter nicht."),
    ("Le maire a déclaré : « Le bac ne circulera pas cet hiver. » La Mairie a refusé de commenter.",
     "Le bac ne circulera pas cet hiver."),
    ("「冬はフェリーが運航しない」と港長は述べた。", "冬はフェリーが運航しない"),
])
def test_other_languages_find_quotes_and_invent_no_speaker(text: str, quoted: str) -> None:
    (q,) = find_quotes(text)
    assert (q.text, q.speaker) == (quoted, None)


def test_bare_surname_is_the_person_introduced_first_unless_another_was_just_named() -> None:
    from app.pipeline.quotes.entities import NameIndex

    text = ("The council held a party for the harbour mayor, Olga Brannvik, on Monday. The crowd also cheered for"
            " Piet Brannvik, a retired ferry captain who watched from the quay with several old friends from the"
            " shipyard where he had worked for decades before the yard closed and the town lost its ferries for"
            " a whole winter, and the council had to hire buses to carry the workers around the bay every morning"
            " and every night. Later Brannvik spoke. The quay was full. Piet Brannvik waved and Brannvik smiled.")
    names = NameIndex(text)
    assert names.full_name("Brannvik", text.index("Later Brannvik") + 6) == "Olga Brannvik"
    assert names.full_name("Brannvik", text.index("Brannvik smiled")) == "Piet Brannvik"


def test_a_party_letter_in_parentheses_never_speaks() -> None:
    text = ("Nordvik Foods opposed the bill of Rep. Pia Sorlie (D). \"Bread will be cheaper,\" the company"
            " posted.")
    assert "D" not in {q.speaker for q in find_quotes(text)}


def test_subject_before_an_appositive_with_a_quoted_title_and_a_who_clause_speaks() -> None:
    # a relative clause and an appositive (holding a quoted title) after the subject: the first name speaks
    text = ("Hallvard Brattli wrote the school song.\n\nPia Sorlie, a singer on Brattli’s record, \"Chalk and"
            " Rain,\" who later taught beside Brattli, said her teacher was \"a patient man.\"")
    quotes = find_quotes(text)
    assert (quotes[-1].text, quotes[-1].speaker) == ("a patient man.", "Pia Sorlie")
