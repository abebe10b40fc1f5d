"""A parsed query (app.domain.query) as each database's full-text engine reads it: an FTS5
MATCH expression for SQLite, a tsquery for PostgreSQL. Pure string building, no I/O.
"""

from __future__ import annotations

from app.domain.query import Query, Term, lexeme

# ---------------------------------------------------------------- SQLite FTS5
FTS_EXACT_COLUMNS = "{title body}"
FTS_STEM_COLUMN = "stems"


def fts5_string(text: str) -> str:
    """An FTS5 string literal: double quotes, inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def fts5_term(term: Term) -> str:
    """One term as an FTS5 expression over the exact columns (and the stem keys if stemmed)."""
    exact = f"{FTS_EXACT_COLUMNS} : {fts5_string(' '.join(term.tokens))}" + (" *" if term.prefix else "")
    if term.stemmed:
        return f"({exact} OR {FTS_STEM_COLUMN} : {fts5_string(term.key)})"
    return exact


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression. Every token is a quoted string built from analysed tokens (letters
    and digits only), so no user text ever reaches FTS5 syntax; pass the result as a parameter."""
    clauses = ["(" + " OR ".join(fts5_term(t) for t in c.alternatives) + ")" for c in query.required]
    expression = "(" + " AND ".join(clauses) + ")"
    for term in query.excluded:
        expression += f" NOT {fts5_term(term)}"
    return expression


# ---------------------------------------------------------------- PostgreSQL tsquery
# Weights in the stored tsvector: A title, B body, D stem keys (app.domain.query.to_tsvector).
def _ts_term(term: Term) -> str:
    parts = [lexeme(tok) + ":AB" for tok in term.tokens]
    if term.prefix:
        parts[-1] = lexeme(term.tokens[-1]) + ":*AB"
    exact = parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"
    if term.stemmed:
        return f"({exact} | {lexeme(term.key)}:D)"
    return exact


def to_tsquery(query: Query) -> str:
    """A tsquery in PostgreSQL's input syntax, to bind as a parameter and cast (``CAST(:q AS
    tsquery)``): no text-search configuration runs, lexemes are our analysed tokens verbatim."""
    clauses = ["(" + " | ".join(_ts_term(t) for t in c.alternatives) + ")" for c in query.required]
    expression = " & ".join(clauses)
    for term in query.excluded:
        expression += f" & !{_ts_term(term)}"
    return expression
