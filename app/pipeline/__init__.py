"""Pipeline stages in order: poll, fetch, extract, dedup, quotes, store, index, notify."""
