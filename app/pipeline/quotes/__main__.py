"""python -m app.pipeline.quotes [--jsonl] FILE...: print the quotes of each file."""

from __future__ import annotations

import json
import sys

from . import extract_files


def main(argv: list[str]) -> int:
    jsonl = "--jsonl" in argv
    paths = [a for a in argv if a != "--jsonl"]
    if not paths:
        print("usage: python -m app.pipeline.quotes [--jsonl] FILE...", file=sys.stderr)
        return 2
    for item in extract_files(paths):
        if jsonl:
            print(json.dumps(item, ensure_ascii=False))
        else:
            print(json.dumps(item, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
