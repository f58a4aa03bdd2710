"""interview-deck: a YAML question bank in, a deterministic Anki package out."""

__version__ = "0.8.0"
