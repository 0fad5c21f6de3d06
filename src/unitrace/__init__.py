"""unitrace: unit-level serialization and track-and-trace for regulated products."""

__version__ = "0.1.0"
