"""Wrong speakers (issue 13): general English rules for who a pronoun, a bare surname or a
description means, checked on sentences written for these tests.

Every person, organisation and place below is invented; none comes from an evaluation article or
from the corpus.
"""

from __future__ import annotations

import pytest

from app.pipeline.quotes import find_quotes


def _speakers(text: str) -> list[str | None]:
    return [q.speaker for q in find_quotes(text)]


def test_a_name_after_a_sentence_opening_conjunction_is_the_subject_a_pronoun_means() -> None:
    # "And Roe, for all …, seems to agree": the conjunction does not make Roe an object
    text = ("“The ferry will run again in May,” Ada Quist said on Monday.\n\n"
            "And Jane Roe, for all the doubts of the harbour board, seems to agree. "
            "“We have waited long enough,” she said.")
    assert _speakers(text) == ["Ada Quist", "Jane Roe"]


def test_a_bare_surname_stays_with_its_bearer_unless_the_other_was_just_named() -> None:
    # two Roes: "Roe" here is Tom Roe, whom the article means by it; the pronoun "she" does not
    # turn it into Mara Roe, named in full only far back
    filler = "The council met again on Tuesday and the vote was put off for another week. " * 25
    text = ("Mara Roe, a teacher, opened the meeting.\n\n" + filler + "\n\n"
            "Harbour councillor Ada Quist listened as Tom Roe spoke for the ferry plan. Roe has backed it "
            "for years. “It will pass,” she said.")
    assert _speakers(text) == ["Ada Quist"]


@pytest.mark.parametrize("first", ["Jan", "Jean", "Marian"])
def test_a_first_name_english_news_reads_as_a_woman_s_is_no_man_s(first: str) -> None:
    # the name table's overall answer for these is male; in English-language news they are mostly
    # women's, so the name tells no gender and "she" may mean its bearer
    text = (f"“The ferry will run again in May,” Ada Quist said on Monday.\n\n"
            f"Former harbour master {first} Brewster, who ran the port for a decade, calls the delay "
            f"“a disgrace.” “Nobody asked the crews,” she said.")
    assert _speakers(text)[-1] == f"{first} Brewster"


@pytest.mark.parametrize(("text", "speakers"), [
    # a verb the table lacks ("sniped"): the sentence's own subject, not the next sentence's speaker
    ("Jane Roe sniped that the ferry plan was “a fantasy.” Tom Doe shrugged. “We will build it anyway,” "
     "Doe said.", ["Jane Roe", "Tom Doe"]),
    ("“The ferry is late again,” said Tom Doe, a dock worker. Harbour master Jane Roe resisted: "
     "“The timetable is not mine to change.”", ["Tom Doe", "Jane Roe"]),
    # the quote continues a clause about the name before it: no subject of its own, the neighbour speaks
    ("“He lost the vote,” said Tom Doe. Roe “never had a chance,” he added.", ["Tom Doe", "Tom Doe"]),
])
def test_a_sentence_with_its_own_subject_does_not_take_a_neighbour_s_speaker(
        text: str, speakers: list[str | None]) -> None:
    assert _speakers(text) == speakers


@pytest.mark.parametrize(("text", "speaker"), [
    # a short form goes to the fullest name of the body the article gives
    ("The Harbour Daily Gazette broke the story on Monday. According to the Daily Gazette, the port "
     "“will not reopen before May.”", "Harbour Daily Gazette"),
    # initials beside the words they stand for are one body, not two
    ("The HT Daily Gazette and the Harbour Town Daily Gazette are one paper. According to the Daily "
     "Gazette, the port “will not reopen before May.”", "Harbour Town Daily Gazette"),
    # "the association": the body the article named with that noun, not the person named since
    ("The Harbour Pilots Association runs the port. Tom Doe is its chair. “We will reopen in May,” "
     "the association said.", "Harbour Pilots Association"),
    # a bare word the article never gives as a person's name: the body it opens
    ("Norsk Shipping Group runs the port. “We will reopen in May,” Norsk said.", "Norsk Shipping Group"),
    ("Norsk Shipping Group hired Jane Norsk last year. “We will reopen in May,” Norsk said.", "Jane Norsk"),
])
def test_short_forms_of_a_body_go_to_its_fullest_name(text: str, speaker: str) -> None:
    assert _speakers(text)[-1] == speaker


