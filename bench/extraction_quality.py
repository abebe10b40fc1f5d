"""Extraction quality on the scrapinghub article-extraction-benchmark (181 pages).

Token-level precision/recall/F1 of `articleBody` against our extracted text, the measure the
benchmark's own README uses (bag of whitespace tokens, multiset overlap), micro-averaged over
pages as the mean of per-page scores; a page we return nothing for scores 0 recall.

    .venv/bin/python bench/extraction_quality.py [--favor balanced|precision|recall] [--limit N]

Last line: f1=… precision=… recall=… ms_per_page=…
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.pipeline.extract import extract_page  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/articles-html/scrapinghub-article-extraction-benchmark"


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text.lower())


def prf(expected: str, got: str) -> tuple[float, float, float]:
    exp, out = Counter(tokens(expected)), Counter(tokens(got))
    overlap = sum((exp & out).values())
    p = overlap / sum(out.values()) if out else (1.0 if not exp else 0.0)
    r = overlap / sum(exp.values()) if exp else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--favor", default="recall", choices=["balanced", "precision", "recall"])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--worst", type=int, default=0, help="print the N worst pages")
    args = parser.parse_args()
    truth = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    items = sorted(truth.items())[: args.limit or None]
    ps, rs, fs, scored = [], [], [], []
    elapsed = 0.0
    for page_id, item in items:
        raw = gzip.decompress((CORPUS / "html" / f"{page_id}.html.gz").read_bytes())
        started = time.perf_counter()
        page = extract_page(raw, item["url"], favor=args.favor)
        elapsed += time.perf_counter() - started
        p, r, f = prf(item["articleBody"], page.text if page else "")
        ps.append(p)
        rs.append(r)
        fs.append(f)
        scored.append((f, page_id, item["url"]))
    for f, page_id, url in sorted(scored)[: args.worst]:
        print(f"{f:.3f} {page_id} {url}")
    n = len(items)
    print(f"pages={n} favor={args.favor}")
    print(f"f1={sum(fs) / n:.4f} precision={sum(ps) / n:.4f} recall={sum(rs) / n:.4f} "
          f"ms_per_page={1000 * elapsed / n:.1f}")


if __name__ == "__main__":
    main()
