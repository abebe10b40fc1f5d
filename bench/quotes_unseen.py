"""Quote extraction on news from outlets the rules were never tuned on: two small gold sets of our own.

Set 1, `bench/data/news-text-quotes-gold.jsonl`, holds every quotation of 24 articles of
`../shared/corpus/news-text` (12 from each of its two collections, British public-service news
of 2004–05 and a citizen-journalism wiki of 2019–20; picked by salted hash among the articles with
three or more quoted spans, one 41 KB interview set aside as too long to annotate), each with the
speaker a reader finds by reading the whole article, in the conventions of
`../shared/eval/README.md`: the fullest name the article gives, an organisation where an
organisation speaks, null where the article names nobody; labels, titles of works and names in
quotation marks are "ignore" spans. Interview turns ("Initials: answer") count as quotes of the
one who answers. Annotated on 2026-11-29 by correcting the extractor's output of that day, quote
by quote, after reading each article.

Set 2, `bench/data/news-text-quotes-gold-2.jsonl`, holds every quotation of 24 further articles
(12 `bbc`, 12 `wikinews`; 154 quotes), drawn on 2026-11-30 before any of them was scored: among
the articles of `news-text/MANIFEST.tsv` with `quoted_spans` >= 3, not in set 1 and of at most
20 KB (20,480 bytes; this left out 12 wikinews articles and no bbc one), the 12 of each
`collection` with the lowest `sha256(("unseen2-2026-11-30:" + id).encode()).hexdigest()`.
Annotated the same day by reading each whole article, in set 1's conventions, and besides:

- a quotation is the text between its marks (a closing mark the text forgets ends it where the
  next quotation opens, or where the attribution begins: `…had not happened, he said. "But`);
- null also where the speaker is a group or several parties at once ("critics", "members
  shouted", "the Tories and Lib Dems … saying"), or an unnamed spokesman, official or source of a
  named body (as the PolNeAR gold resolves "a spokesman for X");
- an organisation's words ("the EU said", "the court found", "the alliance said in a statement")
  go to the organisation by the fullest name the article gives ("European Union");
- "ignore" also covers quotation marks in the headline (first line; outside the article's text and
  its quote count), a word mentioned as a word ("coined the phrase …"), and the wording of a
  ballot or census question or of protest signs;
- `kind` is "direct" when the quotation starts as a sentence (a capital), else "partial"; it is
  not scored.

Sets 3 and 4 come from many outlets rather than two: the article texts of the Scrapinghub
article-extraction benchmark (`../shared/corpus/articles-html`, its `ground-truth.json`, 2019
news of some hundred sites, a few not in English). The rule, fixed on 2026-11-30 before any of
them was read: the articles of `articles-html/MANIFEST.tsv` of that collection with
`body_has_quote_marks` = 1 and `ground_truth_chars` <= 8,000, ordered by
`sha256(("outlets-2026-11-30:" + id).encode()).hexdigest()`; the first 28 are set 3, the next 28
set 4 (`--list 3|4` prints them). Their texts are written out as files at run time
(`--write-texts DIR` writes them for reading), one per article, and the gold's `doc` is
`corpus/articles-html/scrapinghub-article-extraction-benchmark/text/<id>.txt`.
Set 3 (195 quotes) was annotated on 2026-11-30 by the helper annot3, by reading each whole article
before any extractor output on it was seen, in set 2's conventions, and besides: interview turns
("Name: …", "A: …") are quotes of the one who answers, the interviewer's turns and unmarked answer
paragraphs "ignore"; embedded social posts "ignore"; a quote nested in another is part of the outer
one only; a group writing or speaking as a named organisation, ministry or office gets that name;
a royal known by no surname keeps the title as his name; the outlet's own "we" is null.

Set 4 (114 quotes, 45 "ignore" spans; each quote also carries its `text`) was annotated on
2026-11-30 by the helper annot4, by reading each whole article before the extractor was run on it,
in set 2's conventions, and besides: blanks just inside the marks are left out of the span; null
also for an unnamed first-person author, for reviews signed only with masked initials, and for
"X and his team wrote"; a directive or stated view quoted as its owner's words goes to that owner;
a poll's wording and a company's phrase quoted with no attribution cue are "ignore" spans.

Sets 5, 6 and 7 are calibration sets, drawn on 2026-11-30 (round 8) by rules fixed before any
of them was read: sets 5 and 6 are the rest of the order that gave sets 3 and 4 (its next 30
articles, then the last 28); set 7 is 12 articles of each news-text collection with
`quoted_spans` >= 3, at most 20 KB, in neither set 1 nor set 2, the lowest
`sha256(("calibration-2026-11-30:" + id).encode()).hexdigest()` (`--list 5|6|7`). Three readers
who write no rules annotated them by reading each whole article, before any extractor output on
it was seen, in the conventions above (collected for them in one page; besides: a quoted
sub-heading, a joke or an imagined line, an author's rhetorical question are "ignore"; words a
report or a ruling sets out go to whoever wrote it; a quoted post in the running text, "tweeted",
is a quote of its author). Set 5: 161 quotes, set 6: 143 (a few not in English), set 7: 156.
They are never read while writing rules, as sets 2 and 3; `bench/train_confidence.py` sets the
confidence model's margin by them, because they are news the rules were not written from. Their
e2e figures are therefore honest; their calibration figures are fitted.

Which sets are held out: set 1 was read (its misses, on 2026-11-29) and is a tuning set now;
set 4 is a tuning set by design, annotated for rules to be read from. Sets 2 and 3 are held out:
never read them, or the extractor's misses on them, while writing rules; run them once at the
end of a round of quote work and report the figures beside the PolNeAR ones.

    python bench/quotes_unseen.py [--set 1..7|clean|tune|calibration|unread|both|all] [--details] [--calibration]

`clean` (the default) is sets 2 and 3, `tune` sets 1 and 4, `calibration` sets 5, 6 and 7,
`unread` every set no rule was read from (2, 3, 5, 6, 7), `both` sets 1 and 2, `all` the seven.
`--details` lists the misses, for the tuning sets only; `--calibration` prints how often the
speaker is right per confidence bucket over the chosen sets (after the score lines); a speaker
given where the article names nobody counts as wrong there (these golds judge a null; the PolNeAR
gold does not).

One line per set, and with more than one set a last line for them together:
e2e_f1=… extract_f1=… attribution=… gold=… invented=<quotes given a speaker where the article
names nobody> set=… docs=…
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = ROOT / "bench" / "data"
SETS = {
    "1": ("news-text", DATA / "news-text-quotes-gold.jsonl"),
    "2": ("news-text-2", DATA / "news-text-quotes-gold-2.jsonl"),
    "3": ("outlets-3", DATA / "outlets-quotes-gold-3.jsonl"),
    "4": ("outlets-4", DATA / "outlets-quotes-gold-4.jsonl"),
    "5": ("outlets-5", DATA / "outlets-quotes-gold-5.jsonl"),
    "6": ("outlets-6", DATA / "outlets-quotes-gold-6.jsonl"),
    "7": ("news-text-7", DATA / "news-text-quotes-gold-7.jsonl"),
}
GROUPS = {"clean": ["2", "3"], "tune": ["1", "4"], "calibration": ["5", "6", "7"],
          "unread": ["2", "3", "5", "6", "7"], "both": ["1", "2"], "all": ["1", "2", "3", "4", "5", "6", "7"]}
TUNING_SETS = {"1", "4"}
CALIBRATION_SETS = {"5", "6", "7"}
SHARED = ROOT.parent / "shared"
HTML = SHARED / "corpus" / "articles-html"
BENCHMARK = "scrapinghub-article-extraction-benchmark"
SALT = "outlets-2026-11-30:"
PER_SET = 28
SALT_7 = "calibration-2026-11-30:"


def outlet_ids() -> dict[str, list[str]]:
    """Sets 3 and 4: the article ids the selection rule in this module's docstring picks."""
    with (HTML / "MANIFEST.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    ids = [r["id"] for r in rows if r["collection"] == BENCHMARK and r["body_has_quote_marks"] == "1"
           and int(r["ground_truth_chars"]) <= 8000]
    ids.sort(key=lambda i: hashlib.sha256((SALT + i).encode()).hexdigest())
    return {"3": ids[:PER_SET], "4": ids[PER_SET:2 * PER_SET],
            "5": ids[2 * PER_SET:2 * PER_SET + 30], "6": ids[2 * PER_SET + 30:]}