@pytest.mark.parametrize(("text", "speakers"), [
    # "he said Roe": a name after a verb that has its subject is the object, no inverted speaker
    ("Tom Doe met Ben Low on Monday. Asked who leads the council, he said Low. “I would say Ben, for now,” "
     "he said.", ["Tom Doe"]),
    # the object of a verb the table does not list is still no subject: the one who opens the sentence
    ("Tom Doe met Ben Low at the docks on Monday. “The ferry will run,” he said.", ["Tom Doe"]),
    # "As for Roe, he …": the topic the pronoun takes up
    ("“We need the votes,” Ben Low said.\n\nAs for Tom Doe, he said he was not worried. “I will have "
     "the votes,” he said.", ["Ben Low", "Tom Doe"]),
    # "The Low campaign …": a name modifying the subject is no subject a pronoun goes back to
    ("Ben Low and Tom Doe debated on Friday.\n\nThe Doe campaign on Monday picked up a tweet that suggested "
     "Low was quitting the race.\n\n“Is this what we accept now?” he told the Courier.", ["Ben Low"]),
])
def test_pronouns_go_to_the_person_the_clause_is_about(text: str, speakers: list[str]) -> None:
    assert _speakers(text) == speakers


def test_a_description_is_not_resolved_through_a_title_inside_quoted_words_or_a_lesser_title() -> None:
    text = ("Vice President Ada Quist opened the fair. Tom Doe spoke next, teasing the mayor. "
            "“I run harder against President Ben Low than anyone,” the former president said.")
    assert _speakers(text) == ["Tom Doe"]


def test_a_title_case_headline_with_short_words_in_lower_case_gives_no_full_name() -> None:
    # "Harbour Donor Quist and Roe May be Aligning on Tolls": a headline in title case (short
    # function words stay in lower case), so "Donor Quist" is no name the body can widen to
    filler = "The toll has risen every year since the bridge opened, and the council has not said why. " * 40
    text = ("Harbour Donor Quist and Roe May be Aligning on Tolls.\n\n"
            "Top harbour donor Ada Quist said on Friday she met Tom Roe this week.\n\n"
            + filler + "\n\n“They have to be able to win,” Quist said.")
    assert _speakers(text) == ["Ada Quist"]


def test_a_name_modifying_a_noun_after_a_is_no_subject_a_pronoun_goes_back_to() -> None:
    text = ("Ada Quist runs the ferry company. Quist has many friends in the port.\n\n"
            "Former harbour master Jane Roe, a Quist supporter, fanned controversy this year over her "
            "remark that “nobody reads the tide tables.”")
    assert _speakers(text) == ["Jane Roe"]


@pytest.mark.parametrize(("text", "speakers"), [
    # a first name, then a title word: the title word is the surname
    ("“We will reopen the yard,” said Tove Provost, a shipwright.", ["Tove Provost"]),
    ("“We will reopen the yard,” said Judge Mara Bishop.", ["Mara Bishop"]),
    # the bare surname, once the article gives its bearer, is that person, not a title
    ("Harbour councillor Tove Provost backs the ferry plan. “It will pass,” Provost said.", ["Tove Provost"]),
    ("Tove Provost runs the yard. Ada Quist, who organises the fair, lives next door.\n\nIn an interview, "
     "Provost had nothing bad to say about the fair. “It brings people in,” she said.", ["Tove Provost"]),
])
def test_a_surname_that_is_a_title_word(text: str, speakers: list[str]) -> None:
    assert _speakers(text) == speakers


