"""A running Anki, through the AnkiConnect add-on: ``push`` and ``pull --from-anki``."""
