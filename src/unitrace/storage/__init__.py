"""Storage: the only place SQL lives (SQLAlchemy Core tables, queries, migrations)."""