@pytest.mark.parametrize(("text", "speaker"), [
    # after the quote, "and" opens a clause of its own: its subject is not the quote's speaker
    ("Tom Doe said he would make the harbour “glow at night,” for instance, and Ben Low vowed to fill it "
     "with boats.", "Tom Doe"),
    # a verb right after the quote with "her …" after it continues the sentence, it names no speaker
    ("Tom Doe further summed up Ada Quist as “reckless,” denounced her record as harbour master and said "
     "she should resign.", "Tom Doe"),
    # but a name after "his …" is an inverted speaker still, and so is one in apposition to "its …"
    ("“We will win the vote,” added his campaign manager Ben Low.", "Ben Low"),
    ("The Harbour Authority said on Monday that the port was closed. “It will reopen in May,” said its "
     "director, Jane Roe.", "Jane Roe"),
])
def test_what_follows_a_quote_inside_its_sentence(text: str, speaker: str) -> None:
    assert _speakers(text)[-1] == speaker


@pytest.mark.parametrize(("text", "speaker"), [
    # the person introduced after the quote by an appositive, not the body of the description
    ("“The port will reopen in May,” said the Harbour Authority’s chief executive, Jane Roe, in a statement.",
     "Jane Roe"),
    ("“The port will reopen in May,” the agency’s director, Jane Roe, told reporters.", "Jane Roe"),
    # "Roe of the Harbour Authority": the person, not the body
    ("Jane Roe of the Harbour Authority told reporters that the port would “reopen in May.”", "Jane Roe"),
    ("“The port will reopen in May,” said Jane Roe of the Harbour Authority.", "Jane Roe"),
    # a body only talked about is no speaker
    ("Critics of the Harbour Authority have long called for reform. “The board is asleep,” said Tom Doe, "
     "a pilot.", "Tom Doe"),
])
def test_a_person_named_beside_a_body_speaks_not_the_body(text: str, speaker: str) -> None:
    assert _speakers(text) == [speaker]


def test_a_pronoun_after_a_possessive_tells_nothing_of_the_possessor_s_gender() -> None:
    # "Moss' charge that she lied": "she" is someone else, so Moss stays a man ("said he")
    text = ("Quinn Moss said he would debate Jane Roe on Monday. Moss' charge that she lied angered her allies.\n\n"
            "When Moss accused Roe of being weak, she said “I stood up to them.”")
    assert _speakers(text) == ["Jane Roe"]


def test_a_place_word_the_article_gives_as_a_surname_is_that_person_where_a_verb_follows() -> None:
    text = ("“The fair is open,” said Jane Roe.\n\nRoe then handed the microphone to the poet Ada Chad. "
            "Chad landed a sharp dig at the council.\n\n“I was born at sea,” she said.")
    assert _speakers(text) == ["Jane Roe", "Ada Chad"]


def test_a_surname_that_is_a_word_for_a_law_or_plan_still_names_its_bearer() -> None:
    # "Treaty" alone could head "the Harbour Treaty"; after "Ben Treaty" it is Ben Treaty
    text = ("“We need more donors,” said Tom Doe.\n\nThe fund is run by Ben Treaty, a banker. Donors want to do much "
            "more, Treaty said.\n\n“It is a flight to quality,” he said.")
    assert _speakers(text) == ["Tom Doe", "Ben Treaty"]


@pytest.mark.parametrize("text", [
    "Jane Roe, at a consulting firm called Harbour Partners, argues that the port will “reopen in May.”",
    "Jane Roe, at a consulting firm called Harbour Partners, argues: “The port will reopen in May.”",
])
def test_a_body_named_inside_the_subject_s_appositive_does_not_speak(text: str) -> None:
    # ", at a firm called Harbour Partners,": the participle's name is no subject; Roe speaks
    assert _speakers(text) == ["Jane Roe"]


