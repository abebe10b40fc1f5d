"""news-ingest: poll feeds, fetch and extract articles, find quoted statements, search and notify."""

__version__ = "0.1.0"
