"""Embedded social posts: a paragraph ending "— Name (@handle) October 28, 2024".

The body is the author's statement (kind `post`); a trailing link such as
"pic.twitter.com/…" or "https://t.co/…" is not part of what they wrote.

The "(@handle) date" signature is found first and the line is read back from it, so a long
line with no post costs one scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DATE = r"(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s+\d{4}|\d{1,2}\s+[A-Z][a-z]{2,8}\s+\d{4})"
_SIGNATURE_RE = re.compile(r"\((?P<handle>@\w{1,30})\)[ \t\xa0]*" + _DATE)
# "… — Jane Roe " right before the signature (the name is short; a post is one line)
_BYLINE_RE = re.compile(r"\s+[—–―-]{1,2}\s*(?P<name>[^\n()—–]{1,80}?)\s*$")
_LINK_RE = re.compile(r"(?:pic\.twitter\.com/\S+|https?://\S+)$")
_NEWSLETTER = "SIGN UP FOR OUR NEWSLETTER"
_MAX_LINE = 4000


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
    for sig in _SIGNATURE_RE.finditer(text):
        line_start = max(text.rfind("\n", 0, sig.start()) + 1, sig.start() - _MAX_LINE)
        head = text[line_start:sig.start()]
        by = _BYLINE_RE.search(head, max(0, len(head) - 90))
        if by is None:
            continue
        body = head[:by.start()].rstrip()
        if body.endswith(_NEWSLETTER):
            body = body[:-len(_NEWSLETTER)].rstrip()
        while True:  # trailing links are not part of the statement
            words = body.rsplit(None, 1)
            if len(words) == 2 and _LINK_RE.match(words[1]):
                body = words[0].rstrip()
                continue
            break
        # the body starts at the paragraph (or a tag such as <tweet ...>) boundary
        s = line_start + max(head.rfind(">", 0, len(body)) + 1, 0)
        e = line_start + len(body)
        while s < e and text[s] in " \t\xa0.":
            s += 1
        if e > s:
            out.append(Post(s, e, " ".join(by.group("name").split()), sig.group("handle")))
    return out
