"""Embedded social posts: a paragraph ending "— Name (@handle) October 28, 2024".

The body is the author's statement (kind `post`); a trailing link such as
"pic.twitter.com/…" or "https://t.co/…" is not part of what they wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_POST_RE = re.compile(
    r"(?P<body>[^\n<>]*?\S)"
    r"(?P<links>(?:\s+(?:pic\.twitter\.com/\S+|https?://\S+))*)"
    r"(?:\s+SIGN UP FOR OUR NEWSLETTER)?"
    r"\s+[—–―-]{1,2}\s*(?P<name>[^\n()—–]{1,80}?)\s*\((?P<handle>@\w{1,30})\)\s*"
    r"(?P<date>(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s+\d{4}|\d{1,2}\s+[A-Z][a-z]{2,8}\s+\d{4}))"
)


@dataclass(frozen=True, slots=True)
class Post:
    start: int
    end: int
    author: str
    handle: str


def find_posts(text: str) -> list[Post]:
    if "(@" not in text:
        return []
    out: list[Post] = []
    for m in _POST_RE.finditer(text):
        s, e = m.span("body")
        # the body starts at the paragraph (or a tag such as <tweet ...>) boundary
        while s < e and text[s] in " \t\xa0.":
            s += 1
        if e > s:
            out.append(Post(s, e, " ".join(m.group("name").split()), m.group("handle")))
    return out
