"""CPU time of the quote finder per corpus page, as a pool worker meets the pages.

The pages are the article pages `bench/ingest.py --site corpus` serves (`sitegen` over
../shared/corpus), their text and title as our extractor takes them (~2,400 characters). Each
child process builds the word tables on a sentence of our own (as `warm_up` does), then runs
`quotes_of` once over every page, CPU time: the figure `bench/ingest.py`'s step timing gives for
"quotes", over more pages (400 by default; a second pass, with the caches filled by the first, is
printed beside it). With `--before DIR` (another checkout, e.g. a worktree of main) the two run
interleaved, ABBA, on the same pages, each child printing the calibration of `bench/quotes.py`.

    python bench/quotes_pages.py
    python bench/quotes_pages.py --before ../main --rounds 3

Last line: ms_per_page=<x> [before_ms_per_page=<y> ratio=<x/y>] calibration_ms=<c>
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def build_pages(count: int) -> list[tuple[str, str | None]]:
    """(text, title) of the first `count` corpus pages, extracted as ingestion does."""
    os.environ["SITEGEN_CORPUS"] = str(CORPUS)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import sitegen

    from app.pipeline.extract import extract_page

    sitegen.CORPUS = str(CORPUS)
    pages = []
    for n in range(count):
        f, e = divmod(n, 20)
        page = extract_page(sitegen.page(f, e, "http://127.0.0.1"), f"http://127.0.0.1/a/{f}/{e}")
        if page is not None:
            pages.append((page.text or "", page.title))
    return pages


def child(checkout: Path, pages_file: Path) -> None:
    """In a fresh process: the pages' CPU ms each, first and second pass, and the calibration."""
    sys.path.insert(0, str(checkout))
    from app.pipeline.analyse import quotes_of

    # bench/quotes.py puts this checkout first on the path and imports `app`: imported after
    # the checkout's own (already in sys.modules), it times that one
    sys.path.insert(0, str(ROOT / "bench"))
    from quotes import calibration_ms

    assert Path(sys.modules["app"].__file__ or "").resolve().parents[1] == checkout.resolve()
    pages = pickle.loads(pages_file.read_bytes())
    quotes_of("Port director Jane Roe of North Harbour said on Monday that the delay was “entirely "
              "avoidable”, the Harbour Board said.", "Harbour Board USD")
    cal = calibration_ms()
    passes = []
    for _ in range(2):
        started = time.process_time()
        for text, title in pages:
            quotes_of(text, title)
        passes.append((time.process_time() - started) * 1000 / len(pages))
    cal = (cal + calibration_ms()) / 2
    print(f"{passes[0]:.4f} {passes[1]:.4f} {cal:.3f}")


def run(checkout: Path, pages_file: Path) -> tuple[float, float, float]:
    out = subprocess.run([sys.executable, __file__, "--child", str(checkout), "--pages-file", str(pages_file)],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds (each runs every checkout twice)")
    parser.add_argument("--before", type=Path, help="another checkout to run interleaved on the same pages")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pages-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.pages_file)
        return
    with tempfile.TemporaryDirectory() as tmp:
        pages_file = Path(tmp) / "pages.pickle"
        pages = build_pages(args.pages)
        pages_file.write_bytes(pickle.dumps(pages))
        print(f"{len(pages)} pages, mean {sum(len(t) for t, _ in pages) / len(pages):.0f} characters of text",
              flush=True)
        order = [ROOT, args.before, args.before, ROOT] if args.before else [ROOT, ROOT]
        got: dict[Path, list[tuple[float, float, float]]] = {}
        for _ in range(args.rounds):
            for checkout in order:
                first, second, cal = run(checkout, pages_file)
                got.setdefault(checkout, []).append((first, second, cal))
                print(f"{checkout}: first pass {first:.3f} ms/page, second {second:.3f}, calibration {cal:.2f} ms",
                      flush=True)
    cal = statistics.median(c for runs in got.values() for _, _, c in runs)
    mine = statistics.median(f for f, _, _ in got[ROOT])
    line = f"ms_per_page={mine:.3f}"
    if args.before:
        before = statistics.median(f for f, _, _ in got[args.before])
        line += f" before_ms_per_page={before:.3f} ratio={mine / before:.3f}"
    print(f"{line} calibration_ms={cal:.2f}")


if __name__ == "__main__":
    main()