def test_a_hyphen_opening_a_line_is_a_bullet_not_part_of_the_name() -> None:
    # "-Jane Roe explains …" in a newsletter's list: the whole name, not "Roe" alone
    text = "Today's reading:\n-Jane Roe explains why the harbour is “unusual.” [Courier]\n-More later."
    assert _speakers(text) == ["Jane Roe"]


@pytest.mark.parametrize(("text", "speaker"), [
    # a month's short form that is also a first name, written without a period, is a name
    ("“Many of his ideas are odd,” columnist Jun Holm wrote in the Harbour Times.", "Jun Holm"),
    ("“Many of his ideas are odd,” said Mar Quist, a columnist.", "Mar Quist"),
])
def test_a_month_s_short_form_that_is_a_first_name(text: str, speaker: str) -> None:
    assert _speakers(text) == [speaker]


def test_a_month_s_short_form_with_its_period_is_still_a_date() -> None:
    (q,) = find_quotes("On Jun. 5 the council met. “The port will reopen,” said Jane Roe.")
    assert q.speaker == "Jane Roe"


@pytest.mark.parametrize(("text", "speaker"), [
    # a surname misspelt by one slip (two letters swapped, one left out) is the person given in full
    ("Singer Anders Kvistad said the album was nearly done. “We wrote it twice,” Kvsitad said.", "Anders Kvistad"),
    ("Council leader Tove Brennagh spoke first. “The yard will stay,” Brenagh said.", "Tove Brennagh"),
    # but one letter changed is another name
    ("Harbour master Tom Valdor spoke first. “The yard will stay,” Vandor said.", "Vandor"),
])
def test_a_surname_misspelt_by_one_slip(text: str, speaker: str) -> None:
    assert _speakers(text) == [speaker]


def test_an_indefinite_pronoun_is_no_speaker_and_takes_no_neighbour_s() -> None:
    # "Nobody could say whether “…”": not a person called Nobody, nor the harbour master quoted before
    text = ("“The quay reopens on Monday,” said harbour master Tove Brennagh. Nobody could say whether "
            "“the boats will dock before the storm season.”")
    assert _speakers(text) == ["Tove Brennagh", None]


def test_a_name_in_decomposed_form_keeps_its_accents() -> None:
    # NFD text writes "é" as "e" and a combining mark, and mis-decoded UTF-8 as "A" and a
    # combining tilde before the stray byte: the name is the whole word, not its first letters
    decomposed = "Jose\u0301 Marti\u0301nez"
    garbled = "Ana SolA\u0303\u00a9r"
    text = (f"{decomposed}, a ferry captain, spoke first. “The tide is late,” {decomposed} said.\n\n"
            f"“The harbour will wait,” said {garbled}, the pilot.")
    assert _speakers(text) == [decomposed, garbled]


def test_the_first_of_two_surnames_alone_names_the_person() -> None:
    # Spanish and Portuguese names carry two surnames; the short form keeps the first
    text = ("Ana Basañez Roe, a former harbour envoy, spoke at the pier.\n\n"
            "Basañez called the plan “a fine start for the ferry.”")
    assert _speakers(text) == ["Ana Basañez Roe"]


def test_a_sentence_opening_for_a_person_gives_that_person_s_view() -> None:
    # "For Roe, …": the sentence says what Roe thinks, though Doe is its subject; the pronoun
    # after it takes Roe up
    text = ("Paul Doe gave a lecture on tidal power at the Harbourton library.\n\n"
            "For Tom Roe, Doe is showing how little the council plans. “The council never looks ahead,” he says.")
    assert _speakers(text) == ["Tom Roe"]


