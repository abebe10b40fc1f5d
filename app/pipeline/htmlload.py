"""A page's bytes to an lxml tree, as trafilatura's `load_html` makes it, for less CPU. Pure.

    load_page(html) -> HtmlElement | None

`load_html` deletes the characters XML forbids (C0 controls other than tab, LF and CR; U+FFFE,
U+FFFF) with one regex over the whole page before parsing: on the ~100 KB pages of the corpus
site that scan took 0.30 ms, more than lxml's parse of the page (0.26 ms). Nearly every page
has none of them, and 31 substring tests (C loops, `str.__contains__`) say so in 0.04 ms. A page
that has one takes `load_html` itself; one that has none takes the same steps without the scan
(its other repairs, the parse, its fallbacks and its rejection test), so the tree is the one
`load_html` gives (tests/test_htmlload.py compares them, markup and text).
"""

from __future__ import annotations

import logging

from lxml.html import HtmlElement, fromstring
from trafilatura.utils import (
    DOCTYPE_TAG,
    FAULTY_HTML,
    HTML_PARSER,
    decode_file,
    fromstring_bytes,
    is_dubious_html,
    load_html,
)

log = logging.getLogger(__name__)

# What trafilatura's INVALID_XML_CHARS matches, one character each.
FORBIDDEN = (*(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))), "\ufffe", "\uffff")


def load_page(html: bytes | str) -> HtmlElement | None:
    """The tree of `html` (bytes: decompressed and decoded as trafilatura does), or None when
    it is not HTML. Raises what `load_html` raises."""
    text = decode_file(html)
    if any(char in text for char in FORBIDDEN):
        return load_html(text)
    # trafilatura.utils.load_html from here on, with repair_faulty_html less its character filter
    beginning = text[:50].lower()
    dubious = is_dubious_html(beginning)
    if "doctype" in beginning:  # libxml2 and a self-closing doctype (lxml bug 1955915)
        first, _, rest = text.partition("\n")
        text = DOCTYPE_TAG.sub("", first, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:  # a self-closing <html/> in the first lines
        if "<html" in line and line.endswith("/>"):
            text = FAULTY_HTML.sub(r"\1>", text, count=1)
            break
    tree: HtmlElement | None = None
    as_bytes = False
    try:
        tree = fromstring(text, parser=HTML_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, as_bytes = fromstring_bytes(text), True
    except Exception as exc:  # lxml's zoo, as load_html: logged, then the bytes are tried
        log.debug("extract: lxml could not parse the page", extra={"error": repr(exc)})
    if (tree is None or len(tree) < 1) and not as_bytes:
        tree = fromstring_bytes(text)
    if tree is not None and dubious and len(tree) < 2:  # not HTML at all
        return None
    return tree
