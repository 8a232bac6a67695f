"""Files -> articles -> chunks -> store: the index kept exactly in sync with article files (Chroma + a SQLite catalog)."""