def news_text_ids() -> list[str]:
    """Set 7: news-text articles by the selection rule in this module's docstring (12 of each
    collection, none of sets 1 and 2)."""
    taken = set()
    for key in ("1", "2"):
        for line in SETS[key][1].read_text(encoding="utf-8").splitlines():
            if line.strip():
                taken.add(Path(json.loads(line)["doc"]).stem)
    with (SHARED / "corpus" / "news-text" / "MANIFEST.tsv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if int(r["quoted_spans"]) >= 3
                and r["id"] not in taken and (SHARED / "corpus" / "news-text" / r["path"]).stat().st_size <= 20480]
    out: list[str] = []
    for collection in ("bbc", "wikinews"):
        ids = sorted((r["id"] for r in rows if r["collection"] == collection),
                     key=lambda i: hashlib.sha256((SALT_7 + i).encode()).hexdigest())
        out += ids[:12]
    return out


def write_texts(root: Path) -> None:
    """A root for the scorer: copies of the news-text articles the sets name, and the benchmark's
    article texts as files. Copies, not links into ../shared: a link removed with a trailing
    slash (`rm -rf root/corpus/news-text/`) removes what it points to."""
    for _, path in SETS.values():
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)["doc"] if line.strip() else ""
            if doc.startswith("corpus/news-text/"):
                (root / doc).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(SHARED / doc, root / doc)
    texts = json.loads((HTML / BENCHMARK / "ground-truth.json").read_text(encoding="utf-8"))
    out = root / "corpus" / "articles-html" / BENCHMARK / "text"
    out.mkdir(parents=True, exist_ok=True)
    for ids in outlet_ids().values():
        for i in ids:
            (out / f"{i}.txt").write_text(texts[i]["articleBody"], encoding="utf-8")


