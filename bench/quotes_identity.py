"""Check that a change to the quote extractor leaves its output byte-identical.

Runs `annotated_quotes` (what `find_quotes` returns, plus the confidence features) over every
text at hand and writes one JSON line per text; `--check` compares with a file saved before the
change and lists the texts whose output differs.

Texts: the PolNeAR articles (../shared/corpus/polnear/train; only the texts, never the gold),
../shared/corpus/news-text, the article pages of ../shared/corpus/articles-html (their expected
main text, and the text and title our extractor takes from the page, as ingestion does), the
5,000-character pieces bench/quotes.py times, and 20 KB of each of its hostile texts.

    python bench/quotes_identity.py --save /tmp/before.jsonl     # before the change
    python bench/quotes_identity.py --check /tmp/before.jsonl    # after it

Last line: texts=<n> quotes=<m> differing=<k>
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quotes import HOSTILE, hostile, samples  # noqa: E402

from app.pipeline.extract import extract_page  # noqa: E402
from app.pipeline.quotes import annotated_quotes  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
HTML = CORPUS / "articles-html"


def texts() -> Iterator[tuple[str, str, str | None]]:
    """(name, text, title) for every text the check runs on."""
    for f in sorted((CORPUS / "polnear" / "train").glob("*.txt")):
        yield f"polnear/{f.name}", f.read_text(encoding="utf-8"), None
    for f in sorted((CORPUS / "news-text").glob("*/*.txt")):
        yield f"news-text/{f.parent.name}/{f.name}", f.read_text(encoding="utf-8"), None
    truth_file = HTML / "scrapinghub-article-extraction-benchmark" / "ground-truth.json"
    if truth_file.is_file():
        for page_id, item in sorted(json.loads(truth_file.read_text(encoding="utf-8")).items()):
            yield f"html-truth/{page_id}", item["articleBody"], None
    manifest = HTML / "MANIFEST.tsv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8") as fh:
            rows = sorted(csv.DictReader(fh, delimiter="\t"), key=lambda r: r["path"])
        for row in rows:
            page = extract_page(gzip.decompress((HTML / row["path"]).read_bytes()), row["url"])
            if page is not None:
                yield f"html-page/{row['path']}", page.text, page.title
    for i, piece in enumerate(samples()):
        yield f"piece/{i}", piece, None
    for name, unit in [*HOSTILE.items(), ("one surname", "one surname")]:
        yield f"hostile/{name}", hostile(20_000, unit), None


def run() -> Iterator[dict[str, object]]:
    for name, text, title in texts():
        quotes = [{**q.to_dict(), "features": feats} for q, feats in annotated_quotes(text, title)]
        yield {"text": name, "quotes": quotes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the output to this file")
    group.add_argument("--check", type=Path, help="compare the output with this saved file")
    args = parser.parse_args()
    n_texts = n_quotes = 0
    lines = [json.dumps(row, sort_keys=True) for row in run()]
    for line in lines:
        n_texts += 1
        n_quotes += len(json.loads(line)["quotes"])
    if args.save:
        args.save.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"texts={n_texts} quotes={n_quotes} saved={args.save}")
        return
    before = args.check.read_text(encoding="utf-8").splitlines()
    differing = 0
    if len(before) != len(lines):
        print(f"different number of texts: {len(before)} saved, {len(lines)} now")
        differing = abs(len(before) - len(lines))
    for old, new in zip(before, lines, strict=False):
        if old != new:
            differing += 1
            if differing <= 20:
                print(f"differs: {json.loads(new)['text']}")
    print(f"texts={n_texts} quotes={n_quotes} differing={differing}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
