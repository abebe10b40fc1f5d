"""Quote extraction on writing from outlets nobody tuned for (issue 13): what is no speaker, where
a name begins and ends, transcripts, and other quotation marks.

Every person, organisation and place below is invented; none comes from an evaluation article or
from the corpus.
"""

from __future__ import annotations

import pytest

from app.pipeline.quotes import find_quotes


def _speakers(text: str) -> list[tuple[str, str | None]]:
    return [(q.text, q.speaker) for q in find_quotes(text)]


def test_interview_turns_in_double_parentheses_belong_to_the_named_speaker() -> None:
    text = ("Our reporter spoke with lock engineer Brisa Tollakson about the new gates.\n\n"
            "((WN)) How did the project start?\n\n"
            "((Brisa Tollakson)) It started with a flood. We had no choice.\n\n"
            "((WN)) And the cost?\n\n"
            "((Brisa Tollakson)) Far less than the flood cost us.")
    assert _speakers(text) == [("How did the project start?", None),
                               ("It started with a flood. We had no choice.", "Brisa Tollakson"),
                               ("And the cost?", None),
                               ("Far less than the flood cost us.", "Brisa Tollakson")]


def test_interview_turns_under_initials_after_a_first_turn_in_full() -> None:
    # the first turn gives each label in full, later turns their initials
    text = ("Harbour Tidings put questions to ferry pilot Mirela Quandt.\n\n"
            "((Harbour Tidings)) Why the night crossings?\n\n"
            "Mirela Quandt: The day boats were full. We had to.\n\n"
            "((HT)) Were the crews willing?\n\n"
            "MQ: Most of them asked for it.\n\n"
            "((HT)) And next year?\n\n"
            "MQ: Two more boats.")
    assert _speakers(text) == [("Why the night crossings?", "Harbour Tidings"),
                               ("The day boats were full. We had to.", "Mirela Quandt"),
                               ("Were the crews willing?", "Harbour Tidings"),
                               ("Most of them asked for it.", "Mirela Quandt"),
                               ("And next year?", "Harbour Tidings"),
                               ("Two more boats.", "Mirela Quandt")]


def test_a_name_and_colon_with_no_initials_after_it_is_no_turn() -> None:
    assert find_quotes("Mirela Quandt: a life at sea\n\nShe sailed for forty years.\n\n"
                       "Tomas Eld: a life ashore\n\nHe never left the quay.") == []


