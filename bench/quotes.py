"""Benchmark find_quotes on 5,000-character article texts, and on hostile texts.

Typical: ../shared/corpus (PolNeAR and news-text articles) when present, else text built from
our own sentences, cut into 5,000-character pieces; CPU time per piece on one core.
Hostile: texts built to defeat the extractor (alternating marks, one huge paragraph, thousands
of quotes, no sentence ends, long runs of capitalised words, one surname for thousands of
people), at 50 KB and 200 KB: CPU seconds each, and the ratio, which stays near 4 when the work
is linear in the text.

Beside the figures it prints a machine calibration: the CPU milliseconds of a fixed pure-Python
workload (regexes and string work of the kind the extractor does), measured before and after the
texts, so runs on a loaded or slower machine can be compared (the ratio of two runs' medians
means little unless their calibrations agree).

Last line: median_ms_per_5k_chars=<x> p95_ms_per_5k_chars=<y> worst_hostile_s_per_200kb=<z> calibration_ms=<c>
"""

from __future__ import annotations

import itertools
import re
import statistics
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.pipeline.quotes import find_quotes  # noqa: E402

CHUNK = 5_000
SHARED = ROOT.parent / "shared" / "corpus"

_OWN = (
    "Port director Helga Brandvold said on Monday that the delay was “entirely avoidable”. "
    "“The harbour will reopen in May,” she told reporters. "
    "“We expect wages paid,” said Tomas Ekwueme, a lawyer for the union. "
    "The ministry dismissed the claims as “pure invention”. Nothing else was announced.\n\n"
)


def samples(limit: int = 400) -> list[str]:
    texts: list[str] = []
    if SHARED.is_dir():
        files = sorted(SHARED.glob("polnear/train/*.txt")) + sorted(SHARED.glob("news-text/*/*.txt"))
        for f in files:
            t = f.read_text(encoding="utf-8", errors="replace")
            for i in range(0, len(t) - CHUNK + 1, CHUNK):
                texts.append(t[i:i + CHUNK])
            if len(texts) >= limit:
                break
    if not texts:
        body = _OWN * (CHUNK // len(_OWN) + 1)
        texts = [body[:CHUNK]] * 50
    return texts[:limit]


HOSTILE = {
    "alternating straight marks": '"a" ',
    "alternating curly marks": "“a” ",
    "curly and single marks": "“a” 'b' ",
    "thousands of attributed quotes": "“The quay is shut,” said Orla Vennick. ",
    "one paragraph, no sentence end": "“word here” said Orla Vennick and ",
    "capitalised words, no end": "Alpha Beta Gamma Delta ",
    "paragraphs opening with a mark": "“Still going on\n\n",
    "transcript turns": "ROE: yes we will.\n\nDOE: no you will not.\n\nRoe and Doe spoke.\n\n",
    "interview turns in parentheses": "((WN)) Will it run?\n\n((Orla Vennick)) It will.\n\n",
    "thousands of distinct turn labels": "distinct labels",
}


def distinct_labels(size: int) -> str:
    """ "ABCD: we will go on." paragraphs, every label another one."""
    labels = ("".join(t) for t in itertools.product(string.ascii_uppercase, repeat=4))
    return "".join(f"{label}: we will go on.\n\n" for label in itertools.islice(labels, size // 20))[:size]


def hostile(size: int, unit: str) -> str:
    if unit == "one surname":
        return "".join(f"Name{i} Vennick said “yes {i}” and " for i in range(size // 25))[:size]
    if unit == "distinct labels":
        return distinct_labels(size)
    return (unit * (size // len(unit) + 1))[:size]


def hostile_seconds() -> list[tuple[str, float, float]]:
    rows = []
    for name, unit in [*HOSTILE.items(), ("thousands of people, one surname", "one surname")]:
        secs = []
        for size in (50_000, 200_000):
            text = hostile(size, unit)
            t0 = time.process_time()
            find_quotes(text)
            secs.append(time.process_time() - t0)
        rows.append((name, secs[0], secs[1]))
    return rows


_CAL_TEXT = _OWN * 40
_CAL_RE = re.compile(r"[A-Z][a-z]+(?:[ ][A-Z][a-z]+)*|[“”]")


def calibration_ms() -> float:
    """Median CPU ms of a fixed workload over five runs."""
    runs = []
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(20):
            words = _CAL_RE.findall(_CAL_TEXT)
            "".join(sorted(w.lower() for w in words))
            _CAL_TEXT.split()
        runs.append((time.process_time() - t0) * 1000)
    return statistics.median(runs)


def main() -> None:
    cal_before = calibration_ms()
    texts = samples()
    for t in texts[:20]:  # warm up regex caches
        find_quotes(t)
    times: list[float] = []
    n_quotes = 0
    for t in texts:
        t0 = time.process_time()
        n_quotes += len(find_quotes(t))
        times.append((time.process_time() - t0) * 1000)
    times.sort()
    med = statistics.median(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"texts={len(texts)} chars_each={CHUNK} quotes={n_quotes} source={'shared corpus' if SHARED.is_dir() else 'generated'}")
    print(f"min={times[0]:.2f} ms  median={med:.2f} ms  p95={p95:.2f} ms  max={times[-1]:.2f} ms")
    worst = 0.0
    for name, s50, s200 in hostile_seconds():
        worst = max(worst, s200)
        print(f"hostile {name:34s} 50 KB {s50:6.2f} s  200 KB {s200:6.2f} s  ratio {s200 / max(s50, 1e-6):4.1f}")
    cal = (cal_before + calibration_ms()) / 2
    print(f"calibration: fixed workload {cal:.1f} ms CPU (before {cal_before:.1f})")
    print(f"median_ms_per_5k_chars={med:.2f} p95_ms_per_5k_chars={p95:.2f} worst_hostile_s_per_200kb={worst:.2f}"
          f" calibration_ms={cal:.1f}")


if __name__ == "__main__":
    main()