@pytest.mark.parametrize(("text", "speaker"), [
    ("Jane Roe spoke at the pier on Monday.\n\n"
     "The Roe campaign reckons that “a modest fare” could cover the running costs.", "Roe campaign"),
    ("Tom Doe won the harbour vote on Monday.\n\n"
     "His campaign objected that the recount was “a shambles” on Tuesday.", "Doe campaign"),
    ("Jane Roe spoke at the pier.\n\nThe Roe campaign on Friday again sharpened its criticism of the board, saying "
     "the ferry fare is “a disgrace” for commuters.", "Roe campaign"),
])
def test_a_person_s_campaign_as_the_subject_speaks_not_the_person(text: str, speaker: str) -> None:
    assert _speakers(text) == [speaker]


@pytest.mark.parametrize("text", [
    "Doe and Roe have clashed most often over the school budget, with Roe recently pledging to “fix every roof”.",
    "Jane Roe and Paul Doe spoke at the pier, with Jane Roe calling the toll “a disgrace”.",
])
def test_with_a_name_and_a_participle_the_name_speaks(text: str) -> None:
    # ", with Roe promising …": the participle's subject is the name after "with", not the
    # sentence's last-named subject
    assert [s.split()[-1] for s in _speakers(text) if s] == ["Roe"]


def test_a_description_with_a_place_is_not_anyone_with_the_title() -> None:
    # "the Northshire senator": Quist is a senator, but the article never places her in
    # Northshire; the sentence before makes Roe the one meant
    text = ("Tom Roe talked up school repairs on a visit to a bus depot alongside Sen. Ada Quist.\n\n"
            "The Northshire senator later said he was hopeful and that “the vote is close.”")
    assert _speakers(text) == ["Tom Roe"]


def test_of_inside_a_title_does_not_make_its_bearer_an_object() -> None:
    # "Chair of the Ferry Board Jane Roe" after a long opening phrase: the "of" is the title's,
    # so Roe is the subject, not an appositive to the last name of the opening phrase
    text = ("On Friday, after reading a letter from fellow sailor Tom Doe with a drawing of the Bell of "
            "Harbourton, Chair of the Ferry Board Jane Roe said “the ferries must run all winter.”")
    assert _speakers(text) == ["Jane Roe"]


@pytest.mark.parametrize("text", [
    "When informed Tom Doe had joined the rowing club, Ada Roe paused briefly and remarked that “the crew gets stronger.”",
    "When Tom Doe retired from the lifeboat crew, Ada Roe issued this message:\n\n“We will miss our finest skipper.”",
])
def test_a_name_in_an_opening_adverbial_clause_is_not_the_subject(text: str) -> None:
    assert _speakers(text) == ["Ada Roe"]


def test_a_body_reporting_the_sentence_is_the_quote_s_source() -> None:
    # "…, the Harbour Courier reported.": the words reached the article through the paper (as
    # "according to the Courier" does); a person reporting is read by the usual rules
    text = ("Harbourton Rowing Club members kept shouting, “Save the boathouse,” after the council hinted "
            "it may sell the plot by the canal, the Harbour Courier reports.\n\n"
            "“The ferry is late,” Tom Doe said on Monday.")
    assert _speakers(text) == ["Harbour Courier", "Tom Doe"]


def test_a_programme_named_after_its_host_gives_the_host_s_full_name() -> None:
    # "The Jane Roe Show" speaks for nobody, but it is where the article gives Roe in full
    text = ("Speaking with Harbour TV’s “The Jane Roe Show,” Ada Quist talked about the pier.\n\n"
            "“The pier will stay,” Quist said. “And the ferry?” Roe asked.")
    assert _speakers(text) == [None, "Ada Quist", "Jane Roe"]  # the programme's title names nobody


def test_an_epithet_before_the_name_after_a_quote_keeps_the_name_the_speaker() -> None:
    # "…,” a weary Quist sniffed": "a weary" describes the named speaker
    text = ("Tom Doe said the harbour had lost its way. “The harbour is lost,” he claimed.\n\n"
            "“The tide comes back every time,” a weary Ada Quist sniffed. “It always does.”")
    assert _speakers(text) == ["Tom Doe", "Ada Quist", "Ada Quist"]
