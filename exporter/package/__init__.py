"""Role files and the build history -> a deterministic .apkg, written into a scratch folder
as the files stream through (and the next history)."""
