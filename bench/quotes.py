"""Benchmark find_quotes on 5,000-character article texts.

Uses ../shared/corpus (PolNeAR and news-text articles) when present, else text built from
our own sentences. Last line: median_ms_per_5k_chars=<x> p95_ms_per_5k_chars=<y>.
"""

from __future__ import annotations

import statistics
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


def main() -> None:
    texts = samples()
    for t in texts[:20]:  # warm up regex caches
        find_quotes(t)
    times: list[float] = []
    n_quotes = 0
    for t in texts:
        t0 = time.perf_counter()
        n_quotes += len(find_quotes(t))
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    med = statistics.median(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"texts={len(texts)} chars_each={CHUNK} quotes={n_quotes} source={'shared corpus' if SHARED.is_dir() else 'generated'}")
    print(f"min={times[0]:.2f} ms  median={med:.2f} ms  p95={p95:.2f} ms  max={times[-1]:.2f} ms")
    print(f"median_ms_per_5k_chars={med:.2f} p95_ms_per_5k_chars={p95:.2f}")


if __name__ == "__main__":
    main()
