"""Services: one function per use case, called by the API and the CLI; they flush, never commit."""
