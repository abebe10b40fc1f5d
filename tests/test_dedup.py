"""Dedup keys: canonical URLs, body hashes, SimHash near-duplicates."""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.simhash import hamming, is_near_duplicate, simhash_bands
from app.pipeline.dedup import body_hash, canonical_url, content_text, normalize_text, simhash64

NEWS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "news-text"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com/a", "https://example.com/a"),
    ("HTTPS://WWW.Example.COM/a", "https://www.example.com/a"),
    ("https://example.com", "https://example.com/"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),
    ("https://example.com/a#section-2", "https://example.com/a"),
    ("https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "https://example.com/a"),
    ("https://example.com/a?id=7&fbclid=abc&gclid=def", "https://example.com/a?id=7"),
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?UTM_Source=x&msclkid=1&mc_cid=2&mc_eid=3&_ga=4&igshid=5&yclid=6", "https://example.com/a"),
    ("https://example.com/a?source=home&uid=5&ref=x", "https://example.com/a?ref=x&source=home&uid=5"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    ("https://example.com/a/b/..", "https://example.com/a/"),
    ("https://example.com/../a", "https://example.com/a"),
    ("https://example.com/a/", "https://example.com/a/"),  # trailing slash kept
    ("https://example.com/%7euser/caf%c3%a9", "https://example.com/~user/caf%C3%A9"),
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/caf\u00e9", "https://example.com/caf%C3%A9"),
    ("https://user:pw@example.com/a", "https://example.com/a"),
    ("https://b\u00fccher.example/x", "https://xn--bcher-kva.example/x"),
    ("https://example.com./a", "https://example.com/a"),
    ("https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"),
    ("https://example.com/a?q=a+b&empty=", "https://example.com/a?empty=&q=a%20b"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("not a url", "not a url"),
    ("http://[::1", "http://[::1"),
])
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(canonical_url(url)) == canonical_url(url)  # idempotent


@given(st.text(max_size=200))
def test_canonical_url_never_raises(url: str) -> None:
    canonical_url(url)
    canonical_url("https://example.com/" + url)


def test_body_hash_normalisation() -> None:
    a = body_hash("The  Minister said:\n\n\u201cNo.\u201d  ")
    assert a == body_hash("the minister SAID: \u201cno.\u201d")
    assert a == body_hash("The Minister said:\t\u201cNo.\u201d")
    assert body_hash("\ufb01le") == body_hash("file")  # NFKC ligature
    assert a != body_hash("The Minister said: \u201cYes.\u201d")
    # The documented key (hex SHA-256 of the normalised text), so hashes stored by earlier
    # versions keep matching: changing the normalisation would let stored copies in again.
    assert a == hashlib.sha256("the minister said: \u201cno.\u201d".encode()).hexdigest()
    assert normalize_text("  A\u00a0B\n C ") == "a b c"


@given(st.text(max_size=500))
def test_simhash_is_signed_64_bit(text: str) -> None:
    h = simhash64(text)
    assert -(2**63) <= h < 2**63
    assert simhash64(text) == h


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.lists(st.integers(0, 63), max_size=3))
def test_bands_find_every_pair_within_three_bits(h: int, flips: list[int]) -> None:
    other = h
    for bit in set(flips):
        other ^= 1 << bit
    other = other - 2**64 if other >= 2**63 else other
    other = other + 2**64 if other < -(2**63) else other
    assert hamming(h, other) == len(set(flips))
    assert any(x == y for x, y in zip(simhash_bands(h), simhash_bands(other), strict=True))
    assert all(0 <= b < 2**16 for b in simhash_bands(h))


def test_bands_and_hamming_details() -> None:
    assert simhash_bands(0) == [0, 0, 0, 0]
    assert simhash_bands(-1) == [0xFFFF] * 4
    assert simhash_bands(0x0001_0002_0003_0004) == [1, 2, 3, 4]
    assert simhash_bands(0x0102_0304_0506_0708, bands=8) == [1, 2, 3, 4, 5, 6, 7, 8]
    with pytest.raises(ValueError):
        simhash_bands(0, bands=5)
    assert hamming(-1, 2**64 - 1) == 0  # signed and unsigned spellings of the same bits
    assert hamming(0, -1) == 64
    assert is_near_duplicate(0b1011, 0b0000) and not is_near_duplicate(0b1111, 0)
    assert simhash64("") == 0


STORY = """Maternity pay for new mothers is to rise by 1,400 pounds as part of new proposals announced by the Trade and Industry Secretary on Sunday.
It would mean paid leave would be increased to nine months by 2007, the secretary told a television programme. Other plans include letting maternity pay be given to fathers and extending rights to parents of older children.
The proposals will be published in a consultation paper later this month, officials said, adding that business groups would be asked for their views before any change to the law.
Employers' organisations warned that small firms could struggle with the cost and the administrative burden of longer leave, while unions welcomed what they called a long overdue reform.
"We want to give parents more choice about how they balance work and family life," the secretary said, describing the plans as the biggest change to maternity rights in a generation.
Opposition politicians said the government was trying to win back working parents ahead of the election and questioned how the extra pay would be funded over the coming years."""