def invented(pairs: list[tuple[str, str]]) -> tuple[int, int]:
    """(quotes given a speaker, gold quotes whose article names nobody) among matched quotes,
    from (gold line, prediction line) pairs."""
    given = nobody = 0
    for gold_line, pred_line in pairs:
        doc = json.loads(gold_line)
        preds: list[dict[str, Any]] = json.loads(pred_line)["quotes"]
        for g in doc["quotes"]:
            if g["speaker"] is not None:
                continue
            nobody += 1
            for q in preds:
                ov = min(g["end"], q["end"]) - max(g["start"], q["start"])
                if ov >= 0.5 * (g["end"] - g["start"]) and ov >= 0.5 * max(1, q["end"] - q["start"]):
                    given += bool(q["speaker"])
                    break
    return given, nobody


def score_line(pairs: list[tuple[str, str]], name: str, root: Path) -> tuple[str, int, int]:
    """(score line for these pairs, invented, nobody)."""
    from quotes_eval import _score_predicted

    last = _score_predicted(pairs, root=root).strip().splitlines()[-1]
    given, nobody = invented(pairs)
    return f"{last} invented={given} set={name} docs={len(pairs)}", given, nobody


def main() -> None:
    from quotes_eval import _predict, _score_predicted, calibration_table, judged_lines

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--set", choices=[*SETS, *GROUPS], default="clean", dest="which")
    parser.add_argument("--details", action="store_true", help="list the misses (tuning sets only)")
    parser.add_argument("--calibration", action="store_true",
                        help="share of right speakers per confidence bucket, over the chosen sets")
    parser.add_argument("--list", choices=["3", "4", "5", "6", "7"], help="print the article ids of a set")
    parser.add_argument("--write-texts", type=Path, metavar="DIR", help="write the texts of sets 3 to 7")
    args = parser.parse_args()
    if not (SHARED / "corpus" / "news-text").is_dir():
        sys.exit(f"{SHARED / 'corpus' / 'news-text'} not found")
    if args.list:
        print("\n".join(news_text_ids() if args.list == "7" else outlet_ids()[args.list]))
        return
    if args.write_texts:
        write_texts(args.write_texts)
        print(f"texts under {args.write_texts / 'corpus'}")
        return
    chosen = GROUPS.get(args.which, [args.which])
    if args.details and not set(chosen) <= TUNING_SETS:
        sys.exit("--details reads the misses: only for the tuning sets (1, 4, tune)")
    chosen = [key for key in chosen if SETS[key][1].exists()]
    union: list[tuple[str, str]] = []
    names: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_texts(root)
        for key in chosen:
            name, path = SETS[key]
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            pairs = [(line, _predict(line, root)) for line in lines]  # extraction once per article
            if args.details:
                print(_score_predicted(pairs, details=True, root=root))
            line, given, nobody = score_line(pairs, name, root)
            if len(chosen) == 1:
                print(f"{given} of the {nobody} quotes whose article names no speaker were given one")
            print(line)
            union += pairs
            names.append(name)
        if len(chosen) > 1:
            print(score_line(union, "+".join(names), root)[0])
        if args.calibration:
            judged = judged_lines([gold for gold, _ in union], root, null_judged=True)
            print(calibration_table((row for doc in judged.values() for row in doc),
                                    "sets " + "+".join(names) + "; a speaker where the article names nobody is wrong"))


if __name__ == "__main__":
    main()
