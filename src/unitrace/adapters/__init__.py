"""Adapters: I/O other than the database, behind small interfaces (files, clock)."""