OTHER = """Heavy rain caused flooding across the north of the country on Tuesday, closing roads and forcing hundreds of people to leave their homes as rivers burst their banks.
Emergency services said they had rescued dozens of residents by boat overnight, and warned that water levels were expected to rise further as more rain was forecast for the weekend.
The environment agency issued severe flood warnings for several towns, meaning there was a danger to life, and urged people to stay away from swollen rivers and flooded roads.
Train services between the two largest cities in the region were suspended after a section of track was washed away, and the operator said disruption would continue for days.
"We have never seen anything like this in my forty years living here," one resident told reporters as she watched volunteers stack sandbags outside the village hall.
Ministers promised emergency funding for affected councils and said an inquiry would look at whether flood defences built after the last major floods had worked as planned."""


def reuters(text: str) -> str:
    return ("Advertisement\nLONDON (Reuters) - " + text + "\nReporting by Jane Doe; Editing by John Smith\n"
            "Our Standards: The Thomson Reuters Trust Principles.")


def ap(text: str) -> str:
    return ("By Mary Major, Associated Press\nLONDON (AP) \u2014 " + text + "\nCopyright 2024 The Associated Press. "
            "All rights reserved. This material may not be published, broadcast, rewritten or redistributed.\n"
            "Read more: Sign up for our daily newsletter")


def blog(text: str) -> str:
    return ("Related: Ten things you need to know today\nShare this article\n" + text
            + "\nAssociated Press writer Joe Bloggs in Paris contributed to this report.\nAdvertisement")


@pytest.mark.parametrize(("left", "right"), [
    (reuters, ap), (ap, blog), (reuters, lambda t: t), (blog, lambda t: t.upper()),
    (lambda t: t, lambda t: t.replace("\n", "\n\n")),
])
def test_syndicated_copies_match(left: Callable[[str], str], right: Callable[[str], str]) -> None:
    a, b = simhash64(left(STORY)), simhash64(right(STORY))
    assert is_near_duplicate(a, b), hamming(a, b)


def test_different_stories_do_not_match() -> None:
    assert hamming(simhash64(STORY), simhash64(OTHER)) > 10
    assert not is_near_duplicate(simhash64(reuters(STORY)), simhash64(reuters(OTHER)))


def test_content_text_strips_syndication_furniture() -> None:
    text = content_text(ap(STORY))
    assert text.startswith("Maternity pay") and "Copyright" not in text and "Associated Press" not in text
    assert content_text("short") == "short"  # nothing left: keep the text as is


# A line from a story, and whether it is furniture that SimHash leaves out.
@pytest.mark.parametrize(("line", "furniture"), [
    ("Copyright 2031 Harbour Gazette Ltd. All rights reserved.", True),
    ("(c) 2031 the valley courier, reused by permission of the owner", True),
    ("the river ferry (c) service resumed on monday after the storm", False),
    ("Reporting by Imre Voss; Editing by Talia Brandvold", True),
    ("Nadia Orlov contributed to this story from the northern district.", True),
    ("Staff in Veldham contributed the report on the lock gates", True),
    ("She contributed to the fund that repaired the old lighthouse.", False),
    ("Sign up for our weekly newsletter about the coast", True),
    ("Follow @valleycourier for updates from the council meeting", True),
    ("Read our standards on sourcing before the debate tonight", True),
    ("The board said yourstandards were never part of the bid for the pier", False),
    ("The mayor of Ostreva said the ferry would run twice a day from June.", False),
])
def test_furniture_lines(line: str, furniture: bool) -> None:
    assert (content_text(f"{line}\nThe council of Ostreva met on Tuesday to vote on the pier repairs.")
            == "The council of Ostreva met on Tuesday to vote on the pier repairs.") is furniture


def _news_texts() -> list[str]:
    if not (NEWS / "MANIFEST.tsv").exists():
        return []
    with open(NEWS / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    texts = [(NEWS / r["path"]).read_text(encoding="utf-8").partition("\n\n")[2] for r in rows[::3]]
    return [t for t in texts if len(t) > 1500]


@pytest.mark.skipif(not _news_texts(), reason="shared corpus not present")
def test_corpus_syndication_and_separation() -> None:
    texts = _news_texts()
    matched = [is_near_duplicate(simhash64(reuters(t)), simhash64(ap(t))) for t in texts]
    assert sum(matched) / len(matched) >= 0.95
    hashes = [simhash64(t) for t in texts]
    rng = random.Random(7)
    pairs = [rng.sample(range(len(hashes)), 2) for _ in range(2000)]
    assert min(hamming(hashes[i], hashes[j]) for i, j in pairs) > 8