@pytest.mark.parametrize("text", [
    "Brannagh O’ Delaney, head of the pilots’ guild, said: “The tide waits for nobody.”",
    "Brannagh O' Delaney, head of the pilots' guild, said: \"The tide waits for nobody.\"",
])
def test_a_name_printed_with_a_space_after_o_apostrophe_is_one_name(text: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker is not None and q.speaker.startswith("Brannagh O") and q.speaker.endswith("Delaney")


@pytest.mark.parametrize("text", [
    "“The tide was late,” said University of Harbourton, Eastport’s chancellor, Jane Roe.",
    "“The tide was late,” said Harbourton University, Eastport's chancellor, Jane Roe.",
])
def test_a_person_in_apposition_after_a_body_and_a_possessive_role_speaks(text: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker == "Jane Roe"


def test_a_body_followed_by_a_place_still_speaks() -> None:
    (q,) = find_quotes("“The tide was late,” said Harbourton University, in Eastport.")
    assert q.speaker == "Harbourton University"


@pytest.mark.parametrize("text", [
    "“It was a trick,” Jane Roe, chief executive of the Eastport-based pilots' journal Harbour Tide, told reporters.",
    "Jane Roe, head of the Eastport office of the pilots' journal Harbour Tide, said: “It was a trick.”",
])
def test_a_name_after_of_in_an_appositive_belongs_to_the_role(text: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker == "Jane Roe"


@pytest.mark.parametrize("text", [
    # the body's short form in parentheses is no subject
    "Jane Roe of the Harbour Pilots Association (HPA) told the press the tides had changed: “We sail at dawn.”",
    # a role word opens an appositive with a relative clause and a foreign body's name in it
    "Professor Jane Roe, Chief Warden of Northshire's Ecole Superieure des Phares that led the lighthouse survey,"
    " said, “We sail at dawn.”",
])
def test_the_person_heading_the_subject_speaks(text: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker == "Jane Roe"


def test_a_long_appositive_after_the_quote_still_reaches_its_verb() -> None:
    text = ("The Harbour Board said in a statement that the pier would close.\n\n"
            "\"The pier has served us for a century and more,\" Harbour Secretary Jane Roe, who sits in a caretaker"
            " cabinet of civil servants from the coast, said in the statement.")
    (q,) = find_quotes(text)
    assert q.speaker == "Jane Roe"


def test_a_titled_surname_after_an_opening_phrase_is_the_subject() -> None:
    text = ("Harbour leader Jane Roe has spoken.\n\n"
            "At a dinner to mark the retirement of Ada K Quist, Mrs Roe called the old quay “a museum of leaks”.")
    (q,) = find_quotes(text)
    assert q.speaker == "Jane Roe"


@pytest.mark.parametrize("text", [
    "Tom Doe, Chairman Harbour Ferries Outer Isles, says: “We will sail at dawn.”",
    "Tom Doe, CEO Harbour Ferries, said: “We will sail at dawn.”",
])
def test_a_title_and_a_body_in_apposition_to_a_full_name_are_its_role(text: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker == "Tom Doe"


def test_a_person_after_an_opening_phrase_still_speaks() -> None:
    (q,) = find_quotes("After the vote, former mayor Tom Doe said: “We will sail at dawn.”")
    assert q.speaker == "Tom Doe"


def test_saying_after_a_reported_clause_belongs_to_the_named_subject_before_it() -> None:
    text = ("Jim Roe lost his skipper's licence in May. The crew's cook, Tom Doe, told the Harbour Gazette radio"
            " show Roe had no excuse for missing the tide, saying: “Rules are rules.”")
    (q,) = find_quotes(text)
    assert q.speaker == "Tom Doe"


@pytest.mark.parametrize("text", [
    "Tom Roe retired from the ferry on Friday. His daughter Victoria said “Nobody knows the channel better.”",
    "Tom Roe retired from the ferry on Friday. His sister, Georgia, said: “Nobody knows the channel better.”",
])
def test_a_relative_named_by_a_first_name_that_is_also_a_place_speaks(text: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker in ("Victoria", "Georgia") and q.speaker_type == "person"


def test_he_after_a_bodys_unnamed_spokesman_speaks_for_the_body() -> None:
    text = ("Tom Doe called the winter timetable a mess. \"Nobody can plan a week,\" he said. But a spokesman for"
            " the Harbour Office stood firm on Tuesday. He said: \"Every crossing leaves on time.\"")
    assert _speakers(text)[-1] == ("Every crossing leaves on time.", "Harbour Office")


def test_a_short_form_in_parentheses_after_bodies_alone_still_speaks() -> None:
    text = ("The Harbour Board is under pressure from the Pilots Guild (PG) as well as the"
            " Eastport Ferry Association (EFA), which called the new timetable \"a muddle from start to finish\".")
    (q,) = find_quotes(text)
    assert q.speaker == "Eastport Ferry Association"


@pytest.mark.parametrize(("text", "body"), [
    ('The Teachers Guild said "the new term starts a week late".', "Teachers Guild"),
    ('Later the Harbour Pilots Guild said "no ship sails tonight".', "Harbour Pilots Guild"),
    ('The Chamber of Shipping said "the quay fees are fair".', "Chamber of Shipping"),
])
def test_a_role_in_the_plural_before_a_body_word_is_part_of_its_name(text: str, body: str) -> None:
    # "Teachers", "Pilots" are role words; before "Guild" they name the body, not a title
    (q,) = find_quotes(text)
    assert q.speaker == body


@pytest.mark.parametrize("second", [
    'Tom Doe, head of the pilots, said: "The figures do not add up."',
    'Pilots\' chief Tom Doe said "The figures do not add up."',
    'Tom Doe, head of the pilots, said the plan was "dead in the water".',
])
def test_a_finished_quote_is_not_attributed_to_the_next_sentences_own_speech(second: str) -> None:
    text = ('"The ferries are full," said Jane Roe. "By doubling the fleet, we will carry everyone." ' + second)
    assert _speakers(text)[1] == ("By doubling the fleet, we will carry everyone.", "Jane Roe")


def test_a_finished_quote_then_its_speaker_still_speaks() -> None:
    (q,) = find_quotes('"We will carry everyone." Jane Roe, head of the pilots, said.')
    assert q.speaker == "Jane Roe"


def test_quoted_words_announced_earlier_then_the_speech_clause() -> None:
    text = ('Talks went on. "The harbour wants a bigger deal. Bigger than the little deal" announced in'
            ' October, said Tom Doe, a scholar at the Harbour Institute.')
    (q,) = find_quotes(text)
    assert q.speaker == "Tom Doe"


@pytest.mark.parametrize(("text", "speaker"), [
    ("On Friday, the Sailmaker’s Almanac, a paper read in every boatyard, argued that the yards need “more"
     " slipways”.", "Sailmaker’s Almanac"),
    # a person's possessive takes no "the"
    ("On Friday, Harbourton’s Jane Roe argued that the yards need “more slipways”.", "Jane Roe"),
])
def test_the_before_a_possessive_word_makes_one_bodys_name(text: str, speaker: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker == speaker


def test_a_body_named_the_other_way_round_is_its_fullest_name() -> None:
    (q,) = find_quotes("The family followed advice from the Harbour Department of Ports. The Ports Department"
                       " said the case had \"intense attention\".")
    assert q.speaker == "Harbour Department of Ports"


def test_a_title_and_post_nominal_letters_make_a_person_of_a_name_that_looks_like_a_building() -> None:
    (q,) = find_quotes('Judge Eastport Hall QC said they "showed no respect for anyone."')
    assert (q.speaker, q.speaker_type) == ("Eastport Hall", "person")


@pytest.mark.parametrize(("text", "speaker"), [
    ('The Eastport Rowing Federation (ERF), which includes the Night Force, declared that the ferry was "lost".',
     "Eastport Rowing Federation"),
    # an object relative clause names its own subject
    ('Tom Doe criticised the plan, which a Harbour Board inquiry said was "extremely careless".', "Harbour Board"),
])
def test_a_relative_clause_inside_the_subject(text: str, speaker: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker == speaker


def test_a_pronoun_after_an_opening_phrase_introducing_words_with_a_colon_speaks() -> None:
    text = ('The Harbour Guild called the lifeboat crew "fearless" after the rescue. Tom Doe, the mayor of Eastport,'
            ' closed the schools for a day. In a letter to parents, he honoured the crew’s courage: "They did not'
            ' hesitate."')
    assert _speakers(text) == [("fearless", "Harbour Guild"), ("They did not hesitate.", "Tom Doe")]


def test_he_takes_up_the_source_a_sentence_opened_with() -> None:
    text = ('Jack Roe runs the chart office.\n\n'
            'Tom Doe of the Harbour Board told the press: "Good pilots will save us."\n\n'
            'According to Roe, few sailors trust the new charts. "Now that they can read them," he told the press,'
            ' "they will trust them."')
    assert [s for _, s in _speakers(text)] == ["Tom Doe", "Jack Roe", "Jack Roe"]


def test_the_committee_is_the_one_named_with_capitals_on_its_first_word_only() -> None:
    text = ("The busy Harbour tides and moorings committee sat on Friday. Its members could not agree."
            " Without a second vote, says the committee, the council cannot \"settle the matter\".")
    (q,) = find_quotes(text)
    assert q.speaker == "Harbour tides and moorings committee"


def test_words_quoted_after_orders_from_someone_are_theirs() -> None:
    text = ("Jane Roe runs the port. Papers showed the closures began with directives from Roe to “show no mercy”"
            " in the “fight against smugglers”.")
    assert [s for _, s in _speakers(text)] == ["Jane Roe", "Jane Roe"]


def test_words_after_a_name_with_no_noun_for_speech_are_nobodys() -> None:
    (q,) = find_quotes("Jane Roe runs the port. The ferry sailed from Roe to “the old quay” on Monday.")
    assert q.speaker is None


def test_one_bracketed_label_is_no_transcript() -> None:
    assert find_quotes("((Editor's note)) The ferry timetable was corrected on Monday.") == []


@pytest.mark.parametrize(("text", "speaker"), [
    # a sentence adverb that opens the sentence is no part of the name
    ("Osgrove Pellow opened the quay.\n\nAfterwards Pellow hailed the deal as the “dawn of a new era”.",
     "Osgrove Pellow"),
    ("Namely, Osgrove Pellow said on Monday: “Those who stay silent cannot tell us what to do.”", "Osgrove Pellow"),
    ("Whereas Osgrove Pellow argued the town needs “a wider harbour”, nobody else did.", "Osgrove Pellow"),
    # a school is a body: "of" binds its name, and the person after the comma speaks
    ("Opening the fair at the Harbourton School of Navigation, Mrs Marrowby urged visitors to “look closely”.",
     "Marrowby"),
])
def test_words_glued_to_names(text: str, speaker: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker == speaker


@pytest.mark.parametrize("text", [
    "Skelbrae Vellacott is known for a move called the “harbour turn” in her dinghy.",
    "Skelbrae Vellacott said the ferry, known as the “Old Lady”, will be sold.",
])
def test_a_thing_and_the_name_it_goes_by_has_no_speaker(text: str) -> None:
    (q,) = find_quotes(text)
    assert q.speaker is None


@pytest.mark.parametrize(("text", "speaker", "title"), [
    # party words before a name are the person's affiliation
    ("“We will appeal,” said Tory Osgrove Pellow.", "Osgrove Pellow", "Tory"),
    ("“We will appeal,” said Lib Dem Osgrove Pellow.", "Osgrove Pellow", "Lib Dem"),
    # an office's place after "of"/"for" belongs to the title, up to the name
    ("“We will appeal,” said Mayor of Harbourton Osgrove Vellacott.", "Osgrove Vellacott", "Mayor of Harbourton"),
    ("“We will appeal,” said Mayor of New Harbourton Jane Vellacott.", "Jane Vellacott", "Mayor of New Harbourton"),
    ("“We will appeal,” said Labour MP for Harbourton Tindrel Vellacott.", "Tindrel Vellacott",
     "Labour MP for Harbourton"),
    ("“We will appeal,” said President of Ruritania Jane Ann Vellacott.", "Jane Ann Vellacott",
     "President of Ruritania"),
    # a body's name glued before a person's
    ("“We will appeal,” said the director of Amnesty Harbourton Jane Vellacott.", "Jane Vellacott",
     "Amnesty Harbourton"),
    # a body named with "of" keeps its words
    ("“We will appeal,” said the Department of Ports.", "Department of Ports", None),
])
def test_name_boundaries(text: str, speaker: str, title: str | None) -> None:
    (q,) = find_quotes(text)
    assert (q.speaker, q.speaker_title) == (speaker, title)


def test_an_office_and_its_place_name_nobody() -> None:
    # "the MP for Harbourton" is an office; the name in apposition speaks, never the place
    (q,) = find_quotes("“We will appeal,” said the Labour MP for Harbourton, Tindrel Vellacott.")
    assert q.speaker == "Tindrel Vellacott"
    (q,) = find_quotes("“We will appeal,” the Labour MP for Harbourton said.")
    assert q.speaker != "Harbourton"


def test_a_name_given_by_someone_is_their_word() -> None:
    # "… dubbed “…” by the Harbour Party": the agent's words, not a thing's name
    from app.pipeline.quotes.filters import is_name_given
    from app.pipeline.quotes.marks import find_spans

    text = "The plan was limited in a move branded a “timid climbdown” by the Harbour Party."
    (sp,) = find_spans(text)
    assert not is_name_given(text, sp)
    text = "The plan was limited in a move branded a “timid climbdown” last week."
    (sp,) = find_spans(text)
    assert is_name_given(text, sp)


@pytest.mark.parametrize(("text", "quoted"), [
    # typewriter marks of plain-text conversions: ``…''
    ("``We will not pay the toll,'' said Ottar Vellacott.", ["We will not pay the toll,"]),
    ("Ottar Vellacott said ``the toll is unfair'' and ``must go.''", ["the toll is unfair", "must go."]),
])
def test_typewriter_marks(text: str, quoted: list[str]) -> None:
    got = find_quotes(text)
    assert [(q.text, q.speaker) for q in got] == [(w, "Ottar Vellacott") for w in quoted]


def test_mirrored_guillemets_find_quotes_and_invent_no_speaker() -> None:
    (q,) = find_quotes("»Wir zahlen die Maut nicht«, sagte Ottar Vellacott, der Vorsitzende.")
    assert (q.text, q.speaker) == ("Wir zahlen die Maut nicht", None)


def test_single_marks_are_quotation_marks_in_a_text_without_double_marks() -> None:
    text = ("'We will not pay,' Ottar Vellacott told the Harbour Herald. 'Not one penny.'\n\n"
            "'The owners know where to find us,' he added.")
    assert [(q.text, q.speaker) for q in find_quotes(text)] == [
        ("We will not pay,", "Ottar Vellacott"), ("Not one penny.", "Ottar Vellacott"),
        ("The owners know where to find us,", "Ottar Vellacott")]


def test_a_single_marked_headline_is_no_house_style() -> None:
    from app.pipeline.quotes.marks import find_spans

    (sp,) = find_spans("Ferry chief warns of 'grave risk'\n\nThe ferry chief spoke on Monday.")
    assert sp.single


@pytest.mark.parametrize(("text", "speaker"), [
    # a first name before an initial, and a particle, begin a name
    ("Trade has slowed, said Mary E. Vellacott, a harbour economist. “Exports fell by a third,” she said.",
     "Mary E. Vellacott"),
    ("“We lost the boat,” Van Der Tollakson said.", "Van Der Tollakson"),
])
def test_name_beginnings(text: str, speaker: str) -> None:
    assert find_quotes(text)[-1].speaker == speaker


def test_a_conjunction_opening_the_sentence_is_no_part_of_the_name() -> None:
    (q,) = find_quotes("Osgrove Pellow arrived late. Once Pellow spoke, the crowd began chanting “Sails up!”")
    assert q.speaker != "Once Pellow"


def test_an_office_with_its_field_names_nobody() -> None:
    (q,) = find_quotes("The Ruritanian High Commissioner for Harbour Affairs said the ruling “was a mistake”.")
    assert q.speaker is None


def test_a_product_the_sentence_is_about_is_no_speaker() -> None:
    text = ("The Harbourphone Tablet sold well this winter. Reviewers said the Harbourphone Tablet was light.\n\n"
            "The Harbourphone Tablet also brings back the “classic” keyboard layout that users missed.")
    assert [q.speaker for q in find_quotes(text)] == [None]


@pytest.mark.parametrize("unit", [
    "((WN)) Will it run?\n\n((Orla Tollakson)) It will.\n\n",
    "Orla Tollakson Asks Harbour Folk To Wait\n",
    "HARBOURTON, Ruritania (Wire) — Orla Tollakson said “no”. ",
    "said Orla Tollakson and Jane Vellacott of the Harbour Board ",
    "PeÃ±aloza ÃªÃ±Ã± Orla said “x”. ",
    "((QX)) a\n\n((RT)) b\n\n((Zz)) c\n\n",
    "'a' 'b' ",
    "``a'' »b« ",
])
def test_hostile_turns_and_marks_stay_linear(unit: str) -> None:
    import time

    secs = []
    for size in (50_000, 200_000):
        text = (unit * (size // len(unit) + 1))[:size]
        t0 = time.process_time()
        quotes = find_quotes(text)
        secs.append(time.process_time() - t0)
        assert all(text[q.start:q.end] == q.text for q in quotes[:50])
    assert secs[1] < 20
    assert secs[1] < 8 * secs[0] + 0.5  # four times the text, about four times the time


@pytest.mark.parametrize(("phrase", "name", "title"), [
    # a body's name, then a person's: the person speaks for the body
    ("Harbour Gazette Jane Vellacott", "Jane Vellacott", "Harbour Gazette"),
    ("NRPA Jane Vellacott", "Jane Vellacott", "NRPA"),
    # a party word before a body's name is part of it
    ("Democratic Harbour Campaign Committee", "Democratic Harbour Campaign Committee", None),
    # a role that is also a first name, before another first name; not before a particle
    ("Marine John Vellacott", "John Vellacott", "Marine"),
    ("Marine Le Vellacott", "Marine Le Vellacott", None),
    # UTF-8 read as Latin-1 keeps the word whole, as printed
    ("Osgrove PeÃ±aloza", "Osgrove PeÃ±aloza", None),
    # a modal opening a question is no part of the name
    ("Can Vellacott", "Vellacott", None),
])
def test_phrase_split(phrase: str, name: str, title: str | None) -> None:
    from app.pipeline.quotes.mentions import parse_phrase

    m = parse_phrase(phrase, 0, len(phrase))
    assert m is not None and (m.name, m.title) == (name, title)


@pytest.mark.parametrize("phrase", ["Mayor of Harbourton", "Deputy Mayor of Harbourton", "Mayor of Kerrin"])
def test_an_office_of_a_place_is_no_name(phrase: str) -> None:
    # "Kerrin" is also a first name: one word after an office's "of" is its place all the same
    from app.pipeline.quotes.mentions import parse_phrase

    assert parse_phrase(phrase, 0, len(phrase)) is None




@pytest.mark.parametrize(("phrase", "name", "title"), [
    ("Rep. Earl Vellacott", "Earl Vellacott", "Rep."),
    ("Chief Justice Vellacott", "Vellacott", "Chief Justice"),
    ("Lieutenant General Vellacott", "Vellacott", "Lieutenant General"),
])
def test_a_rank_that_is_a_first_name_after_a_title(phrase: str, name: str, title: str) -> None:
    from app.pipeline.quotes.mentions import parse_phrase

    m = parse_phrase(phrase, 0, len(phrase))
    assert m is not None and (m.name, m.title) == (name, title)


@pytest.mark.parametrize("text", [
    # a dateline says where the story was filed; "the union" is not the place
    "HARBOURTON — “We will not pay the toll,” the union said on Monday.",
    "HARBOURTON, Ruritania (Wire) — “We will not pay the toll,” the union said on Monday.",
    # a day and a programme say nothing
    "Harbour Day was marked on Monday. “It is a day for all of us,” organisers said.",
    "The Osgrove Pellow Show asked viewers if the ferry deal was “dead”.",
])
def test_datelines_days_and_programmes_are_no_speakers(text: str) -> None:
    assert [q.speaker for q in find_quotes(text)] == [None]


def test_a_dateline_leaves_the_named_speaker() -> None:
    (q,) = find_quotes("NEW HARBOURTON (Wire) -- “We will not pay the toll,” said Jane Vellacott.")
    assert q.speaker == "Jane Vellacott"


def test_a_first_name_before_a_day_is_a_person() -> None:
    from app.pipeline.quotes.mentions import parse_phrase

    m = parse_phrase("Doris Day", 0, 9)
    assert m is not None and m.name == "Doris Day"


def test_a_title_its_author_gave_is_a_quotation() -> None:
    # the memo's title is its author's words; the novel's title stays no quotation
    text = "Ferry manager Osgrove Pellow released a memo titled “A Plain Account of the Harbour Toll.”"
    assert [q.text for q in find_quotes(text)] == ["A Plain Account of the Harbour Toll."]
    assert find_quotes("She reviewed the novel “The Copper Estuary” on Monday.") == []


@pytest.mark.parametrize("text", [
    # words ending a sentence, or a capital on the next line, make no nickname
    "Osgrove Pellow Calls The Ferry Toll “Unfair.”\n\nPhoto credit.",
    "Osgrove Pellow called the toll “unfair.” Nobody in Harbourton disagreed.",
])
def test_a_short_quote_between_capitals_is_no_nickname_when_it_ends_a_sentence(text: str) -> None:
    assert len(find_quotes(text)) == 1


def test_a_nickname_stays_dropped() -> None:
    assert find_quotes("She met Tobbe “The Anchor” Vallgren at the quay.") == []


def test_a_curly_quote_inside_a_curly_quote_is_nested() -> None:
    # the inner quote opens with the same mark; two closing marks follow, so the outer one is whole
    text = "“Their letter said the ferry “will sail on time” and it never did,” said Jane Vellacott."
    (q,) = find_quotes(text)
    assert q.text == "Their letter said the ferry “will sail on time” and it never did,"


def test_an_opening_mark_never_closed_still_restarts() -> None:
    (q,) = find_quotes("“We will not pay. “Never,” said Jane Vellacott.")
    assert q.text == "Never,"


@pytest.mark.parametrize("text", [
    "Президент Осгров Пеллоу сказал: «Мы не будем платить этот налог», и Jane Vellacott согласилась.",
    "O presidente Osgrove Pellow disse que não vai pagar: “Nós não vamos pagar a taxa”, disse Jane Vellacott.",
    "Presiden Osgrove Pellow mengatakan bahwa dia tidak akan membayar: “Kami tidak akan membayar pajak itu”, kata Jane Vellacott.",
])
def test_other_languages_and_scripts_invent_no_speaker(text: str) -> None:
    quotes = find_quotes(text)
    assert quotes and all(q.speaker is None for q in quotes)


def test_paragraphs_of_one_quotation_joined_on_one_line() -> None:
    # each paragraph of a long quotation opens with the mark again; a plain-text copy joined
    # them on one line, so the mark after a full stop and a space opens the next part
    text = ('Ms Vellacott said: "The toll is too high. Nobody on the island can pay it. '
            '"Will the council listen to us at last?" Three others left.')
    assert [(q.text, q.speaker) for q in find_quotes(text)] == [
        ("The toll is too high. Nobody on the island can pay it.", "Vellacott"),
        ("Will the council listen to us at last?", "Vellacott")]


def test_broadcast_transcript_speakers_introduced_with_their_role() -> None:
    text = ("OSGROVE PELLOW, HOST: The ferry strike is in its third week.\n\n"
            "JANE VELLACOTT, HARBOUR UNION: Thank you for having me.\n\n"
            "PELLOW: Will the ferries run this winter?\n\n"
            "VELLACOTT: Not unless the owners move.\n\n"
            "PELLOW (voice-over): The owners did not reply.")
    got = [(q.text, q.speaker, q.speaker_title) for q in find_quotes(text)]
    assert got == [("The ferry strike is in its third week.", "Osgrove Pellow", "Host"),
                   ("Thank you for having me.", "Jane Vellacott", "Harbour Union"),
                   ("Will the ferries run this winter?", "Osgrove Pellow", "Host"),
                   ("Not unless the owners move.", "Jane Vellacott", "Harbour Union"),
                   ("The owners did not reply.", "Osgrove Pellow", "Host")]


def test_a_title_case_headline_splits_at_words_written_in_lower_case() -> None:
    text = ("Osgrove Pellow Warns Ferry Crews About “Long Nights.”\n\n"
            "Osgrove Pellow, a captain, warns that ferry crews face long nights this winter.")
    assert all(q.speaker in (None, "Osgrove Pellow") for q in find_quotes(text))
    from app.pipeline.quotes.entities import NameIndex

    assert "Ferry Crews" not in NameIndex(text).entities
    assert "Warns Ferry Crews" not in NameIndex(text).entities


def test_a_word_for_where_someone_is_from_is_no_name() -> None:
    # "the Ohioan" says where a person is from; a surname that is such a word stays a name
    text = ("Osgrove Pellow spoke first. The Ohioan said the ferry was “a disgrace”.\n\n"
            "Tindrel Kenyan spoke later. “It is too early,” said Kenyan.")
    from app.pipeline.quotes.entities import NameIndex

    names = NameIndex(text)
    assert "Ohioan" not in names.entities
    assert [q.speaker for q in find_quotes(text)][-1] == "Tindrel Kenyan"


@pytest.mark.parametrize("text", [
    # a number's label, a participle opening a sentence, an office's field, a row of buttons
    "The harbour moved to Level 3 on Monday. They said the next step would be “much harder”.",
    "Salted cod is banned here. The letter argues that “the island will starve” without salted cod.",
    "The chancellor of the Exchequer said the harbour levy would be “far too steep” for traders.",
    "Share Facebook Twitter Email Telegram Print\n\nA harbour official has said that “the gates are open”.",
])
def test_capitalised_words_that_name_nobody(text: str) -> None:
    assert all(q.speaker is None for q in find_quotes(text))


def test_a_place_word_opening_a_title_stays_in_it() -> None:
    # "new" is written in lower case in the article, but "New Harbourton" is a place
    (q,) = find_quotes("The new rules are in force. “We will appeal,” said New Harbourton City Mayor Jane Vellacott.")
    assert (q.speaker, q.speaker_title) == ("Jane Vellacott", "New Harbourton City Mayor")


def test_question_and_answer_turns_with_full_stops() -> None:
    text = ("Our reporter spoke with lock engineer Brisa Tollakson. Tollakson has run the works since 2019.\n\n"
            "Q. How did the project start?\n\nA. It started with a flood.\n\nQ. And the cost?\n\nA. Far less.")
    assert [(q.text, q.speaker) for q in find_quotes(text)] == [
        ("How did the project start?", None), ("It started with a flood.", "Brisa Tollakson"),
        ("And the cost?", None), ("Far less.", "Brisa Tollakson")]


def test_initials_opening_paragraphs_are_no_answers() -> None:
    assert find_quotes("A. Vellacott wrote the report.\n\nA. B. Tollakson agreed with it.") == []


def test_a_name_before_a_score_stays_a_name() -> None:
    text = "Osgrove Pellow edged Tindrel Vellacott 7-6, 6-3.\n\n“The wind decided it,” Vellacott said."
    assert [q.speaker for q in find_quotes(text)] == ["Tindrel Vellacott"]


def test_an_award_is_no_name() -> None:
    text = ("Harbour Person of the Year goes to Jane Vellacott\n\n"
            "The harbour board gave the prize to Jane Vellacott for “a quiet year at sea”.")
    from app.pipeline.quotes.entities import NameIndex

    assert "Harbour Person" not in NameIndex(text).entities


def test_answers_under_initials_the_article_introduced_belong_to_that_person() -> None:
    text = ("Our reporter met the harbour engineer Jane Roe (JR) on the new pier.\n\n"
            "What went wrong?\n\n"
            "JR: The tide came in faster than we planned.\n\n"
            "And now?\n\n"
            "JR: We start again in May.")
    assert [(q.text, q.speaker, q.channel) for q in find_quotes(text)] == [
        ("The tide came in faster than we planned.", "Jane Roe", "in a transcript"),
        ("We start again in May.", "Jane Roe", "in a transcript"),
    ]


def test_initials_for_both_sides_of_an_interview() -> None:
    text = ("Omar Diallo (OD) sat down with Jane Roe (JR) at the harbour.\n\n"
            "OD: What went wrong?\n\n"
            "JR: The tide came in faster than we planned.")
    assert [(q.text, q.speaker) for q in find_quotes(text)] == [
        ("What went wrong?", "Omar Diallo"), ("The tide came in faster than we planned.", "Jane Roe")]


@pytest.mark.parametrize("text", [
    # initials the article never introduces, or introduces for another name, name nobody
    "HB: The pier opens in May.\n\nHB: The ferry runs on Sundays.",
    "The Harbour Board (HB) met on Monday.\n\nJR: The pier opens in May.\n\nJR: The ferry runs on Sundays.",
])
def test_initials_nobody_introduced_are_no_turns(text: str) -> None:
    assert find_quotes(text) == []


def test_single_marks_are_quotation_marks_when_double_ones_only_nest_inside_them() -> None:
    text = ("Jane Roe, the harbour engineer, spoke on Monday.\n\n"
            "‘The tide came in faster than we planned,’ she said. ‘We lost two weeks.’\n\n"
            "Omar Diallo, who runs the ferry, was less patient. ‘They told us it was “safe for every boat”,"
            " and it was not,’ he said.\n\n"
            "‘We start again in May.’\n\n"
            "The board will meet on Friday.")
    quoted = [q.text for q in find_quotes(text)]
    assert "We lost two weeks." in quoted and "We start again in May." in quoted


def test_single_marks_stay_weak_beside_a_double_quotation_of_its_own() -> None:
    text = ("“The pier is safe,” Jane Roe said on Monday.\n\n"
            "Locals call it the ‘long walk’, the ‘crooked mile’ and the ‘grey lady’.\n\n"
            "The board will meet on Friday.")
    assert [q.text for q in find_quotes(text)] == ["The pier is safe,"]


def test_initials_of_an_organisation_are_no_speaker() -> None:
    text = ("The Harbour Ministry (HM) published two notices on Monday.\n\n"
            "HM: The pier opens in May.\n\n"
            "HM: The ferry runs on Sundays.")
    assert [q.speaker for q in find_quotes(text)] == []
