"""The embedded lease stores, one process and no server to run: memory, and SQLite behind a journal."""
